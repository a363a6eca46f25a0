#pragma once

#include "DatabaseConnection.h"
#include "RequestObserver.h"

namespace sluice {

class CounterFamily;
class GaugeFamily;
class HistogramFamily;
class MetricsRegistry;
class TrafficTail;

// The request-level metrics and the access log: the front end reports every request here.
// Runs on the worker threads; the registry shards per thread, so nothing here takes a lock
// shared by all workers (the access log line is one locked write, as any logger's).
class GatewayMetrics : public RequestObserver
{
public:
    explicit GatewayMetrics(MetricsRegistry &registry, std::vector<double> durationBuckets);

    void requestStarted(QByteArrayView route) override;
    void requestFinished(const CompletedRequest &request) override;

    // Finished /v1 requests are also copied into `tail` (the dashboard's traffic table). Set it
    // before the workers start; it must outlive them.
    void setTrafficTail(TrafficTail *tail) { m_traffic = tail; }

    // For DatabaseConnection::setQueryObserver: query counters and durations per database.
    QueryObserver queryObserver();

    // Bounded label values: unknown methods become "other".
    static QByteArrayView methodLabel(QByteArrayView method);
    // The path with any API key in it cut to its display prefix; null when none is there.
    static QByteArray redactKeys(QByteArrayView path);
    // What the access log and the traffic tail show of a request target: the path without
    // the query string (it can carry secrets), keys redacted.
    static QByteArray displayPath(QByteArrayView target);

private:
    CounterFamily &m_requests;
    HistogramFamily &m_duration;
    GaugeFamily &m_inProgress;
    CounterFamily &m_dbQueries;
    HistogramFamily &m_dbDuration;
    TrafficTail *m_traffic = nullptr;
};

}  // namespace sluice
