#pragma once

#include "DatabaseUrl.h"
#include "Migration.h"

#include <QList>
#include <QString>

namespace sluice {

class DatabaseConnection;

// Applies versioned migrations per component ("identity", "ledger", ...) and records them in
// schema_version (component, version, description, applied_at; primary key component+version).
// Components, because identity and ledger may share one database or live in two.
//
// Each migration runs in its own transaction together with its schema_version row, so a failed
// migration leaves nothing behind (DDL is transactional in SQLite and PostgreSQL). Concurrent
// starts are safe: on PostgreSQL every migration transaction first takes a transaction-scoped
// advisory lock and re-checks what is applied; on SQLite BEGIN IMMEDIATE serializes writers.
// A database at a higher version than the binary knows is refused (an older binary must not
// run against a newer schema).
class Migrator
{
public:
    // Brings `component` up to the last version in `migrations` (numbered 1, 2, 3, ...).
    // *applied (optional) receives how many migrations this call applied.
    static bool migrate(DatabaseConnection &conn, const QString &component,
                        const QList<Migration> &migrations, QString *error = nullptr,
                        int *applied = nullptr);

    // Highest applied version of `component`: 0 when none (or no schema_version table yet),
    // -1 on error.
    static int currentVersion(DatabaseConnection &conn, const QString &component,
                              QString *error = nullptr);

    // Replaces the driver-specific placeholders in a migration statement:
    //   {{id}}         INTEGER PRIMARY KEY AUTOINCREMENT | BIGSERIAL PRIMARY KEY
    //   {{timestamp}}  TEXT (ISO 8601 UTC, as QSQLITE binds QDateTime) | TIMESTAMPTZ
    //   {{blob}}       BLOB | BYTEA
    static QString render(const QString &statement, DatabaseUrl::Driver driver);

private:
    static bool ensureVersionTable(DatabaseConnection &conn, QString *error);
    static bool versionTableExists(DatabaseConnection &conn, bool *exists, QString *error);
    static bool lockForMigration(DatabaseConnection &conn, QString *error);
    static bool applyOne(DatabaseConnection &conn, const QString &component,
                         const Migration &migration, int knownVersion, bool *didApply,
                         QString *error);
};

}  // namespace sluice
