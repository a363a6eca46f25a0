#include "Limiter.h"

#include "CounterFamily.h"
#include "MetricsRegistry.h"

#include <mutex>

namespace sluice {
namespace {

// "key-rps", "user-monthly-tokens"...: made once per scope and kind, then handed out as raw
// views of that text (no allocation, no shared reference count for the workers to contend on)
// instead of being concatenated for each request.
QByteArray ruleName(LimitScope scope, LimitKind kind, const char *suffix)
{
    constexpr int kScopes = int(LimitScope::Upstream) + 1;
    constexpr int kKinds = int(LimitKind::Concurrency) + 1;
    struct Table
    {
        QByteArray names[kScopes][kKinds];
        std::once_flag filled[kScopes][kKinds];
    };
    static Table table;
    const int s = int(scope);
    const int k = int(kind);
    std::call_once(table.filled[s][k], [&] {
        table.names[s][k] = QByteArray(LimitRule::scopeName(scope)) + '-' + suffix;
    });
    const QByteArray &name = table.names[s][k];
    return QByteArray::fromRawData(name.constData(), name.size());
}

// `keyOf` turns a suffix ("rps") into the store key of the rule.
template <typename KeyOf>
void addRules(std::vector<LimitRule> &out, LimitScope scope, const KeyOf &keyOf,
              const EffectiveLimits &l, bool countsTokens)
{
    const auto add = [&](LimitKind kind, const char *suffix, double limit, double burst = 0) {
        LimitRule r;
        r.key = keyOf(suffix);
        r.name = ruleName(scope, kind, suffix);
        r.scope = scope;
        r.kind = kind;
        r.limit = limit;
        r.burst = burst;
        out.push_back(std::move(r));
    };
    if (l.requestsPerSecond > 0) {
        // No burst configured: one second's worth at once.
        const double burst = l.burst > 0 ? double(l.burst) : std::max(1.0, l.requestsPerSecond);
        add(LimitKind::RequestRate, "rps", l.requestsPerSecond, burst);
    }
    if (l.requestsPerMinute > 0)
        add(LimitKind::RequestsPerMinute, "rpm", double(l.requestsPerMinute));
    if (l.monthlyRequests > 0)
        add(LimitKind::MonthlyRequests, "monthly-requests", double(l.monthlyRequests));
    if (countsTokens && l.tokensPerMinute > 0)
        add(LimitKind::TokensPerMinute, "tpm", double(l.tokensPerMinute));
    if (l.concurrentRequests > 0)
        add(LimitKind::Concurrency, "concurrency", double(l.concurrentRequests));
    if (countsTokens && l.monthlyTokens > 0)
        add(LimitKind::MonthlyTokens, "monthly-tokens", double(l.monthlyTokens));
}

}  // namespace

Limiter::Limiter(std::unique_ptr<LimitStore> store, CostTable costs, MetricsRegistry &metrics)
    : m_store(std::move(store)),
      m_costs(std::move(costs)),
      m_checks(metrics.counter("gateway_rate_limit_checks_total",
                               "Rate-limit decisions, by the store that made them.", {"store"})),
      m_hits(metrics.counter("gateway_rate_limit_hits_total",
                             "Requests denied by a rate limit, by the kind of limit "
                             "(user, key, model, ip, tokens, monthly) and the key's tier.",
                             {"type", "tier"})),
      m_shadowHits(metrics.counter("gateway_rate_limit_shadow_hits_total",
                                   "Requests a limit in shadow mode would have denied (they were "
                                   "let through), by the kind of limit and the key's tier.",
                                   {"type", "tier"}))
{
    LimitStore *s = m_store.get();
    metrics.addCallbackGauge(
        "gateway_rate_limit_keys_active", "Rate-limit state entries held by this gateway's store.",
        {}, [s] {
            return QList<MetricsRegistry::Sample>{{{}, double(s->activeKeys())}};
        });
}

Limiter::~Limiter() = default;

QByteArray Limiter::ruleKey(LimitScope scope, const QByteArray &id, QByteArrayView suffix)
{
    QByteArray key;
    key.reserve(id.size() + suffix.size() + 5);
    key.append('{').append(LimitRule::scopeName(scope)[0]).append(':').append(id).append("}:");
    return key.append(suffix);
}

QByteArray Limiter::modelRuleKey(const QByteArray &keyId, const QByteArray &pattern,
                                 QByteArrayView suffix)
{
    return ruleKey(LimitScope::Key, keyId,
                   QByteArray("model:").append(pattern).append(':').append(suffix));
}

std::vector<LimitRule> Limiter::ipRules(const QByteArray &address, const EffectiveLimits &l)
{
    EffectiveLimits requestsOnly;
    requestsOnly.requestsPerSecond = l.requestsPerSecond;
    requestsOnly.burst = l.burst;
    requestsOnly.requestsPerMinute = l.requestsPerMinute;
    requestsOnly.monthlyRequests = l.monthlyRequests;
    std::vector<LimitRule> rules;
    addRules(
        rules, LimitScope::Ip,
        [&](const char *suffix) { return ruleKey(LimitScope::Ip, address, suffix); }, requestsOnly,
        false);
    return rules;
}

void Limiter::seedMonthly(LimitScope scope, const QByteArray &id, double requests, double tokens)
{
    seedMonthlyRules(
        scope, [&](const char *suffix) { return ruleKey(scope, id, suffix); }, requests, tokens);
}

void Limiter::seedMonthlyModel(const QByteArray &keyId, const QByteArray &pattern, double requests,
                               double tokens)
{
    seedMonthlyRules(
        LimitScope::Model, [&](const char *suffix) { return modelRuleKey(keyId, pattern, suffix); },
        requests, tokens);
}

void Limiter::seedMonthlyRules(LimitScope scope,
                               const std::function<QByteArray(const char *)> &keyOf,
                               double requests, double tokens)
{
    LimitRule rule;
    rule.scope = scope;
    if (requests > 0) {
        rule.kind = LimitKind::MonthlyRequests;
        rule.key = keyOf("monthly-requests");
        m_store->seedMonthly(rule, requests);
    }
    if (tokens > 0) {
        rule.kind = LimitKind::MonthlyTokens;
        rule.key = keyOf("monthly-tokens");
        m_store->seedMonthly(rule, tokens);
    }
}

std::vector<LimitRule> Limiter::rulesFor(const LimitSubject &subject, bool countsTokens)
{
    std::vector<LimitRule> rules;
    rules.reserve(10);
    // Key first: when a key and its user deny alike, the answer names the key.
    addRules(
        rules, LimitScope::Key,
        [&](const char *suffix) { return ruleKey(LimitScope::Key, subject.keyId, suffix); },
        subject.keyLimits, countsTokens);
    if (!subject.modelPattern.isEmpty()) {
        addRules(
            rules, LimitScope::Model,
            [&](const char *suffix) {
                return modelRuleKey(subject.keyId, subject.modelPattern, suffix);
            },
            subject.modelLimits, countsTokens);
    }
    addRules(
        rules, LimitScope::User,
        [&](const char *suffix) { return ruleKey(LimitScope::User, subject.userId, suffix); },
        subject.userLimits, countsTokens);
    return rules;
}

LimitRequest Limiter::requestFor(const LimitSubject &subject, QByteArrayView path,
                                 double tokenEstimate) const
{
    LimitRequest r;
    r.rules = rulesFor(subject, tokenEstimate > 0);
    r.cost = m_costs.costOf(path);
    r.tokenEstimate = tokenEstimate;
    return r;
}

void Limiter::check(const LimitRequest &request, const QByteArray &tier, LimitStore::Done done,
                    bool shadow)
{
    m_store->decide(request, [this, tier, shadow, done = std::move(done)](LimitDecision d) {
        if (!d.unavailable)
            m_checks.inc({d.store});
        if (!d.allowed && d.denied >= 0)
            (shadow ? m_shadowHits : m_hits).inc({d.rules[size_t(d.denied)].typeName(), tier});
        done(std::move(d));
    });
}

void Limiter::release(const LimitDecision &decision)
{
    if (!decision.allowed)
        return;
    std::vector<LimitRule> rules;
    for (const LimitRule &r : decision.rules) {
        if (r.kind == LimitKind::Concurrency)
            rules.push_back(r);
    }
    if (!rules.empty())
        m_store->release(rules, decision.store);
}

void Limiter::settle(const LimitDecision &decision, double actualTokens)
{
    if (!decision.allowed || decision.tokenEstimate == actualTokens)
        return;
    LimitSettlement s;
    for (const LimitRule &r : decision.rules) {
        if (r.countsTokens())
            s.rules.push_back(r);
    }
    if (s.rules.empty())
        return;
    s.tokenDelta = actualTokens - decision.tokenEstimate;
    s.store = decision.store;
    m_store->settle(s);
}

}  // namespace sluice
