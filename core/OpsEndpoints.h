#pragma once

namespace sluice {

class HealthChecker;
class MetricsRegistry;
class Router;
struct GatewayState;

// The operational routes: /health, /health/live, /health/ready, /health/startup and /metrics.
// They are exempt from authentication and rate limits (later issues) by being routed here.
class OpsEndpoints
{
public:
    static void registerHealthRoutes(Router &router, const GatewayState &state,
                                     HealthChecker &health);
    // /metrics: on the public router, or the admin one with [metrics] metrics_listen = admin.
    static void registerMetricsRoute(Router &router, const MetricsRegistry &metrics);
};

}  // namespace sluice
