#pragma once

#include <QDateTime>
#include <QString>

namespace sluice {

enum class HealthStatus
{
    Healthy,
    Degraded,
    Unhealthy
};

QString healthStatusName(HealthStatus status);  // "healthy" | "degraded" | "unhealthy"
double healthStatusValue(HealthStatus status);  // 1, 0.5, 0 (the gateway_health_status gauge)

struct HealthResult
{
    HealthStatus status = HealthStatus::Unhealthy;
    QString message;
    double latencyMs = 0;
    QDateTime checkedAt;
};

// One component whose health the gateway reports (a database, Redis, an upstream, the disk).
// Adding a component is one subclass: probe() runs on a thread of its own and may block; the
// HealthChecker bounds it with a timeout, so a hung probe is reported, never waited for.
class HealthCheck
{
public:
    HealthCheck(QString name, QString type, bool critical)
        : m_name(std::move(name)), m_type(std::move(type)), m_critical(critical)
    {}
    virtual ~HealthCheck() = default;

    const QString &name() const { return m_name; }
    const QString &type() const { return m_type; }
    // A critical component decides readiness; a non-critical one can only degrade the total.
    bool critical() const { return m_critical; }

    // Runs on this check's own thread (always the same one), so per-thread resources such as
    // a QSqlDatabase connection may be kept between probes. Latency and time are filled in by
    // the checker when the probe leaves them empty.
    virtual HealthResult probe() = 0;
    // Runs on the probe thread before it ends: release what probe() kept (connections).
    virtual void releaseThreadResources() {}

private:
    QString m_name;
    QString m_type;
    bool m_critical;
};

}  // namespace sluice
