#include "CliDispatcher.h"

#include "CliIo.h"
#include "KeysCommand.h"
#include "TiersCommand.h"
#include "UsageCommand.h"
#include "UsersCommand.h"

#include "LogSetup.h"

#include <algorithm>

namespace sluice {

int CliDispatcher::run(const QStringList &positional, const GatewayConfig &config)
{
    // The commands' own output says what they did; the identity layer's info lines would only
    // repeat it on stderr. Warnings, and debug when asked for, still show.
    const LogLevel level = config.logLevel == LogLevel::Debug
                               ? LogLevel::Debug
                               : std::max(config.logLevel, LogLevel::Warning);
    LogSetup::install(level, config.logFormat);

    const QString command = positional.value(0);
    const QStringList rest = positional.mid(1);
    if (command == QLatin1String("users"))
        return UsersCommand(config).run(rest);
    if (command == QLatin1String("keys"))
        return KeysCommand(config).run(rest);
    if (command == QLatin1String("tiers"))
        return TiersCommand(config).run(rest);
    if (command == QLatin1String("usage"))
        return UsageCommand(config).run(rest);
    if (command == QLatin1String("help")) {
        CliIo::out(commandsHelp());
        return CliIo::kOk;
    }
    return CliIo::usageError(
        QStringLiteral(
            "unknown command \"%1\": expected users, keys, tiers or usage (see sluice --help)")
            .arg(command));
}

QString CliDispatcher::commandsHelp()
{
    return QStringLiteral(
        "\nCommands (on the database of --db, also while a gateway runs on it; docs/cli.md):\n"
        "  users add|list|disable|enable|set     manage users\n"
        "  keys create|list|revoke               manage API keys\n"
        "  tiers list|set                        manage tiers and their limits\n"
        "  usage [--by day|model|key|user]       requests and tokens per user, key, model or day\n"
        "\"sluice COMMAND --help\" describes each, e.g. \"sluice keys create --help\".\n");
}

}  // namespace sluice
