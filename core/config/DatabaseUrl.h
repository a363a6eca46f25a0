#pragma once

#include <QString>
#include <optional>

namespace sluice {

// A database location as written in --db / --ledger-db:
//   sqlite:///abs/path.db        absolute path
//   sqlite://relative.db         relative to the working directory (resolved at parse time)
//   postgres://user:pass@host:port/dbname   (postgresql:// accepted too; port defaults to 5432)
struct DatabaseUrl
{
    enum class Driver
    {
        Sqlite,
        Postgres
    };

    Driver driver = Driver::Sqlite;
    QString path;  // SQLite: absolute file path
    QString host;  // PostgreSQL
    int port = 5432;
    QString user;
    QString password;
    QString databaseName;

    // Parses `text`; on failure returns nullopt and sets *error to what was expected.
    static std::optional<DatabaseUrl> parse(const QString &text, QString *error);

    // The URL with the password replaced by "***", for logs and health messages.
    QString redacted() const;
    // "sqlite" or "postgres"
    QString driverName() const;
    bool operator==(const DatabaseUrl &other) const = default;
};

}  // namespace sluice
