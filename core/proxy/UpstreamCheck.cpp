#include "UpstreamCheck.h"

#include "UpstreamPool.h"
#include "UpstreamTraffic.h"

#include <QDateTime>
#include <QEventLoop>
#include <QTimer>

namespace sluice {

UpstreamCheck::UpstreamCheck(UpstreamConfig upstream, const UpstreamTraffic &traffic,
                             int probeTimeoutMs)
    : HealthCheck(QStringLiteral("upstream:") + upstream.name, QStringLiteral("upstream"), false),
      m_upstream(std::move(upstream)),
      m_traffic(traffic),
      m_probeTimeoutMs(probeTimeoutMs)
{}

HealthResult UpstreamCheck::probe()
{
    const UpstreamTraffic::Window w =
        m_traffic.lastMinute(m_upstream.name, QDateTime::currentMSecsSinceEpoch());
    const qint64 total = w.ok + w.failed;
    if (total == 0)
        return activeProbe();
    HealthResult r;
    const double failRate = double(w.failed) / double(total);
    r.message =
        QStringLiteral("%1 of %2 requests failed in the last minute").arg(w.failed).arg(total);
    r.status = failRate > 0.5   ? HealthStatus::Unhealthy
               : failRate > 0.1 ? HealthStatus::Degraded
                                : HealthStatus::Healthy;
    return r;
}

HealthResult UpstreamCheck::activeProbe()
{
    // This runs on the check's own thread: a nested event loop drives the pool there.
    UpstreamRequest request;
    request.method = "GET";
    request.target =
        m_upstream.endpoint.basePath + (m_upstream.isAnthropic() ? "/v1/models" : "/models");
    if (m_upstream.isAnthropic()) {
        request.headers.add("x-api-key", m_upstream.apiKey);
        request.headers.add("anthropic-version", "2023-06-01");
    } else if (!m_upstream.apiKey.isEmpty()) {
        request.headers.add("Authorization", "Bearer " + m_upstream.apiKey);
    }
    UpstreamEndpoint endpoint = m_upstream.endpoint;
    endpoint.firstByteTimeoutMs = qMin(endpoint.firstByteTimeoutMs, m_probeTimeoutMs);
    endpoint.connectTimeoutMs = qMin(endpoint.connectTimeoutMs, m_probeTimeoutMs);

    HealthResult r;
    QEventLoop loop;
    bool finished = false;
    UpstreamCallbacks cb;
    cb.onHead = [&](const HttpMessageHead &head) {
        // Any HTTP answer means the upstream is there; 5xx means it is not well.
        r.status = head.status >= 500 ? HealthStatus::Unhealthy : HealthStatus::Healthy;
        r.message = QStringLiteral("no recent traffic; probe answered %1").arg(head.status);
    };
    cb.onBody = [](QByteArrayView) {};
    cb.onComplete = [&] {
        finished = true;
        loop.quit();
    };
    cb.onError = [&](const UpstreamError &e) {
        if (!e.responseStarted) {
            r.status = HealthStatus::Unhealthy;
            r.message = QStringLiteral("no recent traffic; probe failed: %1").arg(e.message);
        }
        finished = true;
        loop.quit();
    };
    auto call = UpstreamPool::forCurrentThread().send(endpoint, request, std::move(cb));
    QTimer::singleShot(m_probeTimeoutMs + 100, &loop, &QEventLoop::quit);
    if (!finished)
        loop.exec();
    if (!finished) {
        call->cancel();
        r.status = HealthStatus::Unhealthy;
        r.message = QStringLiteral("no recent traffic; probe timed out");
    }
    return r;
}

}  // namespace sluice
