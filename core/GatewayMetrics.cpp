#include "GatewayMetrics.h"

#include "LogCategories.h"
#include "LogSetup.h"
#include "MetricsRegistry.h"
#include "TrafficTail.h"

#include <QDateTime>

namespace sluice {

GatewayMetrics::GatewayMetrics(MetricsRegistry &registry, std::vector<double> durationBuckets)
    : m_requests(
          registry.counter("gateway_requests_total",
                           "HTTP requests answered, by route template, method and status code.",
                           {"route", "method", "code"})),
      m_duration(registry.histogram("gateway_request_duration_seconds",
                                    "Time from a request's arrival to the end of its answer.",
                                    {"route"}, durationBuckets)),
      m_inProgress(registry.gauge("gateway_requests_in_progress",
                                  "Requests received and not yet answered.", {"route"})),
      m_dbQueries(
          registry.counter("gateway_db_queries_total",
                           "Database statements run, by database role, operation and outcome.",
                           {"db", "operation", "outcome"})),
      m_dbDuration(registry.histogram("gateway_db_query_duration_seconds",
                                      "Database statement duration, by database role.", {"db"},
                                      durationBuckets))
{}

QByteArrayView GatewayMetrics::methodLabel(QByteArrayView method)
{
    static constexpr const char *known[] = {"GET",  "POST",    "PUT",  "DELETE",
                                            "HEAD", "OPTIONS", "PATCH"};
    for (const char *m : known) {
        if (method == m)
            return m;
    }
    return "other";
}

void GatewayMetrics::requestStarted(QByteArrayView route)
{
    m_inProgress.inc({route});
}

void GatewayMetrics::requestFinished(const CompletedRequest &r)
{
    char code[8];
    const int n = std::snprintf(code, sizeof code, "%d", r.status);
    m_requests.inc({r.route, methodLabel(r.method), QByteArrayView(code, n)});
    m_duration.observe({r.route}, r.seconds);
    m_inProgress.dec({r.route});

    const bool apiRequest = m_traffic && r.route.startsWith("/v1");
    const bool logged = lcAccess().isInfoEnabled();
    if (!apiRequest && !logged)
        return;
    // Never key material: ids only.
    const QByteArray path = displayPath(r.target);
    if (apiRequest) {
        m_traffic->record({QDateTime::currentMSecsSinceEpoch(), r.requestId.toByteArray(),
                           r.method.toByteArray(), r.route.toByteArray(), path, r.status, r.seconds,
                           r.userId.toByteArray(), r.keyId.toByteArray()});
    }
    if (!logged)
        return;
    QByteArray message;
    message.reserve(64 + path.size());
    message += r.method;
    message += ' ';
    message += path;
    message += ' ';
    message += QByteArrayView(code, n);
    LogSetup::writeStructured(
        "sluice.access", message,
        {{"method", r.method.toByteArray()},
         {"route", r.route.toByteArray()},
         {"path", path},
         {"status", QByteArray(code, n), true},
         {"duration_ms", QByteArray::number(r.seconds * 1000.0, 'f', 3), true},
         {"bytes", QByteArray::number(r.bytesOut), true},
         {"request_id", r.requestId.toByteArray()},
         {"client", r.peer.toByteArray()},
         {"user_id", r.userId.toByteArray()},
         {"key_id", r.keyId.toByteArray()}});
}

QByteArray GatewayMetrics::redactKeys(QByteArrayView path)
{
    // Someone pastes a whole key into a URL (GET /admin/v1/keys/sk-sluice-...): keep the
    // display prefix, drop the rest of that segment. Null when there is nothing to redact.
    static constexpr QByteArrayView marker("sk-sluice-");
    qsizetype at = path.indexOf(marker);
    if (at < 0)
        return {};
    QByteArray out;
    qsizetype from = 0;
    while (at >= 0) {
        const qsizetype keep = qMin(path.size(), at + marker.size() + 4);
        out += path.sliced(from, keep - from);
        qsizetype end = path.indexOf('/', keep);
        if (end < 0)
            end = path.size();
        if (end > keep)
            out += "...";
        from = end;
        at = path.indexOf(marker, from);
    }
    out += path.sliced(from);
    return out;
}

QByteArray GatewayMetrics::displayPath(QByteArrayView target)
{
    if (const qsizetype q = target.indexOf('?'); q >= 0)
        target = target.first(q);
    const QByteArray redacted = redactKeys(target);
    return redacted.isNull() ? target.toByteArray() : redacted;
}

QueryObserver GatewayMetrics::queryObserver()
{
    return [this](const QString &db, const QString &operation, bool ok, double seconds) {
        const QByteArray dbName = db.toUtf8();
        m_dbQueries.inc(
            {dbName, operation.toUtf8(), ok ? QByteArrayView("ok") : QByteArrayView("error")});
        m_dbDuration.observe({dbName}, seconds);
    };
}

}  // namespace sluice
