#include "GatewayConfig.h"

#include "ConfigValues.h"
#include "LogCategories.h"

#include <QDir>
#include <QStandardPaths>
#include <QThread>
#include <algorithm>

namespace sluice {

namespace {

const char *levelName(LogLevel level)
{
    switch (level) {
        case LogLevel::Debug:
            return "debug";
        case LogLevel::Info:
            return "info";
        case LogLevel::Warning:
            return "warning";
        case LogLevel::Error:
            return "error";
    }
    return "info";
}

}  // namespace

int GatewayConfig::defaultWorkers()
{
    return std::clamp(QThread::idealThreadCount(), 1, 256);
}

QString GatewayConfig::defaultDataDir()
{
    // AppDataLocation would use the running binary's name (e.g. "tst_config"); on Linux it is
    // GenericDataLocation/<organization>/<application> and Sluice sets no organization.
    const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    return QDir::cleanPath(base + QStringLiteral("/sluice"));
}

DatabaseUrl GatewayConfig::defaultDb(const QString &dataDir)
{
    DatabaseUrl url;
    url.driver = DatabaseUrl::Driver::Sqlite;
    url.path = QDir::cleanPath(dataDir + QStringLiteral("/sluice.db"));
    return url;
}

QString GatewayConfig::summary() const
{
    QString s;
    s += QStringLiteral("config file %1; ")
             .arg(configFile.isEmpty() ? QStringLiteral("none") : configFile);
    // Whether an admin token is set, never the token itself.
    s += QStringLiteral("listen %1, admin %2 (%3, token %4), workers %5%6; ")
             .arg(listen.toString(), adminListen.toString(),
                  adminTlsCertificate.isEmpty() ? QStringLiteral("http") : QStringLiteral("https"),
                  adminToken.isEmpty() ? QStringLiteral("none") : QStringLiteral("set"),
                  QString::number(workers), headless ? QStringLiteral(", headless") : QString());
    s += QStringLiteral("data dir %1, db %2, ledger db %3; ")
             .arg(dataDir, db.redacted(),
                  ledgerDb ? ledgerDb->redacted() : QStringLiteral("same as db"));
    s += QStringLiteral("redis %1; ")
             .arg(redis ? redis->redacted() : QStringLiteral("none (in-memory limits)"));
    s += QStringLiteral("log %1/%2; ")
             .arg(QLatin1String(levelName(logLevel)),
                  logFormat == LogFormat::Json ? QStringLiteral("json") : QStringLiteral("text"));
    s += QStringLiteral("max body %1, memory limit %2")
             .arg(ConfigValues::formatByteSize(maxBodySize),
                  ConfigValues::formatByteSize(memoryLimit));
    return s;
}

void GatewayConfig::logSummary() const
{
    qCInfo(lcConfig).noquote() << summary();
}

}  // namespace sluice
