#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "HealthCheck.h"

#include <memory>

namespace sluice {

// A database the gateway depends on (identity, ledger): a real query on the check's own
// connection, opened on the probe thread and kept between probes. Slower than the threshold
// is degraded; a failure is unhealthy and the next probe reconnects.
class DatabaseCheck : public HealthCheck
{
public:
    DatabaseCheck(QString name, DatabaseUrl url, int slowThresholdMs, QueryObserver observer = {});
    ~DatabaseCheck() override;
    HealthResult probe() override;
    void releaseThreadResources() override;

private:
    DatabaseUrl m_url;
    int m_slowThresholdMs;
    QueryObserver m_observer;
    std::unique_ptr<DatabaseConnection> m_connection;
};

}  // namespace sluice
