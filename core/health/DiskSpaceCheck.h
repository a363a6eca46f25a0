#pragma once

#include "HealthCheck.h"

namespace sluice {

// Free space on the file system holding the data directory (SQLite files, logs):
// below 10 % degraded, below 5 % unhealthy.
class DiskSpaceCheck : public HealthCheck
{
public:
    explicit DiskSpaceCheck(QString path, double degradedBelow = 0.10,
                            double unhealthyBelow = 0.05);
    HealthResult probe() override;

private:
    QString m_path;
    double m_degradedBelow;
    double m_unhealthyBelow;
};

}  // namespace sluice
