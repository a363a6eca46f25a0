#include "SeriesRecorder.h"

#include "MetricsRegistry.h"

#include <QDateTime>
#include <QJsonArray>

namespace sluice {

namespace {

constexpr qint64 DayMs = 24 * 3600 * 1000;

bool isApiRoute(const QByteArray &route)
{
    return route.startsWith("/v1");
}

double sumOf(const MetricsRegistry &metrics, const QByteArray &family)
{
    double sum = 0;
    if (const auto snapshot = metrics.collectFamily(family)) {
        for (const MetricSnapshot::Series &s : snapshot->series)
            sum += s.value;
    }
    return sum;
}

}  // namespace

SeriesRecorder::SeriesRecorder(MetricsRegistry &metrics, QObject *parent)
    : QObject(parent), m_metrics(metrics), m_ring(Capacity)
{
    qRegisterMetaType<sluice::SeriesPoint>();
    // Precise: a coarse timer may drift by 5 %, and each point stands for one second.
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this,
            [this] { sample(QDateTime::currentMSecsSinceEpoch()); });
}

SeriesRecorder::~SeriesRecorder() = default;

void SeriesRecorder::start()
{
    sample(QDateTime::currentMSecsSinceEpoch());  // the baseline
    m_timer.start();
}

MetricTotals SeriesRecorder::readTotals(const MetricsRegistry &metrics)
{
    MetricTotals totals;
    if (const auto requests = metrics.collectFamily("gateway_requests_total")) {
        const qsizetype route = requests->labelNames.indexOf("route");
        const qsizetype code = requests->labelNames.indexOf("code");
        for (const MetricSnapshot::Series &s : requests->series) {
            if (route < 0 || code < 0 || !isApiRoute(s.labelValues[route]))
                continue;
            totals.requests += s.value;
            if (s.labelValues[code] == "429")
                totals.rateLimited += s.value;
            else if (s.labelValues[code].startsWith('5'))
                totals.errors += s.value;
        }
    }
    if (const auto duration = metrics.collectFamily("gateway_request_duration_seconds")) {
        const qsizetype route = duration->labelNames.indexOf("route");
        totals.upperBounds = duration->upperBounds;
        totals.cumulativeCounts.assign(duration->upperBounds.size() + 1, 0.0);
        for (const MetricSnapshot::Series &s : duration->series) {
            if (route < 0 || !isApiRoute(s.labelValues[route]) ||
                s.cumulativeCounts.size() != totals.cumulativeCounts.size())
                continue;
            for (size_t i = 0; i < s.cumulativeCounts.size(); ++i)
                totals.cumulativeCounts[i] += double(s.cumulativeCounts[i]);
        }
    }
    totals.tokens = sumOf(metrics, "gateway_prompt_tokens_total") +
                    sumOf(metrics, "gateway_completion_tokens_total");
    return totals;
}

void SeriesRecorder::sample(qint64 nowMs)
{
    const MetricTotals totals = readTotals(m_metrics);
    const std::optional<SeriesPoint> point = m_deltas.next(totals, nowMs);
    {
        std::lock_guard lock(m_mutex);
        const qint64 day = nowMs / DayMs;
        if (day != m_day) {
            // A new UTC day starts from the totals of now; the ledger's seed was for another day.
            if (m_day >= 0)
                m_seed = {};
            m_day = day;
            m_dayStart = totals;
        }
        m_latest = totals;
        if (point) {
            m_ring[m_next] = *point;
            m_next = (m_next + 1) % m_ring.size();
            m_size = qMin(m_size + 1, m_ring.size());
        }
    }
    if (point)
        emit sampled(*point);
}

QList<SeriesPoint> SeriesRecorder::points(int seconds) const
{
    std::lock_guard lock(m_mutex);
    const size_t n = size_t(qBound(0, seconds, int(m_size)));
    QList<SeriesPoint> out;
    out.reserve(qsizetype(n));
    for (size_t i = 0; i < n; ++i)
        out.append(m_ring[(m_next + m_ring.size() - n + i) % m_ring.size()]);
    return out;
}

SeriesRecorder::DayTotals SeriesRecorder::today() const
{
    std::lock_guard lock(m_mutex);
    return {m_seed.requests + m_latest.requests - m_dayStart.requests,
            m_seed.tokens + m_latest.tokens - m_dayStart.tokens};
}

void SeriesRecorder::seedToday(DayTotals seed)
{
    std::lock_guard lock(m_mutex);
    m_seed = seed;
}

QJsonObject SeriesRecorder::toJson(const QList<SeriesPoint> &points)
{
    QJsonArray array;
    for (const SeriesPoint &p : points) {
        array.append(
            QJsonObject{{QStringLiteral("t"), p.atMs},
                        {QStringLiteral("requests_per_second"), p.requestsPerSecond},
                        {QStringLiteral("rate_limited_per_second"), p.rateLimitedPerSecond},
                        {QStringLiteral("errors_per_second"), p.errorsPerSecond},
                        {QStringLiteral("latency_p50_seconds"), p.latencyP50Seconds},
                        {QStringLiteral("latency_p95_seconds"), p.latencyP95Seconds},
                        {QStringLiteral("tokens_per_minute"), p.tokensPerMinute}});
    }
    return {{QStringLiteral("interval_seconds"), 1}, {QStringLiteral("points"), array}};
}

QList<SeriesPoint> SeriesRecorder::fromJson(const QJsonObject &json)
{
    QList<SeriesPoint> points;
    const QJsonArray array = json.value(QStringLiteral("points")).toArray();
    points.reserve(array.size());
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        SeriesPoint p;
        p.atMs = qint64(o.value(QStringLiteral("t")).toDouble());
        p.requestsPerSecond = o.value(QStringLiteral("requests_per_second")).toDouble();
        p.rateLimitedPerSecond = o.value(QStringLiteral("rate_limited_per_second")).toDouble();
        p.errorsPerSecond = o.value(QStringLiteral("errors_per_second")).toDouble();
        p.latencyP50Seconds = o.value(QStringLiteral("latency_p50_seconds")).toDouble();
        p.latencyP95Seconds = o.value(QStringLiteral("latency_p95_seconds")).toDouble();
        p.tokensPerMinute = o.value(QStringLiteral("tokens_per_minute")).toDouble();
        points.append(p);
    }
    return points;
}

}  // namespace sluice
