#pragma once

#include "ConfigError.h"
#include "GatewayConfig.h"

#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <optional>

namespace sluice {

struct ConfigLoadResult
{
    GatewayConfig config;
    std::optional<ConfigError> error;  // set: print error->message(), exit 2
    bool help = false;                 // --help / -h: print ConfigLoader::helpText(), exit 0
    bool version = false;              // --version / -v
    QStringList positional;            // non-option arguments, e.g. {"keys", "create", ...}
};

// One row of the option table, as shown by --help and docs/configuration.md.
struct ConfigOption
{
    QString flag;         // "--max-body-size"
    QString envVar;       // "SLUICE_MAX_BODY_SIZE"
    QString section;      // "server"; empty for --config (not an INI key)
    QString iniKey;       // "max_body_size"; empty for --config
    QString metavar;      // "SIZE"; empty for boolean flags, which take no value
    QString defaultText;  // "10MiB"
    QString help;
};

// Builds a GatewayConfig from, in increasing precedence: built-in defaults < INI file
// (--config / SLUICE_CONFIG) < SLUICE_* environment < command-line flags. Names are derived
// from one table: flag --foo-bar <-> env SLUICE_FOO_BAR <-> INI key foo_bar in its section.
//
// Options may be given anywhere before "--". Arguments that are not options are returned as
// positional; once one has been seen, flags the gateway does not know are passed on as
// positional too, so subcommands (`sluice keys create --name x`) can own their flags.
// Unknown SLUICE_* variables are ignored.
class ConfigLoader
{
public:
    // Accepts INI sections that later modules parse themselves: "cost" accepts [cost], a name
    // ending in "." ("tier.") accepts every [tier.NAME]. Their raw keys/values are collected
    // into GatewayConfig::extraSections.
    void addExtraSection(const QString &nameOrPrefix);

    // `arguments` excludes argv[0].
    ConfigLoadResult run(const QStringList &arguments, const QProcessEnvironment &env) const;

    // run() with the gateway's extra sections: [tier.NAME] and [defaults.NAME].
    static ConfigLoadResult load(const QStringList &arguments, const QProcessEnvironment &env);

    // Usage listing every flag with its default and environment twin.
    static QString helpText();
    static QList<ConfigOption> options();

private:
    bool isExtraSection(const QString &section) const;

    QStringList m_extraSections;
};

}  // namespace sluice
