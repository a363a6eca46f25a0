// sluice: the LLM API gateway. `sluice --headless` serves without a window; without it and
// with a display, the desktop dashboard opens over the same gateway (when it was built).

#include "CliDispatcher.h"
#include "ConfigLoader.h"
#include "CostTable.h"
#include "Gateway.h"
#include "IdentitySeeder.h"
#include "LogCategories.h"
#include "LogSetup.h"
#include "ProcessLimits.h"
#include "UnixSignalWatcher.h"
#include "UpstreamConfig.h"
#include "Version.h"

#include <QCoreApplication>
#include <QProcessEnvironment>
#include <QSslCertificate>
#include <QUrl>
#include <cstdio>
#include <memory>

#ifdef SLUICE_HAVE_DASHBOARD
#include "DashboardApp.h"
#include "LocalDashboardSource.h"
#include "RemoteDashboardSource.h"

#include <QtQml/qqmlextensionplugin.h>
#include <QApplication>
#include <QQuickStyle>
Q_IMPORT_QML_PLUGIN(SluiceUiPlugin)
Q_IMPORT_QML_PLUGIN(SluiceDashboardPlugin)
#endif

using namespace sluice;

namespace {
constexpr int kExitUsage = 2;
constexpr int kExitStartFailed = 1;

// An explicit QT_QPA_PLATFORM (offscreen in tests, a VNC or EGLFS setup) counts as a display.
bool displayAvailable()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
           qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

#ifdef SLUICE_HAVE_DASHBOARD
constexpr bool kDashboardBuilt = true;
#else
constexpr bool kDashboardBuilt = false;
#endif

int usageError(const QString &message)
{
    std::fprintf(stderr, "sluice: %s\n", qPrintable(message));
    return kExitUsage;
}

// `sluice --connect URL`: the dashboard of a remote gateway, through its admin API only. No
// gateway, no database and none of the gateway's settings are used here.
int runRemote(QCoreApplication &app, const GatewayConfig &config, const QStringList &positional,
              bool withDashboard)
{
    if (!positional.isEmpty())
        return usageError(
            QStringLiteral("--connect opens the dashboard of a remote gateway and cannot run the "
                           "command \"%1\": run it on that gateway's host, or use its admin API")
                .arg(positional.first()));
    if (config.headless)
        return usageError(QStringLiteral(
            "--connect opens the dashboard of a remote gateway and --headless runs without a "
            "dashboard: use one or the other"));
    if (!kDashboardBuilt)
        return usageError(QStringLiteral(
            "--connect needs the dashboard, and this build has none (built with SLUICE_GUI=OFF)"));
    if (config.adminToken.isEmpty())
        return usageError(
            QStringLiteral("--connect needs the remote gateway's admin token: "
                           "set SLUICE_ADMIN_TOKEN or pass --admin-token"));
    QList<QSslCertificate> trusted;
    if (!config.adminCa.isEmpty()) {
        trusted = QSslCertificate::fromPath(config.adminCa, QSsl::Pem);
        if (trusted.isEmpty())
            return usageError(
                QStringLiteral("--admin-ca %1: no PEM certificate could be read from it")
                    .arg(config.adminCa));
        if (QUrl(config.connect).scheme() != QLatin1String("https"))
            return usageError(
                QStringLiteral("--admin-ca only applies to an https:// --connect URL"));
    }
    LogSetup::install(config.logLevel, config.logFormat);
    if (!withDashboard) {
        qCCritical(lcGateway) << "--connect needs a display, and none was found (DISPLAY, "
                                 "WAYLAND_DISPLAY or QT_QPA_PLATFORM)";
        return kExitStartFailed;
    }
#ifdef SLUICE_HAVE_DASHBOARD
    const QUrl url(config.connect);
    qCInfo(lcGateway).noquote() << "sluice" << kVersion << "dashboard of the remote gateway at"
                                << url.toDisplayString();
    UnixSignalWatcher signalWatcher;
    QObject::connect(&signalWatcher, &UnixSignalWatcher::terminationRequested, &app,
                     [] { QCoreApplication::exit(0); });
    auto source = std::make_unique<RemoteDashboardSource>(url, config.adminToken.toUtf8());
    if (!config.adminCa.isEmpty())
        source->trustCertificates(trusted);
    DashboardApp dashboard(std::move(source));
    QString error;
    if (!dashboard.show(&error)) {
        qCCritical(lcGateway).noquote() << error;
        return kExitStartFailed;
    }
    qCInfo(lcGateway) << "dashboard open (remote)";
    QObject::connect(&dashboard, &DashboardApp::quitRequested, &app,
                     [] { QCoreApplication::exit(0); });
    return app.exec();
#else
    Q_UNUSED(app);
    return kExitStartFailed;
#endif
}
}  // namespace

