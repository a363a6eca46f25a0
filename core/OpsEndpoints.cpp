#include "OpsEndpoints.h"

#include "GatewayState.h"
#include "HealthChecker.h"
#include "MetricsRegistry.h"
#include "Router.h"
#include "Version.h"

namespace sluice {
namespace {

QByteArray statusBody(const char *status)
{
    return QByteArray("{\"status\":\"") + status + "\"}";
}

void sendJson(HttpResponder &r, int code, QByteArray body)
{
    HttpResponse response = HttpResponse::json(code, std::move(body));
    // Probes must see the current state, never a cached one.
    response.headers.add(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    r.send(std::move(response));
}

}  // namespace

void OpsEndpoints::registerHealthRoutes(Router &router, const GatewayState &state,
                                        HealthChecker &health)
{
    router.add("GET", "/health/live", "/health/live",
               [](HttpResponder r) { sendJson(r, 200, statusBody("alive")); });

    router.add("GET", "/health/startup", "/health/startup", [&state](HttpResponder r) {
        const bool started = state.started.load();
        sendJson(r, started ? 200 : 503, statusBody(started ? "started" : "starting"));
    });

    router.add("GET", "/health/ready", "/health/ready", [&state, &health](HttpResponder r) {
        if (state.draining.load()) {
            sendJson(r, 503, statusBody("draining"));
            return;
        }
        if (state.paused.load()) {
            sendJson(r, 503, statusBody("paused"));
            return;
        }
        if (!state.started.load()) {
            sendJson(r, 503, statusBody("starting"));
            return;
        }
        health.report(r.context(), [r](HealthChecker::ReportPtr report) mutable {
            const bool ready = report && !report->anyCriticalUnhealthy();
            sendJson(r, ready ? 200 : 503, statusBody(ready ? "ready" : "unhealthy"));
        });
    });

    router.add("GET", "/health", "/health", [&state, &health](HttpResponder r) {
        health.report(r.context(), [r, &state](HealthChecker::ReportPtr report) mutable {
            HealthReport empty;
            const HealthReport &rep = report ? *report : empty;
            const double uptime = double(state.uptime.elapsed()) / 1000.0;
            sendJson(r, rep.overall == HealthStatus::Unhealthy ? 503 : 200,
                     rep.toJson(QString::fromLatin1(kVersion), uptime));
        });
    });
}

void OpsEndpoints::registerMetricsRoute(Router &router, const MetricsRegistry &metrics)
{
    router.add("GET", "/metrics", "/metrics", [&metrics](HttpResponder r) {
        const bool om = MetricsRegistry::wantsOpenMetrics(r.request().header("Accept"));
        HttpResponse response;
        response.status = 200;
        response.headers.add(QByteArrayLiteral("Content-Type"),
                             om ? QByteArray(MetricsRegistry::OpenMetricsContentType)
                                : QByteArray(MetricsRegistry::TextContentType));
        response.body = om ? metrics.exposeOpenMetrics() : metrics.exposeText();
        r.send(std::move(response));
    });
}

}  // namespace sluice
