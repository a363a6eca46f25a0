#pragma once

#include "MetricFamily.h"

namespace sluice {

class MetricsRegistry;

// A monotonically increasing value per label set; its name ends with "_total".
// Created by MetricsRegistry::counter(); keep the reference and record through it.
class CounterFamily : public MetricFamily
{
public:
    // Adds v (>= 0) to the series of `values` on the calling thread's shard.
    void inc(const LabelValues &values = {}, double v = 1)
    {
        if (Q_UNLIKELY(!(v >= 0))) {
            Q_ASSERT_X(false, "CounterFamily::inc", "counters never go down");
            return;
        }
        update(values, [v](Cell &cell) { cell.value += v; });
    }

    // The merged value of one series (tests, dashboard).
    double value(const LabelValues &values = {}) const;

private:
    friend class MetricsRegistry;
    CounterFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames);
};

}  // namespace sluice
