#pragma once

#include "MetricFamily.h"

#include <algorithm>
#include <cmath>

namespace sluice {

class MetricsRegistry;

// Observations counted in fixed buckets (upper bounds inclusive, "le"), with their sum and
// count. Created by MetricsRegistry::histogram().
class HistogramFamily : public MetricFamily
{
public:
    void observe(const LabelValues &values, double v)
    {
        const std::vector<double> &bounds = upperBounds();
        // NaN goes to +Inf, as the Go client does.
        const size_t bucket =
            std::isnan(v)
                ? bounds.size()
                : size_t(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
        update(values, [bucket, v](Cell &cell) {
            ++cell.buckets[bucket];
            ++cell.count;
            cell.value += v;
        });
    }

    // Merged count and sum of one series (tests, dashboard).
    quint64 count(const LabelValues &values = {}) const;
    double sum(const LabelValues &values = {}) const;

    using MetricFamily::upperBounds;

private:
    friend class MetricsRegistry;
    HistogramFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames,
                    std::vector<double> upperBounds);
};

}  // namespace sluice
