#include "Gateway.h"

#include "AdminApi.h"
#include "AnonymousLimits.h"
#include "ApiFamily.h"
#include "ApiRoutes.h"
#include "CalendarMonth.h"
#include "DatabaseCheck.h"
#include "DatabaseConnection.h"
#include "DatabaseThread.h"
#include "DiskSpaceCheck.h"
#include "FallbackLimitStore.h"
#include "GatewayMetrics.h"
#include "HealthChecker.h"
#include "HttpFrontend.h"
#include "IdentityRefresher.h"
#include "IdentitySeeder.h"
#include "IdentitySnapshot.h"
#include "KeyAuthenticator.h"
#include "KeyCache.h"
#include "Limiter.h"
#include "LogCategories.h"
#include "MemoryCheck.h"
#include "MemoryLimitStore.h"
#include "MetricsRegistry.h"
#include "Migrator.h"
#include "ModelGlob.h"
#include "MonthToDateUsage.h"
#include "OpsEndpoints.h"
#include "Principal.h"
#include "ProcessMetrics.h"
#include "ProxyHandler.h"
#include "ProxyMetrics.h"
#include "QuotaAlertMonitor.h"
#include "RedisCheck.h"
#include "RedisLimitStore.h"
#include "RedisMetrics.h"
#include "Router.h"
#include "Schema.h"
#include "SeriesRecorder.h"
#include "ServerTls.h"
#include "TrafficTail.h"
#include "UpstreamCheck.h"
#include "UpstreamConfig.h"
#include "UpstreamTraffic.h"
#include "UsageLedger.h"
#include "Version.h"
#include "ViolationLog.h"

#include <QDateTime>
#include <QDir>
#include <QHostInfo>
#include <QUuid>

