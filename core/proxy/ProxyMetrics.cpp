#include "ProxyMetrics.h"

#include "MetricsRegistry.h"

namespace sluice {

ProxyMetrics::ProxyMetrics(MetricsRegistry &r, std::vector<double> buckets, int labelCap,
                           bool perUser)
    : upstreamRequests(
          r.counter("gateway_upstream_requests_total",
                    "Upstream answers, by upstream and status code (each failover attempt counts).",
                    {"upstream", "code"})),
      upstreamErrors(
          r.counter("gateway_upstream_errors_total",
                    "Upstream requests that got no complete answer, by upstream and kind.",
                    {"upstream", "kind"})),
      upstreamThrottled(r.counter(
          "gateway_upstream_throttled_total",
          "Requests not sent to an upstream to keep within its quota, by upstream and reason "
          "(limit: its requests_per_minute or tokens_per_minute; cooldown: it answered 429).",
          {"upstream", "reason"})),
      upstreamDuration(r.histogram("gateway_upstream_duration_seconds",
                                   "Time from sending a request upstream to the end of its answer.",
                                   {"upstream"}, buckets)),
      timeToFirstByte(
          r.histogram("gateway_time_to_first_byte_seconds",
                      "Time from sending a request upstream to its first response byte.",
                      {"upstream"}, buckets)),
      promptTokens(
          r.counter("gateway_prompt_tokens_total", "Prompt (input) tokens, by model.", {"model"})),
      completionTokens(r.counter("gateway_completion_tokens_total",
                                 "Completion (output) tokens, by model.", {"model"})),
      tokensByUser(r.counter("gateway_tokens_by_user_total",
                             "Prompt plus completion tokens, by user name.", {"user"})),
      perUser(perUser),
      models(labelCap),
      users(labelCap)
{}

}  // namespace sluice
