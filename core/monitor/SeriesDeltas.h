#pragma once

#include "SeriesPoint.h"

#include <QList>
#include <optional>
#include <vector>

namespace sluice {

// Cumulative values of the metrics the series is made of, read at one instant.
struct MetricTotals
{
    double requests = 0;     // /v1 requests answered
    double rateLimited = 0;  // of them 429
    double errors = 0;       // of them 5xx
    double tokens = 0;       // prompt + completion tokens
    // The /v1 request duration histogram summed over routes: upper bounds (ascending, without
    // +Inf) and cumulative counts per bound, +Inf last.
    std::vector<double> upperBounds;
    std::vector<double> cumulativeCounts;
};

// Turns successive MetricTotals into SeriesPoints: per-second differences, the latency
// quantiles of each second's histogram delta and the tokens of the last minute. Pure (no
// clock, no registry), so it is tested with fixed inputs.
class SeriesDeltas
{
public:
    static constexpr int TokenWindowSeconds = 60;

    // The point for the interval that ends at `atMs`: each counter's increase divided by the
    // interval's length. The first call only sets the baseline (nullopt).
    std::optional<SeriesPoint> next(const MetricTotals &totals, qint64 atMs);

    // Prometheus's histogram_quantile(): linear interpolation inside the bucket the rank falls
    // in (from 0 for the first bucket), the highest finite bound when it falls in +Inf, 0
    // without observations. `cumulativeCounts` has one more entry than `upperBounds` (+Inf).
    static double histogramQuantile(double q, const std::vector<double> &upperBounds,
                                    const std::vector<double> &cumulativeCounts);

private:
    bool m_started = false;
    MetricTotals m_previous;
    qint64 m_previousAtMs = 0;
    // Cumulative tokens at each of the last TokenWindowSeconds samples, oldest first.
    QList<double> m_tokenHistory;
};

}  // namespace sluice