namespace sluice {

Gateway::Gateway(GatewayConfig config, QObject *parent)
    : QObject(parent), m_config(std::move(config))
{
    m_state.uptime.start();
    m_state.startTimeSecs = QDateTime::currentSecsSinceEpoch();
    m_instanceId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_registry = std::make_unique<MetricsRegistry>();
    std::vector<double> buckets(m_config.histogramBuckets.begin(), m_config.histogramBuckets.end());
    if (buckets.empty())
        buckets = MetricsRegistry::defaultDurationBuckets();
    m_requestMetrics = std::make_unique<GatewayMetrics>(*m_registry, buckets);
    m_traffic = std::make_unique<TrafficTail>();
    m_requestMetrics->setTrafficTail(m_traffic.get());
    m_series = std::make_unique<SeriesRecorder>(*m_registry);
    m_health = std::make_unique<HealthChecker>(
        HealthChecker::Options{int(m_config.healthTtl * 1000), int(m_config.healthTimeout * 1000)});
    m_router = std::make_unique<Router>();
    connect(&m_drainTimer, &QTimer::timeout, this, &Gateway::drainTick);
}

Gateway::~Gateway()
{
    if (m_adminApi)
        m_adminApi->close();  // no database result may reach a worker that stop() deletes
    if (m_adminFrontend)
        m_adminFrontend->stop();
    if (m_frontend)
        m_frontend->stop();  // workers first: they reference the router, metrics and health
    if (m_identityRefresher)
        m_identityRefresher->stop();
    // Health checks (Redis's reads the limit store) go before the parts they look at.
    m_health.reset();
}

QString Gateway::listenAddress() const
{
    return m_frontend ? m_frontend->addressString() : QString();
}

QString Gateway::adminListenAddress() const
{
    return m_adminFrontend ? m_adminFrontend->addressString() : QString();
}

QJsonObject Gateway::overview() const
{
    const IdentitySnapshot *snapshot = m_keyCache ? m_keyCache->current() : nullptr;
    const SeriesRecorder::DayTotals today = m_series->today();
    const HealthChecker::ReportPtr report = m_health->latest();
    return {
        {QStringLiteral("version"), QLatin1String(kVersion)},
        {QStringLiteral("listen"), listenAddress()},
        {QStringLiteral("admin_listen"), adminListenAddress()},
        {QStringLiteral("admin_tls"), !m_config.adminTlsCertificate.isEmpty()},
        {QStringLiteral("uptime_seconds"), double(m_state.uptime.elapsed()) / 1000.0},
        {QStringLiteral("active_keys"), snapshot ? qint64(snapshot->principals().size()) : 0},
        {QStringLiteral("requests_today"), today.requests},
        {QStringLiteral("tokens_today"), today.tokens},
        {QStringLiteral("health"),
         report ? healthStatusName(report->overall) : QStringLiteral("unknown")},
        {QStringLiteral("paused"), m_state.paused.load()},
    };
}

void Gateway::checkHealthNow()
{
    m_health->refresh();
}

void Gateway::setPaused(bool paused)
{
    if (m_state.paused.exchange(paused) == paused)
        return;
    qCWarning(lcGateway).noquote() << (paused ? "serving paused: /v1 answers 503 and "
                                                "/health/ready is not ready until resumed"
                                              : "serving resumed");
    emit pausedChanged(paused);
}

bool Gateway::start(QString *error)
{
    if (!QDir().mkpath(m_config.dataDir)) {
        *error = QStringLiteral("cannot create the data directory %1").arg(m_config.dataDir);
        return false;
    }
    if (!migrate(error))
        return false;
    recordInstance();
    registerGatewayMetrics();
    setupHealth();
    if (!startIdentity(error))
        return false;
    OpsEndpoints::registerHealthRoutes(*m_router, m_state, *m_health);
    if (!m_config.metricsOnAdmin)
        OpsEndpoints::registerMetricsRoute(*m_router, *m_registry);
    if (!startProxy(error))
        return false;
    seedToday();
    m_series->start();
    // While paused (setPaused), every /v1 answer is a 503 in the route's API shape.
    const auto answeredPaused = [state = &m_state](HttpResponder &r) {
        if (!state->paused.load(std::memory_order_relaxed))
            return false;
        HttpResponse paused = apiError(apiFamilyOf(r.request()), 503, "gateway_paused",
                                       "This gateway is paused by its operator. Please retry "
                                       "shortly.");
        paused.headers.add("Retry-After", "5");
        r.send(std::move(paused));
        return true;
    };
    ApiRoutes::registerRoutes(
        *m_router, *m_authenticator,
        [proxy = m_proxy.get(), answeredPaused](HttpResponder r, const Principal &p) {
            if (!answeredPaused(r))
                proxy->forward(std::move(r), p);
        },
        [proxy = m_proxy.get(), answeredPaused](HttpResponder r, const Principal &p) {
            if (!answeredPaused(r))
                proxy->listModels(std::move(r), p);
        },
        [anonymous = m_anonymousLimits.get(), answeredPaused](HttpResponder r,
                                                              KeyAuthenticator::Outcome o) {
            if (!answeredPaused(r))
                anonymous->refuse(std::move(r), std::move(o));
        });

    ServerOptions options;
    options.host = m_config.listen.address();
    options.port = m_config.listen.port;
    options.workers = m_config.workers;
    options.maxBodyBytes = m_config.maxBodySize;
    options.headerTimeoutMs = int(m_config.headerTimeout * 1000);
    options.idleTimeoutMs = int(m_config.idleTimeout * 1000);
    // The front end's own errors (413, 431, 404, ...) in the shape of the API being called.
    options.errorFormatter = [](const HttpRequest &request, int status, QByteArrayView code,
                                QByteArrayView message) {
        return apiError(apiFamilyOf(request), status, code, message);
    };
    m_frontend = std::make_unique<HttpFrontend>(options, m_router.get(), m_requestMetrics.get());
    QString listenError;
    if (!m_frontend->start(&listenError)) {
        *error =
            QStringLiteral("cannot listen on %1: %2").arg(m_config.listen.toString(), listenError);
        m_frontend.reset();
        return false;
    }
    qCInfo(lcServer).noquote() << "listening on" << m_frontend->addressString() << "with"
                               << m_config.workers << "workers";
    if (!startAdmin(error))
        return false;

    // Startup completes with the first health round, so /health/startup never reports a
    // gateway whose dependencies were never looked at.
    connect(m_health.get(), &HealthChecker::reportReady, this, [this] {
        if (!m_state.started.exchange(true)) {
            qCInfo(lcGateway) << "startup complete in" << m_state.uptime.elapsed() << "ms";
            emit startupComplete();
        }
    });
    m_health->refresh();
    return true;
}

bool Gateway::migrate(QString *error)
{
    // Migrations run on this thread with connections of their own, closed afterwards: every
    // other thread that needs a database opens its own (QSqlDatabase is per thread).
    struct Target
    {
        DatabaseUrl url;
        QString component;
        QList<Migration> migrations;
    };
    const QList<Target> targets = {
        {m_config.db, QStringLiteral("identity"), Schema::identityMigrations()},
        {m_config.effectiveLedgerDb(), QStringLiteral("ledger"), Schema::ledgerMigrations()},
    };
    for (const Target &t : targets) {
        DatabaseConnection conn(t.url, t.component);
        conn.setQueryObserver(m_requestMetrics->queryObserver());
        QString why;
        int applied = 0;
        if (!conn.open(&why) ||
            !Migrator::migrate(conn, t.component, t.migrations, &why, &applied)) {
            *error = QStringLiteral("%1 database: %2").arg(t.component, why);
            return false;
        }
        if (t.component == QLatin1String("identity")) {
            // Default tiers and the INI's [tier.NAME] / [defaults.*] at first start only:
            // afterwards the database is the source of truth.
            int seeded = 0;
            if (!IdentitySeeder::seed(conn, m_config.extraSections, &why, &seeded)) {
                *error = QStringLiteral("identity database: %1").arg(why);
                return false;
            }
            if (seeded)
                qCInfo(lcStorage) << "seeded" << seeded << "tiers and defaults";
        }
        qCInfo(lcStorage).noquote()
            << t.component << "schema at version" << Migrator::currentVersion(conn, t.component)
            << "on" << t.url.redacted()
            << (applied ? QStringLiteral("(%1 applied)").arg(applied) : QString());
    }
    return true;
}

bool Gateway::startIdentity(QString *error)
{
    // The key cache is filled from the identity database before the first request and kept
    // in step by polling; all of it runs on the identity database thread.
    m_identityDb = std::make_unique<DatabaseThread>(m_config.db, QStringLiteral("identity"),
                                                    m_requestMetrics->queryObserver());
    m_keyCache = std::make_unique<KeyCache>();
    m_identityRefresher = std::make_unique<IdentityRefresher>(*m_identityDb, *m_keyCache,
                                                              IdentityRefresher::Options{});
    QString why;
    if (!m_identityRefresher->start(&why)) {
        *error = QStringLiteral("identity database: %1").arg(why);
        return false;
    }
    QString proxyError;
    const auto proxies = TrustedProxies::parse(m_config.trustedProxies, &proxyError);
    if (!proxies) {
        *error = QStringLiteral("trusted_proxies: %1").arg(proxyError);
        return false;
    }
    m_authenticator = std::make_unique<KeyAuthenticator>(*m_keyCache, *proxies, *m_registry);
    return true;
}

bool Gateway::startAdmin(QString *error)
{
    // A listener of its own: one thread, small bodies, the same observer (metrics, access
    // log). Its AdminService calls run on a database thread of their own, so an edit never
    // waits behind a key-cache reload and the listener never waits on SQL.
    m_adminDb = std::make_unique<DatabaseThread>(m_config.db, QStringLiteral("admin"),
                                                 m_requestMetrics->queryObserver());
    m_adminRouter = std::make_unique<Router>();
    m_adminApi = std::make_unique<AdminApi>(*m_adminDb, m_config.adminToken);
    if (m_config.ledgerDb && !(*m_config.ledgerDb == m_config.db)) {
        // Usage queries read the ledger's own database, on a thread of their own.
        m_adminLedgerDb = std::make_unique<DatabaseThread>(
            *m_config.ledgerDb, QStringLiteral("ledger-admin"), m_requestMetrics->queryObserver());
        m_adminApi->setLedgerDatabase(m_adminLedgerDb.get());
    }
    // The dashboard's live data, read on the admin worker: every part below is thread-safe.
    AdminApi::Monitor monitor;
    monitor.series = [series = m_series.get()](int seconds) {
        return SeriesRecorder::toJson(series->points(seconds));
    };
    monitor.traffic = [traffic = m_traffic.get()](int limit) {
        return TrafficTail::toJson(traffic->recent(limit));
    };
    monitor.overview = [this] { return overview(); };
    monitor.paused = [this] { return isPaused(); };
    monitor.setPaused = [this](bool paused) { setPaused(paused); };
    monitor.health = [this](QObject *context, bool checkNow, std::function<void(QByteArray)> done) {
        auto answer = [this, done = std::move(done)](HealthChecker::ReportPtr report) {
            const HealthReport empty;
            done((report ? *report : empty)
                     .toJson(QString::fromLatin1(kVersion),
                             double(m_state.uptime.elapsed()) / 1000.0));
        };
        if (checkNow)
            m_health->checkNow(context, std::move(answer));
        else
            m_health->report(context, std::move(answer));
    };
    m_adminApi->setMonitor(std::move(monitor));
    if (m_config.metricsOnAdmin)
        OpsEndpoints::registerMetricsRoute(*m_adminRouter, *m_registry);
    m_adminApi->registerRoutes(*m_adminRouter);
    ServerOptions options;
    options.host = m_config.adminListen.address();
    options.port = m_config.adminListen.port;
    options.workers = 1;
    options.maxBodyBytes = AdminApi::MaxBodyBytes;
    options.threadNamePrefix = QStringLiteral("admin-worker");
    if (!m_config.adminTlsCertificate.isEmpty()) {
        QString tlsError;
        options.tls =
            ServerTls::load(m_config.adminTlsCertificate, m_config.adminTlsKey, &tlsError);
        if (!options.tls) {
            *error = QStringLiteral("admin API TLS: %1").arg(tlsError);
            return false;
        }
    }
    options.headerTimeoutMs = int(m_config.headerTimeout * 1000);
    options.idleTimeoutMs = int(m_config.idleTimeout * 1000);
    m_adminFrontend =
        std::make_unique<HttpFrontend>(options, m_adminRouter.get(), m_requestMetrics.get());
    QString listenError;
    if (!m_adminFrontend->start(&listenError)) {
        *error = QStringLiteral("cannot listen on %1 (admin API): %2")
                     .arg(m_config.adminListen.toString(), listenError);
        m_adminFrontend.reset();
        return false;
    }
    qCInfo(lcServer).noquote() << "admin API listening on" << m_adminFrontend->addressString()
                               << (options.tls ? "(https)" : "(http)");
    if (!m_adminApi->isTokenConfigured())
        qCWarning(lcGateway) << "no admin token configured: the admin API answers 503 to every "
                                "call until SLUICE_ADMIN_TOKEN or admin_token in [admin] is set";
    return true;
}

bool Gateway::startProxy(QString *error)
{
    QString why;
    const auto upstreams = UpstreamConfigLoader::load(
        m_config.extraSections, QProcessEnvironment::systemEnvironment(), &why);
    if (!upstreams) {
        *error = why;
        return false;
    }
    for (const UpstreamConfig &u : *upstreams) {
        qCInfo(lcGateway).noquote()
            << "upstream" << u.name << "(" + UpstreamConfig::kindName(u.kind) + ")" << u.baseUrl
            << "models" << u.models.join(QStringLiteral(", ")) << "priority" << u.priority;
    }
    std::vector<double> buckets(m_config.histogramBuckets.begin(), m_config.histogramBuckets.end());
    if (buckets.empty())
        buckets = MetricsRegistry::defaultDurationBuckets();
    UsageLedger::Options ledgerOptions;
    ledgerOptions.queryObserver = m_requestMetrics->queryObserver();
    m_ledger =
        std::make_unique<UsageLedger>(m_config.effectiveLedgerDb(), ledgerOptions, *m_registry);
    m_proxyMetrics = std::make_unique<ProxyMetrics>(
        *m_registry, buckets, m_config.metricsLabelLimit, m_config.metricsPerUser);
    QStringList names;
    for (const UpstreamConfig &u : *upstreams)
        names << u.name;
    m_upstreamTraffic = std::make_unique<UpstreamTraffic>(names);
    // Each upstream is a non-critical component: traffic first, a cheap probe when quiet.
    const int probeTimeoutMs = qMax(100, int(m_config.healthTimeout * 1000) - 200);
    for (const UpstreamConfig &u : *upstreams)
        m_health->addCheck(std::make_unique<UpstreamCheck>(u, *m_upstreamTraffic, probeTimeoutMs));
    m_proxy = std::make_unique<ProxyHandler>(*upstreams, *m_proxyMetrics, m_ledger.get(),
                                             m_upstreamTraffic.get(), ProxyHandler::Options{});
    const auto costs = CostTable::fromIni(m_config.extraSections, &why);
    if (!costs) {
        *error = why;
        return false;
    }
    m_limiter = std::make_unique<Limiter>(makeLimitStore(), *costs, *m_registry);
    m_proxy->setLimiter(m_limiter.get());
    m_anonymousLimits = std::make_unique<AnonymousLimits>(*m_limiter, *m_keyCache);
    // Every denial into the violations table, monthly quotas watched for 80 % and 100 %
    // alerts: both write to the ledger database from threads of their own.
    ViolationLog::Options violationOptions;
    violationOptions.queryObserver = m_requestMetrics->queryObserver();
    m_violations =
        std::make_unique<ViolationLog>(m_config.effectiveLedgerDb(), violationOptions, *m_registry);
    QuotaAlertMonitor::Options alertOptions;
    alertOptions.queryObserver = m_requestMetrics->queryObserver();
    m_quotaAlerts = std::make_unique<QuotaAlertMonitor>(m_config.effectiveLedgerDb(), alertOptions,
                                                        *m_registry);
    if (!m_quotaAlerts->load(QDateTime::currentDateTimeUtc(), &why)) {
        *error = QStringLiteral("ledger database: reading this month's quota alerts: %1").arg(why);
        return false;
    }
    m_proxy->setViolationLog(m_violations.get());
    m_proxy->setQuotaAlerts(m_quotaAlerts.get());
    return seedMonthlyQuotas(error);
}

std::unique_ptr<LimitStore> Gateway::makeLimitStore()
{
    if (!m_config.redis)
        return std::make_unique<MemoryLimitStore>();
    // Redis shares the limits between instances; memory takes over while it is unreachable.
    m_redisMetrics = std::make_unique<RedisMetrics>(*m_registry);
    const int timeoutMs = std::max(1, int(m_config.redisTimeout * 1000));
    auto fallback = std::make_unique<FallbackLimitStore>(
        std::make_unique<RedisLimitStore>(RedisLimitStore::Options{*m_config.redis, timeoutMs},
                                          *m_redisMetrics),
        std::make_unique<MemoryLimitStore>(), FallbackLimitStore::Options{m_config.failClosed},
        *m_redisMetrics, *m_registry);
    FallbackLimitStore *store = fallback.get();
    connect(store, &FallbackLimitStore::redisRecovered, this, [this] {
        QString why;
        if (!seedMonthlyQuotas(&why))
            qCWarning(lcGateway).noquote() << "cannot rebuild the monthly counters:" << why;
    });
    m_health->addCheck(std::make_unique<RedisCheck>(
        *m_config.redis, qMax(100, int(m_config.healthTimeout * 1000) - 200),
        [store] { return store->fallbackActive() ? store->fallbackReason() : QByteArray(); }));
    qCInfo(lcGateway).noquote() << "rate limits shared through" << m_config.redis->redacted()
                                << (m_config.failClosed ? "(fail closed)" : "(fail open)");
    return fallback;
}

bool Gateway::seedMonthlyQuotas(QString *error)
{
    // Monthly counters start from the ledger's month-to-date totals, so a restart never hands
    // out a fresh month. Runs once, before the listeners open.
    const qint64 monthStartMs =
        CalendarMonth::startUs(CalendarMonth::indexOf(MemoryLimitStore::nowUs())) / 1000;
    DatabaseConnection conn(m_config.effectiveLedgerDb(), QStringLiteral("ledger"));
    QString why;
    const auto rows = conn.open(&why)
                          ? MonthToDateUsage::load(
                                conn, QDateTime::fromMSecsSinceEpoch(monthStartMs, Qt::UTC), &why)
                          : std::nullopt;
    if (!rows) {
        *error = QStringLiteral("ledger database: reading this month's usage: %1").arg(why);
        return false;
    }
    struct Used
    {
        double requests = 0;
        double tokens = 0;
    };
    QHash<qint64, Used> users;
    QHash<qint64, Used> keys;
    // Per-model quotas count under the key's first pattern matching the row's model, as the
    // proxy counts them.
    QHash<qint64, const Principal *> withModelLimits;
    if (const IdentitySnapshot *snapshot = m_keyCache->current()) {
        for (const auto &p : snapshot->principals()) {
            if (!p->modelLimits.isEmpty())
                withModelLimits.insert(p->keyId, p.get());
        }
    }
    QHash<std::pair<qint64, QString>, Used> models;
    for (const MonthToDateRow &r : *rows) {
        const double requests = double(r.forwarded) * m_limiter->costs().costOf(r.route.toUtf8());
        QList<Used *> counters{&users[r.userId], &keys[r.keyId]};
        if (const Principal *p = withModelLimits.value(r.keyId)) {
            for (const ResolvedModelLimit &m : p->modelLimits) {
                if (ModelGlob::matches(m.model, r.model)) {
                    counters << &models[{r.keyId, m.model}];
                    break;
                }
            }
        }
        for (Used *u : counters) {
            u->requests += requests;
            u->tokens += double(r.tokens);
        }
    }
    for (auto it = models.cbegin(); it != models.cend(); ++it)
        m_limiter->seedMonthlyModel(QByteArray::number(it.key().first), it.key().second.toUtf8(),
                                    it->requests, it->tokens);
    for (auto it = users.cbegin(); it != users.cend(); ++it)
        m_limiter->seedMonthly(LimitScope::User, QByteArray::number(it.key()), it->requests,
                               it->tokens);
    for (auto it = keys.cbegin(); it != keys.cend(); ++it)
        m_limiter->seedMonthly(LimitScope::Key, QByteArray::number(it.key()), it->requests,
                               it->tokens);
    if (!rows->isEmpty())
        qCInfo(lcGateway) << "monthly quotas: month-to-date usage of" << keys.size() << "keys and"
                          << users.size() << "users read from the ledger";
    return true;
}

void Gateway::seedToday()
{
    // The overview's "today" starts from what the ledger holds since UTC midnight (earlier
    // runs, other gateways on the same ledger), read once; the series adds what this gateway
    // answers from now on. The ledger counts forwarded requests: its refusals are not in it.
    const QDateTime midnight(QDateTime::currentDateTimeUtc().date(), QTime(0, 0), Qt::UTC);
    DatabaseConnection conn(m_config.effectiveLedgerDb(), QStringLiteral("ledger"));
    conn.setQueryObserver(m_requestMetrics->queryObserver());
    QString why;
    const auto rows = conn.open(&why) ? MonthToDateUsage::load(conn, midnight, &why) : std::nullopt;
    if (!rows) {
        qCWarning(lcGateway).noquote() << "cannot read today's usage from the ledger:" << why;
        return;
    }
    SeriesRecorder::DayTotals seed;
    for (const MonthToDateRow &r : *rows) {
        seed.requests += double(r.forwarded);
        seed.tokens += double(r.tokens);
    }
    m_series->seedToday(seed);
}

void Gateway::recordInstance()
{
    // Which gateways run on this database: the dashboard and operators read it.
    DatabaseConnection conn(m_config.db, QStringLiteral("identity"));
    conn.setQueryObserver(m_requestMetrics->queryObserver());
    QString why;
    const QString now = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    if (!conn.open(&why) ||
        !conn.exec(
            QStringLiteral("INSERT INTO gateway_instances (instance_id, hostname, version, "
                           "started_at, last_seen_at) VALUES (?, ?, ?, ?, ?)"),
            {m_instanceId, QHostInfo::localHostName(), QString::fromLatin1(kVersion), now, now},
            &why)) {
        qCWarning(lcStorage).noquote() << "cannot record this instance:" << why;
    }
}

void Gateway::setupHealth()
{
    const int slowMs = int(m_config.dbSlowThreshold * 1000);
    const bool split = m_config.ledgerDb && !(*m_config.ledgerDb == m_config.db);
    if (split) {
        m_health->addCheck(std::make_unique<DatabaseCheck>(
            QStringLiteral("identity_db"), m_config.db, slowMs, m_requestMetrics->queryObserver()));
        m_health->addCheck(std::make_unique<DatabaseCheck>(QStringLiteral("ledger_db"),
                                                           *m_config.ledgerDb, slowMs,
                                                           m_requestMetrics->queryObserver()));
    } else {
        m_health->addCheck(std::make_unique<DatabaseCheck>(
            QStringLiteral("database"), m_config.db, slowMs, m_requestMetrics->queryObserver()));
    }
    m_health->addCheck(std::make_unique<DiskSpaceCheck>(m_config.dataDir));
    m_health->addCheck(std::make_unique<MemoryCheck>(m_config.memoryLimit));
}

void Gateway::registerGatewayMetrics()
{
    ProcessMetrics::registerOn(*m_registry);
    m_registry->addCallbackGauge(
        "gateway_build_info", "Sluice version; the value is always 1.", {"version"}, [] {
            return QList<MetricsRegistry::Sample>{{{QByteArray(kVersion)}, 1.0}};
        });
    m_registry->addCallbackGauge(
        "gateway_uptime_seconds", "Seconds since the gateway started.", {}, [this] {
            return QList<MetricsRegistry::Sample>{{{}, double(m_state.uptime.elapsed()) / 1000.0}};
        });
    m_registry->addCallbackGauge(
        "gateway_health_status",
        "Component health from the last check: 1 healthy, 0.5 degraded, 0 unhealthy.",
        {"component"}, [this] {
            QList<MetricsRegistry::Sample> samples;
            if (const auto report = m_health->latest()) {
                for (const ComponentHealth &c : report->components)
                    samples.append({{c.name.toUtf8()}, healthStatusValue(c.result.status)});
            }
            return samples;
        });
}

void Gateway::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    m_state.draining = true;  // /health/ready answers 503 from now on
    if (!m_frontend) {
        finishShutdown();
        return;
    }
    qCInfo(lcGateway) << "draining:" << m_frontend->inFlightRequests() << "requests in flight,"
                      << m_frontend->openConnections() << "connections; waiting up to"
                      << m_config.drainTimeout << "s";
    m_frontend->beginDrain();
    if (m_adminFrontend)
        m_adminFrontend->beginDrain();
    m_drainClock.start();
    m_drainTimer.start(20);
    drainTick();
}

