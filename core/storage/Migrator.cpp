#include "Migrator.h"

#include "DatabaseConnection.h"
#include "LogCategories.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QSqlQuery>

namespace sluice {

namespace {

// Key of the PostgreSQL advisory lock that serializes migrations of all components
// ("sluice.sc" in ASCII); any constant works as long as every Sluice version uses the same one.
constexpr qint64 kMigrationLockKey = 0x736c756963652e73;

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

QString futureVersionError(const DatabaseConnection &conn, const QString &component, int dbVersion,
                           int knownVersion)
{
    return QStringLiteral(
               "%1 database %2: schema of component '%3' is at version %4 but this "
               "binary only knows versions up to %5; it was migrated by a newer "
               "Sluice, run that version (or restore a backup)")
        .arg(conn.role(), conn.url().redacted(), component)
        .arg(dbVersion)
        .arg(knownVersion);
}

// Reads one integer from a single-row query; -1 on error.
int scalarInt(DatabaseConnection &conn, const QString &sql, const QVariantList &values,
              QString *error)
{
    auto q = conn.query(sql, values, error);
    if (!q)
        return -1;
    return q->next() ? q->value(0).toInt() : 0;
}

}  // namespace

QString Migrator::render(const QString &statement, DatabaseUrl::Driver driver)
{
    const bool pg = driver == DatabaseUrl::Driver::Postgres;
    QString s = statement;
    s.replace(QLatin1String("{{id}}"), pg ? QLatin1String("BIGSERIAL PRIMARY KEY")
                                          : QLatin1String("INTEGER PRIMARY KEY AUTOINCREMENT"));
    s.replace(QLatin1String("{{timestamp}}"),
              pg ? QLatin1String("TIMESTAMPTZ") : QLatin1String("TEXT"));
    s.replace(QLatin1String("{{blob}}"), pg ? QLatin1String("BYTEA") : QLatin1String("BLOB"));
    return s;
}

bool Migrator::versionTableExists(DatabaseConnection &conn, bool *exists, QString *error)
{
    // Asked of the catalog rather than by selecting from it: a failing statement would abort an
    // enclosing PostgreSQL transaction. pg_class is read with the statement's snapshot, so right
    // after waiting for the migration lock it sees a table another session just created
    // (to_regclass() would answer from this backend's cache, stale until the next relation lock).
    const QString sql =
        conn.isPostgres()
            ? QStringLiteral(
                  "SELECT COUNT(*) FROM pg_catalog.pg_class c WHERE c.relname = "
                  "'schema_version' AND c.relkind IN ('r', 'p') AND "
                  "pg_catalog.pg_table_is_visible(c.oid)")
            : QStringLiteral(
                  "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
                  "'schema_version'");
    const int n = scalarInt(conn, sql, {}, error);
    if (n < 0)
        return false;
    *exists = n > 0;
    return true;
}

bool Migrator::lockForMigration(DatabaseConnection &conn, QString *error)
{
    // Transaction-scoped: released by COMMIT/ROLLBACK, also if this process dies mid-way.
    if (!conn.isPostgres())
        return true;  // BEGIN IMMEDIATE already holds SQLite's single write lock
    return conn.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kMigrationLockKey), {},
                     error);
}

bool Migrator::ensureVersionTable(DatabaseConnection &conn, QString *error)
{
    bool exists = false;
    if (!versionTableExists(conn, &exists, error))
        return false;
    if (exists)
        return true;
    // Under the lock and re-checked: two PostgreSQL sessions racing on CREATE TABLE IF NOT EXISTS
    // can still collide on the catalog's unique index.
    if (!conn.beginTransaction(error))
        return false;
    bool ok = lockForMigration(conn, error) && versionTableExists(conn, &exists, error);
    if (ok && !exists)
        ok = conn.exec(render(QStringLiteral("CREATE TABLE schema_version ("
                                             "component TEXT NOT NULL, "
                                             "version INTEGER NOT NULL, "
                                             "description TEXT NOT NULL DEFAULT '', "
                                             "applied_at {{timestamp}} NOT NULL, "
                                             "PRIMARY KEY (component, version))"),
                              conn.driver()),
                       {}, error);
    ok = ok && conn.commit(error);
    if (!ok)
        conn.rollback(nullptr);
    return ok;
}

