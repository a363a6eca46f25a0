#include "DiskSpaceCheck.h"

#include <QStorageInfo>

namespace sluice {

DiskSpaceCheck::DiskSpaceCheck(QString path, double degradedBelow, double unhealthyBelow)
    : HealthCheck(QStringLiteral("disk"), QStringLiteral("disk"), true),
      m_path(std::move(path)),
      m_degradedBelow(degradedBelow),
      m_unhealthyBelow(unhealthyBelow)
{}

HealthResult DiskSpaceCheck::probe()
{
    HealthResult r;
    QStorageInfo info(m_path);
    info.refresh();
    if (!info.isValid() || !info.isReady() || info.bytesTotal() <= 0) {
        r.status = HealthStatus::Unhealthy;
        r.message = QStringLiteral("cannot read the file system of %1").arg(m_path);
        return r;
    }
    const double freeRatio = double(info.bytesAvailable()) / double(info.bytesTotal());
    r.message = QStringLiteral("%1 % free (%2 MiB of %3 MiB) at %4")
                    .arg(freeRatio * 100.0, 0, 'f', 1)
                    .arg(info.bytesAvailable() / (1024 * 1024))
                    .arg(info.bytesTotal() / (1024 * 1024))
                    .arg(m_path);
    if (freeRatio < m_unhealthyBelow)
        r.status = HealthStatus::Unhealthy;
    else if (freeRatio < m_degradedBelow)
        r.status = HealthStatus::Degraded;
    else
        r.status = HealthStatus::Healthy;
    return r;
}

}  // namespace sluice
