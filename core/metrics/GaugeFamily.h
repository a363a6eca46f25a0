#pragma once

#include "MetricFamily.h"

namespace sluice {

class MetricsRegistry;

// A value per label set that goes up and down. Each thread keeps its own contribution and
// the exposed value is their sum, so inc() on one thread and dec() on another balance out.
// Created by MetricsRegistry::gauge().
class GaugeFamily : public MetricFamily
{
public:
    void inc(const LabelValues &values = {}, double v = 1)
    {
        update(values, [v](Cell &cell) { cell.value += v; });
    }
    void dec(const LabelValues &values = {}, double v = 1) { inc(values, -v); }

    // Makes the series read exactly v, whatever other threads added before. Takes every
    // thread's shard lock: for values that change rarely (states, settings). Values that move
    // per request use inc/dec; values owned elsewhere use a callback gauge.
    void set(const LabelValues &values, double v) { setEverywhere(values, v); }

    // The merged value of one series (tests, dashboard).
    double value(const LabelValues &values = {}) const;

private:
    friend class MetricsRegistry;
    GaugeFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames);
};

}  // namespace sluice
