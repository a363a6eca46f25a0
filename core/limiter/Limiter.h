#pragma once

#include "CostTable.h"
#include "IdentityTypes.h"
#include "LimitStore.h"

#include <memory>

namespace sluice {

class CounterFamily;
class MetricsRegistry;

// Who a request counts for: an API key and its user (limits already resolved through tiers
// and defaults), or an anonymous client IP.
struct LimitSubject
{
    QByteArray userId;  // decimal ids, as in Principal::userIdText / keyIdText
    QByteArray keyId;
    QByteArray tier;  // the key's effective tier (X-Quota-Tier, metrics)
    EffectiveLimits userLimits;
    EffectiveLimits keyLimits;
    // The key's limits on the request's model: its first per-model entry matching the model
    // (a name or glob), counted per key and pattern. Empty pattern: none apply.
    QByteArray modelPattern;
    EffectiveLimits modelLimits;
    // Shadow mode: the limits are computed and would-be denials counted, nothing is denied.
    bool shadow = false;
};

// The gateway's rate limiter: turns a subject and a route into the rules that apply, asks the
// store for an all-or-nothing decision, counts it, and settles token reservations when the
// answer's real usage is known. Shared by every worker; thread-safe as its store is.
class Limiter
{
public:
    Limiter(std::unique_ptr<LimitStore> store, CostTable costs, MetricsRegistry &metrics);
    ~Limiter();

    // Every rule of `subject` (key, its model entry, user: rate with burst, per minute, tokens
    // per minute, concurrency, monthly requests and tokens); token rules only when
    // `countsTokens`.
    static std::vector<LimitRule> rulesFor(const LimitSubject &subject, bool countsTokens);
    LimitRequest requestFor(const LimitSubject &subject, QByteArrayView path,
                            double tokenEstimate) const;

    // The store key of one of a principal's limits: "{k:17}:rps" (one Redis hash tag per
    // principal, so its keys share a cluster slot).
    static QByteArray ruleKey(LimitScope scope, const QByteArray &id, QByteArrayView suffix);
    // A key's limit on one model pattern lives under the key's hash tag:
    // "{k:17}:model:gpt-4o:tpm".
    static QByteArray modelRuleKey(const QByteArray &keyId, const QByteArray &pattern,
                                   QByteArrayView suffix);
    // The anonymous tier's limits on one client address (requests without a valid key):
    // "{i:203.0.113.7}:rpm". Rate, per-minute and monthly request rules only.
    static std::vector<LimitRule> ipRules(const QByteArray &address, const EffectiveLimits &l);
    // Month-to-date use of a user or key from the ledger (requests already scaled by route
    // cost), so that monthly quotas survive restarts.
    void seedMonthly(LimitScope scope, const QByteArray &id, double requests, double tokens);
    void seedMonthlyModel(const QByteArray &keyId, const QByteArray &pattern, double requests,
                          double tokens);

    // `done` runs exactly once on the calling thread, possibly before check() returns. A
    // denial counts as a hit, or as a shadow hit when the caller lets it through anyway.
    void check(const LimitRequest &request, const QByteArray &tier, LimitStore::Done done,
               bool shadow = false);
    // The request ended: its in-flight slots are given back. Call once per allowed decision.
    void release(const LimitDecision &decision);
    // The request ended having used `actualTokens` (0 when the upstream did not accept it).
    void settle(const LimitDecision &decision, double actualTokens);

    LimitStore &store() { return *m_store; }
    const CostTable &costs() const { return m_costs; }

private:
    void seedMonthlyRules(LimitScope scope, const std::function<QByteArray(const char *)> &keyOf,
                          double requests, double tokens);

    std::unique_ptr<LimitStore> m_store;
    CostTable m_costs;
    CounterFamily &m_checks;
    CounterFamily &m_hits;
    CounterFamily &m_shadowHits;
};

}  // namespace sluice
