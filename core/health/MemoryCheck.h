#pragma once

#include "HealthCheck.h"

#include <functional>

namespace sluice {

// Process resident memory against a ceiling: over 90 % degraded, over 100 % unhealthy.
// Not critical: a gateway using much memory still serves, so it degrades the total only.
class MemoryCheck : public HealthCheck
{
public:
    using RssReader = std::function<qint64()>;
    // `readRss` defaults to the process's own RSS; tests inject a value.
    explicit MemoryCheck(qint64 limitBytes, RssReader readRss = {});
    HealthResult probe() override;

private:
    qint64 m_limit;
    RssReader m_readRss;
};

}  // namespace sluice
