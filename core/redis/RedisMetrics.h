#pragma once

#include <QByteArray>

namespace sluice {

class CounterFamily;
class HistogramFamily;
class MetricsRegistry;

// Redis command metrics, shared by every connection. Prefixed gateway_ so they never clash with
// redis_exporter's redis_* series on the same Prometheus.
struct RedisMetrics
{
    explicit RedisMetrics(MetricsRegistry &registry);
    CounterFamily &commands;
    CounterFamily &errors;
    HistogramFamily &duration;
};

}  // namespace sluice
