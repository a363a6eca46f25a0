#pragma once

#include "GatewayConfig.h"
#include "GatewayState.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <memory>

namespace sluice {

class AdminApi;
class DatabaseThread;
class GatewayMetrics;
class HealthChecker;
class IdentityRefresher;
class KeyAuthenticator;
class KeyCache;
class AnonymousLimits;
class Limiter;
class LimitStore;
struct RedisMetrics;
class ProxyHandler;
class QuotaAlertMonitor;
class UpstreamTraffic;
class UsageLedger;
class ViolationLog;
struct ProxyMetrics;
class HttpFrontend;
class MetricsRegistry;
class Router;
class SeriesRecorder;
class TrafficTail;

// The facade the app (headless or dashboard) and the integration tests drive: it owns and
// starts/stops every core part. Lives on the main thread.
class Gateway : public QObject
{
    Q_OBJECT
public:
    explicit Gateway(GatewayConfig config, QObject *parent = nullptr);
    ~Gateway() override;

    // Migrates the databases, starts health checks and the listeners. Returns false with
    // *error set when something the gateway cannot run without fails (bad database, port in
    // use). The startup probe turns 200 when the first health round is done (startupComplete).
    bool start(QString *error);
    // Graceful stop: not ready at once, stop accepting, let in-flight requests finish within
    // the drain timeout, flush, then emit stopped(). Calling it again does nothing.
    void shutdown();

    const GatewayConfig &config() const { return m_config; }
    QString listenAddress() const;
    QString adminListenAddress() const;
    MetricsRegistry &metrics() { return *m_registry; }
    HealthChecker &health() { return *m_health; }
    const GatewayState &state() const { return m_state; }
    // Monthly quota alerts (alertRaised() on the main thread); null before start().
    QuotaAlertMonitor *quotaAlerts() const { return m_quotaAlerts.get(); }

    // The dashboard's live data (never null; sampling starts with start()). points() and
    // recent() are thread-safe.
    SeriesRecorder *series() const { return m_series.get(); }
    TrafficTail *trafficTail() const { return m_traffic.get(); }
    // {"version","listen","admin_listen","uptime_seconds","active_keys","requests_today",
    //  "tokens_today","health"}: docs/admin-api.md (GET /admin/v1/overview). Thread-safe once
    // start() returned (the admin API calls it on its worker).
    QJsonObject overview() const;
    // Runs a health round now unless one is running; HealthChecker::reportReady tells the end.
    void checkHealthNow();
    // Pauses or resumes serving /v1 (see GatewayState::paused). Any thread.
    void setPaused(bool paused);
    bool isPaused() const { return m_state.paused.load(); }

signals:
    void startupComplete();
    void pausedChanged(bool paused);  // emitted on the thread that called setPaused()
    void stopped();

private:
    bool migrate(QString *error);
    bool startIdentity(QString *error);
    bool startProxy(QString *error);
    bool seedMonthlyQuotas(QString *error);
    std::unique_ptr<LimitStore> makeLimitStore();
    bool startAdmin(QString *error);
    void recordInstance();
    void setupHealth();
    void registerGatewayMetrics();
    void seedToday();
    void drainTick();
    void finishShutdown();

    GatewayConfig m_config;
    GatewayState m_state;
    QString m_instanceId;
    std::unique_ptr<MetricsRegistry> m_registry;
    std::unique_ptr<GatewayMetrics> m_requestMetrics;
    std::unique_ptr<HealthChecker> m_health;
    std::unique_ptr<TrafficTail> m_traffic;  // before the front ends, whose workers write to it
    std::unique_ptr<SeriesRecorder> m_series;
    std::unique_ptr<Router> m_router;
    std::unique_ptr<DatabaseThread> m_identityDb;
    std::unique_ptr<KeyCache> m_keyCache;
    std::unique_ptr<IdentityRefresher> m_identityRefresher;
    std::unique_ptr<KeyAuthenticator> m_authenticator;
    std::unique_ptr<UsageLedger> m_ledger;
    std::unique_ptr<ProxyMetrics> m_proxyMetrics;
    std::unique_ptr<UpstreamTraffic> m_upstreamTraffic;
    std::unique_ptr<RedisMetrics> m_redisMetrics;  // before the limiter, which uses it
    std::unique_ptr<Limiter> m_limiter;
    std::unique_ptr<AnonymousLimits> m_anonymousLimits;
    std::unique_ptr<ViolationLog> m_violations;
    std::unique_ptr<QuotaAlertMonitor> m_quotaAlerts;
    std::unique_ptr<ProxyHandler> m_proxy;
    std::unique_ptr<HttpFrontend> m_frontend;
    // The admin API's database thread, router and listener; after m_frontend, so destroyed
    // before it, and the database thread last of the four (its jobs never touch the others).
    std::unique_ptr<DatabaseThread> m_adminDb;
    std::unique_ptr<DatabaseThread> m_adminLedgerDb;  // only with a separate --ledger-db
    std::unique_ptr<Router> m_adminRouter;
    std::unique_ptr<AdminApi> m_adminApi;
    std::unique_ptr<HttpFrontend> m_adminFrontend;
    QTimer m_drainTimer;
    QElapsedTimer m_drainClock;
    bool m_shuttingDown = false;
    bool m_stopped = false;
};

}  // namespace sluice
