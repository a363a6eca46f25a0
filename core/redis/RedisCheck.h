#pragma once

#include "HealthCheck.h"
#include "RedisUrl.h"

#include <functional>

namespace sluice {

// Redis as a health component: a PING on a short-lived blocking connection of the probe
// thread's own, and whether the limiter currently decides from memory. Not critical: without
// Redis the gateway keeps serving (fail-open), so it can only degrade the total.
class RedisCheck : public HealthCheck
{
public:
    // `fallbackReason` returns why the limiter is on its in-memory fallback, or empty.
    RedisCheck(RedisUrl url, int timeoutMs, std::function<QByteArray()> fallbackReason);
    HealthResult probe() override;

private:
    RedisUrl m_url;
    int m_timeoutMs;
    std::function<QByteArray()> m_fallbackReason;
};

}  // namespace sluice
