#include "HealthReport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace sluice {

HealthStatus HealthReport::aggregate(const QList<ComponentHealth> &components)
{
    HealthStatus overall = HealthStatus::Healthy;
    for (const ComponentHealth &c : components) {
        HealthStatus s = c.result.status;
        if (!c.critical && s == HealthStatus::Unhealthy)
            s = HealthStatus::Degraded;
        if (int(s) > int(overall))
            overall = s;
    }
    return overall;
}

bool HealthReport::anyCriticalUnhealthy() const
{
    for (const ComponentHealth &c : components) {
        if (c.critical && c.result.status == HealthStatus::Unhealthy)
            return true;
    }
    return false;
}

const ComponentHealth *HealthReport::component(const QString &name) const
{
    for (const ComponentHealth &c : components) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

QByteArray HealthReport::toJson(const QString &version, double uptimeSeconds) const
{
    QJsonArray list;
    for (const ComponentHealth &c : components) {
        list.append(QJsonObject{
            {QStringLiteral("name"), c.name},
            {QStringLiteral("type"), c.type},
            {QStringLiteral("status"), healthStatusName(c.result.status)},
            {QStringLiteral("critical"), c.critical},
            {QStringLiteral("message"), c.result.message},
            {QStringLiteral("latency_ms"), qRound(c.result.latencyMs * 1000.0) / 1000.0},
            {QStringLiteral("checked_at"), c.result.checkedAt.toString(Qt::ISODateWithMs)},
        });
    }
    const QJsonObject root{
        {QStringLiteral("status"), healthStatusName(overall)},
        {QStringLiteral("version"), version},
        {QStringLiteral("uptime_seconds"), qRound64(uptimeSeconds * 1000.0) / 1000.0},
        {QStringLiteral("timestamp"), checkedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("components"), list},
    };
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

}  // namespace sluice
