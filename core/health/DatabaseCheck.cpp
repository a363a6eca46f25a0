#include "DatabaseCheck.h"

#include <QElapsedTimer>

namespace sluice {

DatabaseCheck::DatabaseCheck(QString name, DatabaseUrl url, int slowThresholdMs,
                             QueryObserver observer)
    : HealthCheck(std::move(name), QStringLiteral("database"), true),
      m_url(std::move(url)),
      m_slowThresholdMs(slowThresholdMs),
      m_observer(std::move(observer))
{}

DatabaseCheck::~DatabaseCheck() = default;

void DatabaseCheck::releaseThreadResources()
{
    m_connection.reset();
}

HealthResult DatabaseCheck::probe()
{
    HealthResult r;
    QElapsedTimer timer;
    timer.start();
    QString error;
    if (!m_connection) {
        m_connection = std::make_unique<DatabaseConnection>(m_url, QStringLiteral("health"));
        m_connection->setQueryObserver(m_observer);
    }
    bool ok = m_connection->isOpen() || m_connection->open(&error);
    if (ok)
        ok = m_connection->ping(&error);
    r.latencyMs = double(timer.nsecsElapsed()) / 1e6;
    if (!ok) {
        m_connection->close();  // reconnect on the next probe
        r.status = HealthStatus::Unhealthy;
        r.message = error;
        return r;
    }
    const QString where = m_url.driver == DatabaseUrl::Driver::Sqlite
                              ? QStringLiteral("sqlite")
                              : QStringLiteral("postgres %1:%2").arg(m_url.host).arg(m_url.port);
    if (r.latencyMs > m_slowThresholdMs) {
        r.status = HealthStatus::Degraded;
        r.message = QStringLiteral("%1 answered in %2 ms (slower than %3 ms)")
                        .arg(where)
                        .arg(r.latencyMs, 0, 'f', 1)
                        .arg(m_slowThresholdMs);
    } else {
        r.status = HealthStatus::Healthy;
        r.message = where + QStringLiteral(" ok");
    }
    return r;
}

}  // namespace sluice
