#pragma once

#include <QByteArray>
#include <QList>
#include <vector>

namespace sluice {

enum class MetricType
{
    Counter,
    Gauge,
    Histogram
};

// One family's values at scrape time, all threads merged; what the exposition formats
// and the dashboard read. Series are sorted by label values.
struct MetricSnapshot
{
    struct Series
    {
        QList<QByteArray> labelValues;
        double value = 0;  // counter, gauge
        // Histogram: cumulative count per upper bound, then the +Inf bucket (== count).
        std::vector<quint64> cumulativeCounts;
        double sum = 0;
        quint64 count = 0;
    };

    MetricType type = MetricType::Gauge;
    QByteArray name;  // as registered: counters end with "_total"
    QByteArray help;
    QList<QByteArray> labelNames;
    std::vector<double> upperBounds;  // histograms, ascending, without +Inf
    std::vector<Series> series;
};

}  // namespace sluice
