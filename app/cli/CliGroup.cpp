#include "CliGroup.h"

#include "CliIo.h"

namespace sluice {

CliGroup::CliGroup(QString name, QString description, QList<CliCommand> commands)
    : m_name(std::move(name)),
      m_description(std::move(description)),
      m_commands(std::move(commands))
{}

int CliGroup::run(const QStringList &args) const
{
    QStringList names;
    for (const CliCommand &c : m_commands)
        names << c.name;
    if (args.isEmpty()) {
        return CliIo::usageError(QStringLiteral("missing command after \"%1\": one of %2 (see "
                                                "sluice %1 --help)")
                                     .arg(m_name, names.join(QStringLiteral(", "))));
    }
    const QString &word = args.first();
    if (word == QLatin1String("--help") || word == QLatin1String("-h") ||
        word == QLatin1String("help")) {
        CliIo::out(help());
        return CliIo::kOk;
    }
    for (const CliCommand &command : m_commands) {
        if (command.name != word)
            continue;
        CliArgs parsed;
        QString error;
        if (!parsed.parse(args.mid(1), command.flags, &error)) {
            return CliIo::usageError(
                QStringLiteral("%1 (see sluice %2 %3 --help)").arg(error, m_name, command.name));
        }
        if (parsed.help()) {
            CliIo::out(help(command));
            return CliIo::kOk;
        }
        return command.run(parsed);
    }
    if (word.startsWith(u'-')) {
        return CliIo::usageError(
            QStringLiteral("unknown option %1 before the command; expected one of %2 (see sluice "
                           "%3 --help)")
                .arg(word, names.join(QStringLiteral(", ")), m_name));
    }
    return CliIo::usageError(
        QStringLiteral("unknown command \"%1 %2\": expected one of %3 (see sluice %1 --help)")
            .arg(m_name, word, names.join(QStringLiteral(", "))));
}

QString CliGroup::help() const
{
    QString text = QStringLiteral("Usage: sluice %1 COMMAND [OPTIONS]\n\n%2\n\nCommands:\n")
                       .arg(m_name, m_description);
    for (const CliCommand &c : m_commands)
        text += QStringLiteral("  %1  %2\n").arg(c.name.leftJustified(8), c.summary);
    text +=
        QStringLiteral("\n\"sluice %1 COMMAND --help\" shows a command's options.\n").arg(m_name);
    text += commonOptionsHelp();
    return text;
}

QString CliGroup::help(const CliCommand &command) const
{
    QString text = QStringLiteral("Usage: sluice %1 %2 %3\n\n%4\n")
                       .arg(m_name, command.name, command.synopsis, command.description);
    if (!command.optionsHelp.isEmpty())
        text += u'\n' + command.optionsHelp;
    text += commonOptionsHelp();
    return text;
}

QString CliGroup::commonOptionsHelp()
{
    return QStringLiteral(
        "\nEvery command takes the gateway's options, --db URL and --config FILE above all (see\n"
        "sluice --help), and works on that database directly, also while a gateway runs on it.\n"
        "Exit status: 0 on success, 2 on a usage error or a refused change (one \"sluice: \" line\n"
        "on stderr), 1 when the database cannot be reached or fails.\n");
}

}  // namespace sluice
