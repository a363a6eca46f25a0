#include "CliArgs.h"

namespace sluice {

bool CliArgs::parse(const QStringList &args, const QList<CliFlag> &flags, QString *error)
{
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args.at(i);
        if (arg == QLatin1String("-h") || arg == QLatin1String("--help")) {
            m_help = true;
            continue;
        }
        // A lone "-" or a negative number is a word, not a flag; a flag needs "--".
        if (!arg.startsWith(QLatin1String("--"))) {
            m_positional << arg;
            continue;
        }
        const qsizetype eq = arg.indexOf(u'=');
        const QString name = arg.mid(2, eq < 0 ? -1 : eq - 2);
        const CliFlag *flag = nullptr;
        for (const CliFlag &f : flags) {
            if (f.name == name)
                flag = &f;
        }
        if (!flag) {
            *error = QStringLiteral("unknown option --%1").arg(name);
            return false;
        }
        if (m_values.contains(name)) {
            *error = QStringLiteral("--%1 given twice").arg(name);
            return false;
        }
        if (!flag->takesValue) {
            if (eq >= 0) {
                *error = QStringLiteral("--%1 takes no value").arg(name);
                return false;
            }
            m_values.insert(name, QStringLiteral("true"));
            continue;
        }
        if (eq >= 0) {
            m_values.insert(name, arg.mid(eq + 1));
        } else if (i + 1 < args.size() && !args.at(i + 1).startsWith(QLatin1String("--"))) {
            m_values.insert(name,
                            args.at(++i));  // may be "" (clears a limit) or "-1" (refused later)
        } else {
            *error = QStringLiteral("--%1 needs a value").arg(name);
            return false;
        }
    }
    return true;
}

bool CliArgs::expectPositional(int count, const QString &usage, QString *error) const
{
    if (m_positional.size() == count)
        return true;
    if (m_positional.size() < count)
        *error = QStringLiteral("missing argument (usage: %1)").arg(usage);
    else
        *error = QStringLiteral("unexpected argument \"%1\" (usage: %2)")
                     .arg(m_positional.at(count), usage);
    return false;
}

}  // namespace sluice
