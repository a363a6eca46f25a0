#pragma once

#include "HttpResponder.h"
#include "UpstreamConfig.h"
#include "UpstreamGuard.h"

#include <QList>
#include <memory>

namespace sluice {

class Limiter;
class QuotaAlertMonitor;
class UpstreamTraffic;
class UsageLedger;
class ViolationLog;
struct Principal;
struct ProxyMetrics;

// Forwards an authenticated /v1 request to the upstream chosen by the route's API family and
// the request's model, streams the answer back as it arrives, reads the token usage from the
// answer, and records the request in the ledger. Shared by every worker (read-only after
// construction); the per-request state lives in a ProxyExchange on the worker's thread.
class ProxyHandler
{
public:
    struct Options
    {
        int maxAttempts = 3;  // upstream attempts per request (failover)
        int backoffMs = 50;   // base of the jittered pause between attempts
    };
    ProxyHandler(QList<UpstreamConfig> upstreams, ProxyMetrics &metrics, UsageLedger *ledger,
                 UpstreamTraffic *traffic, Options options);
    ~ProxyHandler();

    // POST routes with a JSON body naming the model.
    void forward(HttpResponder responder, const Principal &principal) const;
    // GET /v1/models: the answer of the family's first upstream.
    void listModels(HttpResponder responder, const Principal &principal) const;

    // Upstreams serving `model` on an Anthropic or OpenAI route, best first; every upstream of
    // the family when `model` is empty.
    QList<const UpstreamConfig *> candidates(bool anthropic, const QString &model) const;

    const QList<UpstreamConfig> &upstreams() const { return m_upstreams; }
    ProxyMetrics &metrics() const { return m_metrics; }
    UsageLedger *ledger() const { return m_ledger; }
    UpstreamTraffic *traffic() const { return m_traffic; }
    const Options &options() const { return m_options; }
    // Checked before every forwarded request; none = no rate limits (unit tests).
    void setLimiter(Limiter *limiter);
    Limiter *limiter() const { return m_limiter; }
    UpstreamGuard &upstreamGuard() const { return *m_guard; }
    // Where denials are recorded, and who watches monthly quotas; none = neither (unit tests).
    void setViolationLog(ViolationLog *violations) { m_violations = violations; }
    ViolationLog *violationLog() const { return m_violations; }
    void setQuotaAlerts(QuotaAlertMonitor *alerts) { m_quotaAlerts = alerts; }
    QuotaAlertMonitor *quotaAlerts() const { return m_quotaAlerts; }

private:
    QList<UpstreamConfig> m_upstreams;
    ProxyMetrics &m_metrics;
    UsageLedger *m_ledger;
    UpstreamTraffic *m_traffic;
    Options m_options;
    std::unique_ptr<UpstreamGuard> m_guard;
    Limiter *m_limiter = nullptr;
    ViolationLog *m_violations = nullptr;
    QuotaAlertMonitor *m_quotaAlerts = nullptr;
};

}  // namespace sluice
