#pragma once

#include "HealthCheck.h"
#include "UpstreamConfig.h"

namespace sluice {

class UpstreamTraffic;

// One upstream as a non-critical health component. With traffic in the last minute its status
// is the observed failure rate (> 10 % degraded, > 50 % unhealthy); when it has been quiet, a
// cheap active probe (GET models, never a request that spends tokens) decides.
class UpstreamCheck : public HealthCheck
{
public:
    UpstreamCheck(UpstreamConfig upstream, const UpstreamTraffic &traffic, int probeTimeoutMs);
    HealthResult probe() override;

private:
    HealthResult activeProbe();
    UpstreamConfig m_upstream;
    const UpstreamTraffic &m_traffic;
    int m_probeTimeoutMs;
};

}  // namespace sluice
