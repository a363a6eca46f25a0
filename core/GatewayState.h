#pragma once

#include <QElapsedTimer>
#include <atomic>

namespace sluice {

// Lifecycle flags that the worker threads read on every probe.
struct GatewayState
{
    std::atomic<bool> started{false};   // migrations, listeners and the first health round done
    std::atomic<bool> draining{false};  // SIGTERM received: not ready any more
    // The operator paused serving (dashboard tray, admin API): /v1 answers 503 and
    // /health/ready says not ready, so load balancers send traffic elsewhere; /health, /metrics
    // and the admin API keep working.
    std::atomic<bool> paused{false};
    QElapsedTimer uptime;      // started at construction
    qint64 startTimeSecs = 0;  // wall clock at start, seconds since the epoch
};

}  // namespace sluice
