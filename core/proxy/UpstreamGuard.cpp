#include "UpstreamGuard.h"

#include "CounterFamily.h"
#include "HttpHeaders.h"
#include "Limiter.h"
#include "LogCategories.h"
#include "UpstreamRetryAfter.h"

#include <QDateTime>

namespace sluice {

UpstreamGuard::UpstreamGuard(const QList<UpstreamConfig> &upstreams, CounterFamily &throttled)
    : m_upstreams(upstreams),
      m_until(new std::atomic<qint64>[size_t(std::max<qsizetype>(1, upstreams.size()))]),
      m_throttled(throttled)
{
    for (qsizetype i = 0; i < upstreams.size(); ++i)
        m_until[size_t(i)].store(0, std::memory_order_relaxed);
}

UpstreamGuard::~UpstreamGuard() = default;

std::atomic<qint64> &UpstreamGuard::untilOf(const UpstreamConfig &upstream) const
{
    const qsizetype i = &upstream - m_upstreams.constData();
    Q_ASSERT(i >= 0 && i < m_upstreams.size());
    return m_until[size_t(i)];
}

std::vector<LimitRule> UpstreamGuard::rulesFor(const UpstreamConfig &u, bool countsTokens)
{
    std::vector<LimitRule> rules;
    if (u.requestsPerMinute <= 0 && (!countsTokens || u.tokensPerMinute <= 0))
        return rules;  // the common case: no quota declared, nothing to build per request
    const QByteArray id = u.name.toUtf8();
    const auto add = [&](LimitKind kind, const char *suffix, qint64 limit) {
        LimitRule r;
        r.key = Limiter::ruleKey(LimitScope::Upstream, id, suffix);
        r.name = "upstream-" + QByteArray(suffix);
        r.scope = LimitScope::Upstream;
        r.kind = kind;
        r.limit = double(limit);
        rules.push_back(std::move(r));
    };
    if (u.requestsPerMinute > 0)
        add(LimitKind::RequestsPerMinute, "rpm", u.requestsPerMinute);
    if (countsTokens && u.tokensPerMinute > 0)
        add(LimitKind::TokensPerMinute, "tpm", u.tokensPerMinute);
    return rules;
}

qint64 UpstreamGuard::coolingMs(const UpstreamConfig &upstream, qint64 nowMs) const
{
    return std::max<qint64>(0, untilOf(upstream).load(std::memory_order_relaxed) - nowMs);
}

qint64 UpstreamGuard::rateLimited(const UpstreamConfig &upstream, const HttpHeaders &headers)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 wait = UpstreamRetryAfter::waitMs(headers, now);
    std::atomic<qint64> &until = untilOf(upstream);
    qint64 seen = until.load(std::memory_order_relaxed);
    while (seen < now + wait && !until.compare_exchange_weak(seen, now + wait))
        ;
    qCInfo(lcGateway).noquote() << "upstream" << upstream.name << "answered 429; resting it for"
                                << wait << "ms";
    return wait;
}

void UpstreamGuard::admit(const UpstreamConfig &upstream, double tokenEstimate, Done done)
{
    Admission a;
    if (const qint64 cooling = coolingMs(upstream, QDateTime::currentMSecsSinceEpoch())) {
        m_throttled.inc({upstream.name.toUtf8(), "cooldown"});
        a.allowed = false;
        a.waitMs = cooling;
        a.reason = "cooldown";
        return done(std::move(a));
    }
    LimitRequest request;
    request.rules = rulesFor(upstream, tokenEstimate > 0);
    request.tokenEstimate = tokenEstimate;
    if (!m_limiter || request.rules.empty())
        return done(std::move(a));
    const QByteArray name = upstream.name.toUtf8();
    m_limiter->store().decide(request, [this, name, done = std::move(done)](LimitDecision d) {
        Admission a;
        // No verdict (the shared store is down and fails closed): the client's own check
        // already answered for that; the upstream is not held back by it.
        if (d.unavailable || (!d.allowed && d.denied < 0))
            return done(std::move(a));
        if (!d.allowed) {
            m_throttled.inc({name, "limit"});
            a.allowed = false;
            a.waitMs = (d.retryAfterUs() + 999) / 1000;
            a.reason = "limit";
            return done(std::move(a));
        }
        a.reservation = std::move(d);
        done(std::move(a));
    });
}

void UpstreamGuard::settle(const Admission &admission, double actualTokens)
{
    if (m_limiter && admission.reservation)
        m_limiter->settle(*admission.reservation, actualTokens);
}

}  // namespace sluice
