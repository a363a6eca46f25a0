#pragma once

#include "DashboardSource.h"

#include <memory>

namespace sluice {

class DatabaseThread;
class Gateway;

// The dashboard over the gateway in this process. Live figures come from the Gateway facade on
// the GUI thread (in-memory, no I/O); identity reads and every edit run AdminService on a
// database thread of the dashboard's own ("db-dashboard"), ledger reads on that thread or on
// a second one when the ledger has its own database. Results come back by queued calls.
class LocalDashboardSource : public DashboardSource
{
    Q_OBJECT
public:
    explicit LocalDashboardSource(Gateway &gateway, QObject *parent = nullptr);
    ~LocalDashboardSource() override;

    QString gatewayBaseUrl() const override;
    bool isRemote() const override { return false; }

    void requestOverview() override;
    void requestSeries(int seconds) override;
    void requestTraffic(int limit) override;
    void requestHealth() override;
    void checkHealthNow() override;
    void setPaused(bool paused) override;
    void requestKeys() override;
    void requestLimitEvents(int limit) override;
    void submit(int ticket, const sluice::DashboardEdit &edit) override;

private:
    DatabaseThread &ledgerThread();

    Gateway &m_gateway;
    std::unique_ptr<DatabaseThread> m_identityDb;
    std::unique_ptr<DatabaseThread> m_ledgerDb;  // only with a separate ledger database
};

}  // namespace sluice
