#include "RedisMetrics.h"

#include "CounterFamily.h"
#include "HistogramFamily.h"
#include "MetricsRegistry.h"

namespace sluice {

RedisMetrics::RedisMetrics(MetricsRegistry &registry)
    : commands(registry.counter("gateway_redis_commands_total",
                                "Redis commands sent by the gateway, by command.", {"command"})),
      errors(registry.counter("gateway_redis_command_errors_total",
                              "Redis commands that failed (error reply, timeout, connection lost), "
                              "by command.",
                              {"command"})),
      duration(registry.histogram(
          "gateway_redis_command_duration_seconds",
          "Time from sending a Redis command to its reply.", {},
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}))
{}

}  // namespace sluice
