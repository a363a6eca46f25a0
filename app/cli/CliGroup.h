#pragma once

#include "CliArgs.h"

#include <QList>
#include <QString>
#include <functional>
#include <utility>

namespace sluice {

// One subcommand of a group: `sluice users add ...`.
struct CliCommand
{
    QString name;         // "add"
    QString synopsis;     // "NAME [--tier T] [--email E] [limits] [--json]"
    QString summary;      // one line for the group's help
    QString description;  // paragraphs for the command's own help
    QList<CliFlag> flags;
    QString optionsHelp;  // the flags' lines for --help
    std::function<int(const CliArgs &)> run;
};

// A command group (users, keys, tiers): picks the subcommand, parses its flags, answers
// --help, and turns a usage mistake into one "sluice: ..." line and exit code 2 before any
// database is touched.
class CliGroup
{
public:
    CliGroup(QString name, QString description, QList<CliCommand> commands);

    int run(const QStringList &args) const;
    QString help() const;
    QString help(const CliCommand &command) const;

    // The lines every command's help ends with: where the database comes from.
    static QString commonOptionsHelp();

private:
    QString m_name;
    QString m_description;
    QList<CliCommand> m_commands;
};

}  // namespace sluice
