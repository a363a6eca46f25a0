#pragma once

#include "DatabaseUrl.h"
#include "HostPort.h"
#include "LogSetup.h"
#include "RedisUrl.h"

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <optional>

namespace sluice {

// Every gateway setting with its built-in default. ConfigLoader fills it from the INI file,
// the SLUICE_* environment and the command line; docs/configuration.md describes each key.
struct GatewayConfig
{
    // The INI file that was read (--config / SLUICE_CONFIG); empty when none.
    QString configFile;

    // --connect / SLUICE_CONNECT (not an INI key): the admin API of a remote gateway,
    // "http(s)://HOST:PORT", whose dashboard to open instead of starting a gateway. Empty:
    // local mode. The loader only accepts http and https URLs with a host.
    QString connect;

    // [server]
    bool headless = false;  // gateway only, no dashboard window
    HostPort listen{QStringLiteral("127.0.0.1"), 8081};
    HostPort adminListen{QStringLiteral("127.0.0.1"), 8082};
    int workers = defaultWorkers();                 // HTTP worker threads, 1..256
    double drainTimeout = 30.0;                     // seconds, >= 0
    qint64 maxBodySize = qint64(10) * 1024 * 1024;  // bytes
    double headerTimeout = 10.0;                    // seconds, > 0
    double idleTimeout = 60.0;                      // seconds, > 0
    QStringList trustedProxies;                     // CIDRs whose X-Forwarded-For is believed

    // [storage]
    QString dataDir;  // absolute; ConfigLoader sets defaultDataDir() unless configured
    DatabaseUrl db;   // ConfigLoader sets sqlite://<dataDir>/sluice.db unless configured
    std::optional<DatabaseUrl> ledgerDb;  // none = the ledger lives in `db`

    // [redis]
    std::optional<RedisUrl> redis;  // none = in-memory rate limits
    double redisTimeout = 0.05;     // seconds a decision may wait for Redis, > 0
    bool failClosed = false;        // Redis unreachable: 503 instead of memory decisions

    // [log]
    LogLevel logLevel = LogLevel::Info;
    LogFormat logFormat = LogFormat::Text;

    // [health]
    double healthTtl = 2.0;                               // seconds a result is cached, >= 0
    double healthTimeout = 2.0;                           // seconds per check, > 0
    double dbSlowThreshold = 0.5;                         // seconds; slower DB = degraded
    qint64 memoryLimit = qint64(2) * 1024 * 1024 * 1024;  // bytes of RSS

    // [metrics]
    QList<double> histogramBuckets;  // seconds, increasing; empty = built-in defaults
    bool metricsPerUser = true;      // gateway_tokens_by_user_total{user}
    int metricsLabelLimit = 1000;    // user/model label values before "other"
    bool metricsOnAdmin = false;     // /metrics on the admin listener instead of the public one

    // [admin]
    QString adminToken;  // Bearer token of /admin/v1; empty = the admin API refuses (503)
    // PEM files of the admin listener's TLS; both or neither (the loader checks). Required when
    // adminListen is not a loopback address.
    QString adminTlsCertificate;
    QString adminTlsKey;
    // --connect https://...: extra PEM certificates the dashboard trusts; empty = system CAs only.
    QString adminCa;

    // Raw key/values of sections registered with ConfigLoader::addExtraSection(), by section
    // name; values are QString, or QStringList for unquoted commas.
    QMap<QString, QMap<QString, QVariant>> extraSections;

    const DatabaseUrl &effectiveLedgerDb() const { return ledgerDb ? *ledgerDb : db; }

    // One line with the effective settings, passwords redacted, for the startup log.
    QString summary() const;
    // Logs summary() on lcConfig; call after LogSetup::install().
    void logSummary() const;

    // QThread::idealThreadCount() clamped to 1..256.
    static int defaultWorkers();
    // QStandardPaths AppDataLocation for the application "sluice" (~/.local/share/sluice),
    // whatever the running executable is called (tests, tools).
    static QString defaultDataDir();
    // sqlite://<dataDir>/sluice.db
    static DatabaseUrl defaultDb(const QString &dataDir);
};

}  // namespace sluice
