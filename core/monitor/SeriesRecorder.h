#pragma once

#include "SeriesDeltas.h"
#include "SeriesPoint.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QTimer>
#include <mutex>
#include <vector>

namespace sluice {

class MetricsRegistry;

// The dashboard's time series: once a second it reads the request, duration and token
// families from the registry (the same merge a /metrics scrape does, never a hook on the
// request path) and keeps the last hour of SeriesPoints. Lives on the main thread;
// points() and today() are thread-safe (the admin API reads them on its worker).
class SeriesRecorder : public QObject
{
    Q_OBJECT
public:
    static constexpr int Capacity = 3600;  // one hour of one-second points

    // Requests and tokens since the start of the UTC day.
    struct DayTotals
    {
        double requests = 0;
        double tokens = 0;
    };

    explicit SeriesRecorder(MetricsRegistry &metrics, QObject *parent = nullptr);
    ~SeriesRecorder() override;

    // Takes the baseline and samples once a second from now on.
    void start();
    // The last `seconds` points, oldest first.
    QList<SeriesPoint> points(int seconds) const;

    // Today's totals: what happened since start (or since UTC midnight) plus the seed.
    DayTotals today() const;
    // What the ledger already holds for today when the gateway starts (other runs, other
    // instances); counted until the UTC day changes.
    void seedToday(DayTotals seed);

    // One sample as the timer takes it; public so tests drive the clock.
    void sample(qint64 nowMs);
    // The registry's current totals of the series' metrics.
    static MetricTotals readTotals(const MetricsRegistry &metrics);

    // {"interval_seconds":1,"points":[{"t":ms,"requests_per_second",...}]} and back.
    static QJsonObject toJson(const QList<SeriesPoint> &points);
    static QList<SeriesPoint> fromJson(const QJsonObject &json);

signals:
    void sampled(const sluice::SeriesPoint &latest);

private:
    MetricsRegistry &m_metrics;
    QTimer m_timer;
    SeriesDeltas m_deltas;  // main thread only

    mutable std::mutex m_mutex;  // guards everything below
    std::vector<SeriesPoint> m_ring;
    size_t m_next = 0;  // where the next point goes
    size_t m_size = 0;
    qint64 m_day = -1;  // UTC day (days since the epoch) of m_dayStart
    MetricTotals m_dayStart;
    MetricTotals m_latest;
    DayTotals m_seed;
};

}  // namespace sluice