int main(int argc, char *argv[])
{
    QCoreApplication::setApplicationName(QStringLiteral("sluice"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));
    // The arguments are read before the application object exists: whether it is a
    // QApplication (the dashboard) or a QCoreApplication depends on them.
    QStringList arguments;
    for (int i = 1; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    const ConfigLoadResult loaded =
        ConfigLoader::load(arguments, QProcessEnvironment::systemEnvironment());
    const bool withDashboard = kDashboardBuilt && !loaded.help && !loaded.version &&
                               !loaded.error && loaded.positional.isEmpty() &&
                               !loaded.config.headless && displayAvailable();
    std::unique_ptr<QCoreApplication> application;
#ifdef SLUICE_HAVE_DASHBOARD
    if (withDashboard) {
        QQuickStyle::setStyle(QStringLiteral("Fusion"));  // follows the palette: light and dark
        application = std::make_unique<QApplication>(argc, argv);
    }
#endif
    if (!application)
        application = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication &app = *application;

    if (loaded.help) {
        std::fputs(qPrintable(ConfigLoader::helpText() + CliDispatcher::commandsHelp()), stdout);
        return 0;
    }
    if (loaded.version) {
        std::printf("sluice %s\n", kVersion);
        return 0;
    }
    if (loaded.error) {
        std::fprintf(stderr, "sluice: %s\n", qPrintable(loaded.error->message()));
        return kExitUsage;
    }
    const GatewayConfig &config = loaded.config;
    if (!config.connect.isEmpty())
        return runRemote(app, config, loaded.positional, withDashboard);
    // Administrative commands work on the database and exit; no gateway is started.
    // [tier.NAME] and [defaults.*] are checked now, so a bad INI value is a usage error (2)
    // for the gateway and the CLI alike, before any database is touched.
    QString seedError;
    if (!IdentitySeeder::fromIni(config.extraSections, &seedError, config.configFile)) {
        std::fprintf(stderr, "sluice: %s\n", qPrintable(seedError));
        return kExitUsage;
    }
    if (!UpstreamConfigLoader::load(config.extraSections, QProcessEnvironment::systemEnvironment(),
                                    &seedError)) {
        std::fprintf(stderr, "sluice: %s\n", qPrintable(seedError));
        return kExitUsage;
    }
    if (!CostTable::fromIni(config.extraSections, &seedError)) {
        std::fprintf(stderr, "sluice: %s\n", qPrintable(seedError));
        return kExitUsage;
    }
    if (!loaded.positional.isEmpty())
        return CliDispatcher::run(loaded.positional, config);
    LogSetup::install(config.logLevel, config.logFormat);

    qCInfo(lcGateway).noquote() << "sluice" << kVersion << "starting";
    if (!config.headless && !withDashboard) {
        qCInfo(lcGateway).noquote()
            << (displayAvailable() ? "display found, but this build has no dashboard; running "
                                     "headless"
                                   : "no display available; running headless");
    }
    config.logSummary();
    raiseFileDescriptorLimit();

    UnixSignalWatcher signalWatcher;
    Gateway gateway(config);
    QString error;
    if (!gateway.start(&error)) {
        qCCritical(lcGateway).noquote() << "cannot start:" << error;
        return kExitStartFailed;
    }
    QObject::connect(&signalWatcher, &UnixSignalWatcher::terminationRequested, &gateway,
                     [&](int signo) {
                         qCInfo(lcGateway) << "signal" << signo
                                           << "received: draining (send it again to exit at once)";
                         gateway.shutdown();
                     });
    QObject::connect(&gateway, &Gateway::stopped, &app, [] { QCoreApplication::exit(0); });
#ifdef SLUICE_HAVE_DASHBOARD
    std::unique_ptr<DashboardApp> dashboard;
    if (withDashboard) {
        dashboard = std::make_unique<DashboardApp>(std::make_unique<LocalDashboardSource>(gateway));
        if (!dashboard->show(&error)) {
            qCCritical(lcGateway).noquote() << error;
            gateway.shutdown();
        } else {
            qCInfo(lcGateway) << "dashboard open";
        }
        QObject::connect(dashboard.get(), &DashboardApp::quitRequested, &gateway,
                         [&] { gateway.shutdown(); });
    }
#endif
    const int status = app.exec();
#ifdef SLUICE_HAVE_DASHBOARD
    dashboard.reset();  // before the gateway its source reads
#endif
    return status;
}
