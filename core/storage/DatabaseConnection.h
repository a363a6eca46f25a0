#pragma once

#include "DatabaseUrl.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariantList>
#include <functional>
#include <memory>
#include <optional>

class QElapsedTimer;
class QSqlError;
class QThread;

namespace sluice {

class SqliteStatement;

// Called after every statement run through a DatabaseConnection, so the gateway can export query
// counters and a duration histogram per database role without storage depending on metrics.
// operation is one of "select", "insert", "update", "delete", "ddl", "other".
using QueryObserver =
    std::function<void(const QString &dbRole, const QString &operation, bool ok, double seconds)>;

// One Qt Sql connection to a DatabaseUrl (SQLite file or PostgreSQL via QPSQL).
//
// Threads: Qt Sql connections are not thread-safe. A DatabaseConnection, its QSqlDatabase and
// every QSqlQuery made from it belong to the thread that constructed it; each thread that needs
// a database (ledger writer, health checker, ...) creates its own connection. Every method
// asserts this (Q_ASSERT); in release builds a call from another thread fails with an error
// instead of touching the driver.
//
// Lifetime: the destructor closes the connection and unregisters its unique connection name.
// Queries returned by query()/prepare() must be destroyed before the connection.
//
// Errors are returned as text that names the database by DatabaseUrl::redacted() and never
// contains the password.
// A statement from DatabaseConnection::prepareStatement(); destroy it before the connection.
struct PreparedStatement
{
    PreparedStatement();
    ~PreparedStatement();  // where SqliteStatement is complete
    QString operation;     // for the query observer
    std::optional<QSqlQuery> query;
    std::unique_ptr<SqliteStatement> native;
};

class DatabaseConnection
{
public:
    // Registers the connection; nothing is opened yet. role names it in logs, connection names
    // ("<role>-<thread id>-<counter>") and the observer ("identity", "ledger", "health", ...).
    DatabaseConnection(const DatabaseUrl &url, const QString &role, int connectTimeoutSeconds = 5);
    ~DatabaseConnection();
    DatabaseConnection(const DatabaseConnection &) = delete;
    DatabaseConnection &operator=(const DatabaseConnection &) = delete;

    // Opens (or reopens after close()). SQLite: creates the parent directory, then sets
    // busy_timeout=5000, journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON.
    // PostgreSQL: host/port/user/password/dbname with connect_timeout.
    bool open(QString *error = nullptr);
    void close();
    bool isOpen() const;

    // Health check: a real read (SELECT COUNT(*) FROM schema_version), so it fails on a closed or
    // broken connection and before migrations ran. It does not reconnect: after a failure the
    // caller may close() and open() again.
    bool ping(QString *error = nullptr);

    // Runs one statement with values bound positionally to `?` and discards any result.
    bool exec(const QString &sql, const QVariantList &values = {}, QString *error = nullptr);
    // Same, returning the forward-only result positioned before the first row.
    std::optional<QSqlQuery> query(const QString &sql, const QVariantList &values = {},
                                   QString *error = nullptr);
    // For a statement run many times (batches): prepare once, then execPrepared() per row.
    // Only DML/SELECT can be prepared on PostgreSQL.
    std::optional<QSqlQuery> prepare(const QString &sql, QString *error = nullptr);
    bool execPrepared(QSqlQuery &query, const QVariantList &values, QString *error = nullptr);
    // The same for statements with many values run over and over (ledger batches): on SQLite
    // through SQLite's own API (SqliteStatement), several times cheaper than QSqlQuery's
    // binding; elsewhere a QSqlQuery.
    std::unique_ptr<PreparedStatement> prepareStatement(const QString &sql,
                                                        QString *error = nullptr);
    bool execPrepared(PreparedStatement &statement, const QVariantList &values,
                      QString *error = nullptr);

    // Plain SQL transactions. On SQLite BEGIN IMMEDIATE takes the write lock up front, so a
    // concurrent writer waits for busy_timeout instead of failing with SQLITE_BUSY on upgrade.
    bool beginTransaction(QString *error = nullptr);
    bool commit(QString *error = nullptr);
    bool rollback(QString *error = nullptr);

    void setQueryObserver(QueryObserver observer);

    const DatabaseUrl &url() const { return m_url; }
    DatabaseUrl::Driver driver() const { return m_url.driver; }
    bool isSqlite() const { return m_url.driver == DatabaseUrl::Driver::Sqlite; }
    bool isPostgres() const { return m_url.driver == DatabaseUrl::Driver::Postgres; }
    const QString &role() const { return m_role; }
    const QString &connectionName() const { return m_name; }
    QThread *ownerThread() const { return m_thread; }
    bool isOwnedByCurrentThread() const;
    // The underlying handle, for what the helpers do not cover; same thread rules apply.
    QSqlDatabase database() const;

    // Classifies a statement by its first keyword for the observer.
    static QString operationOf(const QString &sql);

private:
    bool checkThread(QString *error) const;
    bool checkOpen(QString *error) const;
    std::optional<QSqlQuery> run(const QString &sql, const QVariantList &values, QString *error);
    bool applySqlitePragmas(QString *error);
    void report(const QString &operation, bool ok, const QElapsedTimer &timer) const;
    QString describe(const QString &what, const QSqlError &sqlError) const;
    QString scrub(QString text) const;

    DatabaseUrl m_url;
    QString m_role;
    QString m_name;
    QThread *m_thread = nullptr;
    int m_connectTimeoutSeconds = 5;
    QSqlDatabase m_db;
    QueryObserver m_observer;
};

}  // namespace sluice
