// sluice: the LLM API gateway. `sluice --headless` serves without a window; the dashboard
// arrives with its own issue, so for now a display only changes the log line.

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
#include <cstdio>

using namespace sluice;

namespace {
constexpr int kExitUsage = 2;
constexpr int kExitStartFailed = 1;

bool displayAvailable()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY");
}
}  // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sluice"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));

    const ConfigLoadResult loaded =
        ConfigLoader::load(app.arguments().mid(1), QProcessEnvironment::systemEnvironment());
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
    if (!config.headless) {
        qCInfo(lcGateway).noquote()
            << (displayAvailable() ? "display found, but the dashboard is not part of this build "
                                     "yet; running headless"
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
    return app.exec();
}
