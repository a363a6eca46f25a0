#pragma once

#include "HealthCheck.h"

#include <QByteArray>
#include <QList>

namespace sluice {

struct ComponentHealth
{
    QString name;
    QString type;
    bool critical = false;
    HealthResult result;
};

// One round of checks: every component's result and the overall status.
struct HealthReport
{
    HealthStatus overall = HealthStatus::Healthy;
    QList<ComponentHealth> components;
    QDateTime checkedAt;
    qint64 monotonicMs = 0;  // when the round finished, for the cache TTL

    // Overall = the worst critical status; a non-critical component that is not healthy makes
    // the total at most degraded (it never makes the gateway unready).
    static HealthStatus aggregate(const QList<ComponentHealth> &components);
    bool anyCriticalUnhealthy() const;
    const ComponentHealth *component(const QString &name) const;

    // {"status","version","uptime_seconds","timestamp","components":[...]}
    QByteArray toJson(const QString &version, double uptimeSeconds) const;
};

}  // namespace sluice
