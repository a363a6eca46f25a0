#pragma once

#include "LimitDecision.h"
#include "UpstreamConfig.h"

#include <QList>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace sluice {

class CounterFamily;
class HttpHeaders;
class Limiter;

// Keeps the gateway within each upstream's own quota (the provider key's): the requests and
// tokens per minute an [upstream.NAME] declares, counted in the limit store so that gateways
// sharing Redis share them too, and the pause an upstream asked for when it answered 429.
// Owned by the ProxyHandler, shared by every worker; thread-safe.
class UpstreamGuard
{
public:
    struct Admission
    {
        bool allowed = true;
        qint64 waitMs = 0;                         // refused: until the upstream may take it
        const char *reason = "";                   // refused: "limit" | "cooldown"
        std::optional<LimitDecision> reservation;  // taken on the upstream's limits
    };
    using Done = std::function<void(Admission)>;

    // `upstreams` must outlive the guard and never move (the handler's own list).
    UpstreamGuard(const QList<UpstreamConfig> &upstreams, CounterFamily &throttled);
    ~UpstreamGuard();

    // No limiter: only cooldowns apply (unit tests).
    void setLimiter(Limiter *limiter) { m_limiter = limiter; }

    // Whether `upstream` may take a request of `tokenEstimate` tokens now; a request it may
    // take is counted on its limits. `done` runs once on the calling thread, possibly before
    // admit() returns.
    void admit(const UpstreamConfig &upstream, double tokenEstimate, Done done);
    // The request ended having used `actualTokens` upstream (0 when it was not accepted).
    void settle(const Admission &admission, double actualTokens);

    // The upstream answered 429: it gets no request until the wait it asked for is over.
    // Returns that wait.
    qint64 rateLimited(const UpstreamConfig &upstream, const HttpHeaders &headers);
    // Milliseconds `upstream` still rests after a 429; 0 when it takes requests.
    qint64 coolingMs(const UpstreamConfig &upstream, qint64 nowMs) const;

    // The limit rules [upstream.NAME] declares: "{u:NAME}:rpm" and "{u:NAME}:tpm".
    static std::vector<LimitRule> rulesFor(const UpstreamConfig &upstream, bool countsTokens);

private:
    std::atomic<qint64> &untilOf(const UpstreamConfig &upstream) const;

    const QList<UpstreamConfig> &m_upstreams;
    std::unique_ptr<std::atomic<qint64>[]> m_until;  // epoch ms, per upstream (list order)
    CounterFamily &m_throttled;
    Limiter *m_limiter = nullptr;
};

}  // namespace sluice