void Gateway::drainTick()
{
    if (m_stopped)
        return;
    qint64 inFlight = m_frontend->inFlightRequests();
    int open = m_frontend->openConnections();
    if (m_adminFrontend) {
        inFlight += m_adminFrontend->inFlightRequests();
        open += m_adminFrontend->openConnections();
    }
    if (inFlight == 0 && open == 0) {
        finishShutdown();
    } else if (m_drainClock.elapsed() >= qint64(m_config.drainTimeout * 1000)) {
        qCWarning(lcGateway) << "drain timeout reached with" << inFlight << "requests in flight and"
                             << open << "connections open; closing them";
        finishShutdown();
    }
}

void Gateway::finishShutdown()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_drainTimer.stop();
    if (m_adminApi)
        m_adminApi->close();
    if (m_adminFrontend)
        m_adminFrontend->stop();
    if (m_frontend)
        m_frontend->stop();
    if (m_identityRefresher)
        m_identityRefresher->stop();  // writes the last batch of last_used_at
    if (m_ledger) {
        QString ledgerError;
        if (!m_ledger->flush(&ledgerError))
            qCWarning(lcGateway).noquote() << "usage ledger not fully written:" << ledgerError;
    }
    QString limitEventsError;
    if (m_violations && !m_violations->flush(&limitEventsError))
        qCWarning(lcGateway).noquote()
            << "rate-limit violations not fully written:" << limitEventsError;
    if (m_quotaAlerts && !m_quotaAlerts->flush(&limitEventsError))
        qCWarning(lcGateway).noquote() << "quota alerts not fully written:" << limitEventsError;
    qCInfo(lcGateway) << "stopped after" << m_state.uptime.elapsed() / 1000.0 << "s of uptime";
    emit stopped();
}

}  // namespace sluice