int Migrator::currentVersion(DatabaseConnection &conn, const QString &component, QString *error)
{
    bool exists = false;
    if (!versionTableExists(conn, &exists, error))
        return -1;
    if (!exists)
        return 0;
    return scalarInt(conn,
                     QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version WHERE "
                                    "component = ?"),
                     {component}, error);
}

bool Migrator::applyOne(DatabaseConnection &conn, const QString &component,
                        const Migration &migration, int knownVersion, bool *didApply,
                        QString *error)
{
    *didApply = false;
    if (!conn.beginTransaction(error))
        return false;
    auto fail = [&conn]() {
        conn.rollback(nullptr);
        return false;
    };
    if (!lockForMigration(conn, error))
        return fail();

    // Re-check under the lock: another instance may have migrated while we waited.
    const int dbVersion = currentVersion(conn, component, error);
    if (dbVersion < 0)
        return fail();
    if (dbVersion > knownVersion) {
        setError(error, futureVersionError(conn, component, dbVersion, knownVersion));
        return fail();
    }
    const int present = scalarInt(
        conn,
        QStringLiteral("SELECT COUNT(*) FROM schema_version WHERE component = ? AND version = ?"),
        {component, migration.version}, error);
    if (present < 0)
        return fail();
    if (present > 0)
        return conn.commit(error);

    QElapsedTimer timer;
    timer.start();
    for (const QString &statement : migration.statements) {
        const QString sql = render(statement, conn.driver());
        QString why;
        if (sql.contains(QLatin1String("{{")))
            why = QStringLiteral("unknown placeholder in [%1]").arg(sql.simplified());
        if (!why.isEmpty() || !conn.exec(sql, {}, &why)) {
            setError(error, QStringLiteral("migration %1 v%2 (%3) failed: %4")
                                .arg(component)
                                .arg(migration.version)
                                .arg(migration.description, why));
            return fail();
        }
    }
    if (!conn.exec(
            QStringLiteral("INSERT INTO schema_version (component, version, description, "
                           "applied_at) VALUES (?, ?, ?, ?)"),
            {component, migration.version, migration.description, QDateTime::currentDateTimeUtc()},
            error))
        return fail();
    if (!conn.commit(error))
        return fail();
    *didApply = true;
    const QString what = QStringLiteral("%1 v%2 (%3)")
                             .arg(component)
                             .arg(migration.version)
                             .arg(migration.description);
    qCInfo(lcStorage).noquote() << "applied migration" << what << "to" << conn.role() << "database"
                                << conn.url().redacted() << "in" << timer.elapsed() << "ms";
    return true;
}

bool Migrator::migrate(DatabaseConnection &conn, const QString &component,
                       const QList<Migration> &migrations, QString *error, int *applied)
{
    if (applied)
        *applied = 0;
    if (migrations.isEmpty()) {
        setError(error, QStringLiteral("no migrations given for component '%1'").arg(component));
        return false;
    }
    for (qsizetype i = 0; i < migrations.size(); ++i) {
        // A programming error, but cheap to check and fatal to get wrong on a user's database.
        if (migrations.at(i).version != int(i) + 1) {
            setError(error, QStringLiteral("migrations of component '%1' must be numbered 1, 2, "
                                           "3, ... in order; entry %2 has version %3")
                                .arg(component)
                                .arg(i)
                                .arg(migrations.at(i).version));
            return false;
        }
    }
    const int knownVersion = migrations.constLast().version;

    if (!ensureVersionTable(conn, error))
        return false;
    const int dbVersion = currentVersion(conn, component, error);
    if (dbVersion < 0)
        return false;
    if (dbVersion > knownVersion) {
        setError(error, futureVersionError(conn, component, dbVersion, knownVersion));
        return false;
    }
    for (const Migration &m : migrations) {
        if (m.version <= dbVersion)
            continue;
        bool didApply = false;
        if (!applyOne(conn, component, m, knownVersion, &didApply, error))
            return false;
        if (didApply && applied)
            ++*applied;
    }
    return true;
}

}  // namespace sluice
