#include "HealthCheck.h"

namespace sluice {

QString healthStatusName(HealthStatus status)
{
    switch (status) {
        case HealthStatus::Healthy:
            return QStringLiteral("healthy");
        case HealthStatus::Degraded:
            return QStringLiteral("degraded");
        case HealthStatus::Unhealthy:
            break;
    }
    return QStringLiteral("unhealthy");
}

double healthStatusValue(HealthStatus status)
{
    switch (status) {
        case HealthStatus::Healthy:
            return 1.0;
        case HealthStatus::Degraded:
            return 0.5;
        case HealthStatus::Unhealthy:
            break;
    }
    return 0.0;
}

}  // namespace sluice
