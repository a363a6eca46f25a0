#include "OverviewModel.h"

#include <QXYSeries>
#include <algorithm>

namespace sluice {

OverviewModel::OverviewModel(QObject *parent) : QObject(parent) {}

QString OverviewModel::str(const char *key) const
{
    return m_overview.value(QLatin1String(key)).toString();
}

double OverviewModel::num(const char *key) const
{
    return m_overview.value(QLatin1String(key)).toDouble();
}

QString OverviewModel::health() const
{
    const QJsonValue h = m_overview.value(QLatin1String("health"));
    // The overview carries either the status word or the whole report.
    return h.isObject() ? h[QLatin1String("status")].toString() : h.toString();
}

void OverviewModel::setRangeMinutes(int minutes)
{
    minutes = minutes <= 5 ? 5 : (minutes <= 15 ? 15 : 60);
    if (minutes == m_rangeMinutes)
        return;
    m_rangeMinutes = minutes;
    emit rangeMinutesChanged();
    trim();
    emit pointsChanged();
}

bool OverviewModel::hasTraffic() const
{
    return std::any_of(m_points.cbegin(), m_points.cend(), [](const SeriesPoint &p) {
        return p.requestsPerSecond > 0 || p.errorsPerSecond > 0 || p.rateLimitedPerSecond > 0;
    });
}

double OverviewModel::rangeEndMs() const
{
    return m_points.isEmpty() ? double(QDateTime::currentMSecsSinceEpoch())
                              : double(m_points.last().atMs);
}

double OverviewModel::rangeStartMs() const
{
    return rangeEndMs() - double(m_rangeMinutes) * 60'000.0;
}

void OverviewModel::setOverview(const QJsonObject &overview)
{
    if (overview == m_overview)
        return;
    m_overview = overview;
    emit overviewChanged();
}

void OverviewModel::merge(const QList<SeriesPoint> &points)
{
    const qint64 newest =
        m_points.isEmpty() ? std::numeric_limits<qint64>::min() : m_points.last().atMs;
    bool added = false;
    for (const SeriesPoint &p : points) {
        if (p.atMs > newest) {
            m_points.append(p);
            added = true;
        }
    }
    if (!added)
        return;
    trim();
    emit pointsChanged();
}

void OverviewModel::reset(const QList<SeriesPoint> &points)
{
    m_points = points;
    trim();
    emit pointsChanged();
}

void OverviewModel::trim()
{
    if (m_points.isEmpty())
        return;
    const qint64 from = m_points.last().atMs - qint64(m_rangeMinutes) * 60'000;
    const auto firstKept = std::find_if(m_points.cbegin(), m_points.cend(),
                                        [from](const SeriesPoint &p) { return p.atMs > from; });
    m_points.erase(m_points.cbegin(), firstKept);
}

double OverviewModel::metricOf(const SeriesPoint &p, const QString &metric)
{
    if (metric == QLatin1String("requests"))
        return p.requestsPerSecond;
    if (metric == QLatin1String("rate_limited"))
        return p.rateLimitedPerSecond;
    if (metric == QLatin1String("errors"))
        return p.errorsPerSecond;
    if (metric == QLatin1String("p50"))
        return p.latencyP50Seconds;
    if (metric == QLatin1String("p95"))
        return p.latencyP95Seconds;
    // The latency chart plots milliseconds: its axis labels are printf formats, and "0.00 s"
    // says nothing about requests of a few milliseconds.
    if (metric == QLatin1String("p50_ms"))
        return p.latencyP50Seconds * 1000.0;
    if (metric == QLatin1String("p95_ms"))
        return p.latencyP95Seconds * 1000.0;
    if (metric == QLatin1String("tokens"))
        return p.tokensPerMinute;
    return 0;
}

double OverviewModel::valueAt(int index, const QString &metric) const
{
    if (index < 0 || index >= m_points.size())
        return 0;
    return metricOf(m_points.at(index), metric);
}

double OverviewModel::latest(const QString &metric) const
{
    return m_points.isEmpty() ? 0 : metricOf(m_points.last(), metric);
}

double OverviewModel::maximum(const QString &metric) const
{
    double m = 0;
    for (const SeriesPoint &p : m_points)
        m = std::max(m, metricOf(p, metric));
    return m;
}

void OverviewModel::fill(QAbstractSeries *series, const QString &metric) const
{
    auto *xy = qobject_cast<QXYSeries *>(series);
    if (!xy)
        return;
    QList<QPointF> out;
    out.reserve(m_points.size());
    for (const SeriesPoint &p : m_points)
        out.append(QPointF(double(p.atMs), metricOf(p, metric)));
    xy->replace(out);
}

}  // namespace sluice
