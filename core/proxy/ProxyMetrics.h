#pragma once

#include "LabelCap.h"

namespace sluice {

class CounterFamily;
class HistogramFamily;
class MetricsRegistry;

// The proxy's metric families, registered once and shared by every worker.
struct ProxyMetrics
{
    ProxyMetrics(MetricsRegistry &registry, std::vector<double> buckets, int labelCap,
                 bool perUser);

    CounterFamily &upstreamRequests;    // gateway_upstream_requests_total{upstream,code}
    CounterFamily &upstreamErrors;      // gateway_upstream_errors_total{upstream,kind}
    CounterFamily &upstreamThrottled;   // gateway_upstream_throttled_total{upstream,reason}
    HistogramFamily &upstreamDuration;  // gateway_upstream_duration_seconds{upstream}
    HistogramFamily &timeToFirstByte;   // gateway_time_to_first_byte_seconds{upstream}
    CounterFamily &promptTokens;        // gateway_prompt_tokens_total{model}
    CounterFamily &completionTokens;    // gateway_completion_tokens_total{model}
    CounterFamily &tokensByUser;        // gateway_tokens_by_user_total{user}
    bool perUser;
    LabelCap models;
    LabelCap users;
};

}  // namespace sluice
