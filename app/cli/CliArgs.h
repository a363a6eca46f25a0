#pragma once

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace sluice {

// One flag a subcommand accepts: "tier" for --tier VALUE, or a switch such as --json.
struct CliFlag
{
    QString name;
    bool takesValue = true;
};

// A subcommand's own arguments. ConfigLoader has already taken the gateway's flags (--db,
// --config, ...) wherever they appeared and passed the rest on, so what is left here are
// positional words and flags the subcommand must know, else it is a usage error.
// Accepted forms: --name VALUE, --name=VALUE, --switch; -h/--help anywhere.
class CliArgs
{
public:
    // False with *error (one line, no "sluice: " prefix) on an unknown flag, a missing value
    // or a flag given twice.
    bool parse(const QStringList &args, const QList<CliFlag> &flags, QString *error);

    bool help() const { return m_help; }
    bool has(const QString &name) const { return m_values.contains(name); }
    QString value(const QString &name) const { return m_values.value(name); }
    const QStringList &positional() const { return m_positional; }

    // Checks the number of positional words; `usage` is what the message shows, e.g.
    // "sluice users add NAME".
    bool expectPositional(int count, const QString &usage, QString *error) const;

private:
    QMap<QString, QString> m_values;  // switches map to "true"
    QStringList m_positional;
    bool m_help = false;
};

}  // namespace sluice
