#pragma once

#include <QString>

namespace sluice {

// Why a configuration was refused. message() is the single line printed before exit code 2.
struct ConfigError
{
    enum class Kind
    {
        InvalidValue,    // a value that does not parse; `expected` says what would
        UnknownFlag,     // a command-line option the gateway does not have
        MissingValue,    // an option given without its value
        UnknownKey,      // an INI key not in its section (or outside any section)
        UnknownSection,  // an INI section that is neither built in nor registered
        UnreadableFile,  // the --config file is missing, unreadable or not INI
    };

    Kind kind = Kind::InvalidValue;
    // As spelled in `source`: "--listen", "SLUICE_LISTEN", or the INI key "listen".
    // For UnknownSection the section name; for UnreadableFile the option that named the file.
    QString key;
    QString section;  // INI section of `key`; empty otherwise
    QString value;    // offending value (file path for UnreadableFile)
    QString expected;
    // "command line", "environment", or the INI file path.
    QString source;

    // e.g. `invalid value "a,b" for listen in [server] of /etc/sluice.ini: expected HOST:PORT ...`
    // Passwords in URL-shaped values are replaced by "***".
    QString message() const;

    // "user:secret@" and "password=secret" in URL-shaped text become "user:***@"/"password=***".
    static QString redactSecrets(const QString &text);
};

}  // namespace sluice
