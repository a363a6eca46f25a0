#include "DatabaseConnection.h"

#include "SqliteStatement.h"

#include "LogCategories.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QThread>
#include <atomic>

namespace sluice {

namespace {

std::atomic<quint64> g_connectionCounter{0};

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

// Statement text for error messages: one line, bounded (values are bound, never inlined).
QString shortSql(const QString &sql)
{
    QString s = sql.simplified();
    if (s.size() > 120)
        s = s.left(117) + QStringLiteral("...");
    return s;
}

}  // namespace

DatabaseConnection::DatabaseConnection(const DatabaseUrl &url, const QString &role,
                                       int connectTimeoutSeconds)
    : m_url(url),
      m_role(role),
      m_thread(QThread::currentThread()),
      m_connectTimeoutSeconds(connectTimeoutSeconds)
{
    // Unique per instance: QSqlDatabase's registry is process-wide and names must not collide
    // between threads or between two connections of one thread.
    m_name = QStringLiteral("%1-%2-%3")
                 .arg(role)
                 .arg(quintptr(QThread::currentThreadId()), 0, 16)
                 .arg(++g_connectionCounter);
    const QString driverName = isSqlite() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
    m_db = QSqlDatabase::addDatabase(driverName, m_name);
}

DatabaseConnection::~DatabaseConnection()
{
    Q_ASSERT_X(isOwnedByCurrentThread(), "DatabaseConnection",
               "destroyed in a thread other than the one that created it");
    m_db.close();
    // removeDatabase() warns and leaks unless no QSqlDatabase handle refers to the connection.
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_name);
}

bool DatabaseConnection::isOwnedByCurrentThread() const
{
    return QThread::currentThread() == m_thread;
}

QSqlDatabase DatabaseConnection::database() const
{
    Q_ASSERT_X(isOwnedByCurrentThread(), "DatabaseConnection",
               "QSqlDatabase used from a thread other than the one that opened it");
    return m_db;
}

bool DatabaseConnection::checkThread(QString *error) const
{
    if (isOwnedByCurrentThread())
        return true;
    Q_ASSERT_X(false, "DatabaseConnection", "used from a thread other than the one that opened it");
    const QString text = QStringLiteral(
                             "database connection %1 used from a thread other than the "
                             "one that opened it; each thread needs its own connection")
                             .arg(m_name);
    qCCritical(lcStorage).noquote() << text;
    setError(error, text);
    return false;
}

bool DatabaseConnection::checkOpen(QString *error) const
{
    if (m_db.isOpen())
        return true;
    setError(error,
             QStringLiteral("%1 database %2: connection is closed").arg(m_role, m_url.redacted()));
    return false;
}

bool DatabaseConnection::open(QString *error)
{
    if (!checkThread(error))
        return false;
    if (m_db.isOpen())
        return true;
    if (!m_db.isValid()) {
        setError(error, QStringLiteral("%1 database %2: the Qt SQL driver %3 is not available "
                                       "(install libqt6sql6-%4)")
                            .arg(m_role, m_url.redacted(),
                                 isSqlite() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL"),
                                 isSqlite() ? QStringLiteral("sqlite") : QStringLiteral("psql")));
        return false;
    }

    if (isSqlite()) {
        const QString dir = QFileInfo(m_url.path).absolutePath();
        if (!QDir().mkpath(dir)) {
            setError(error, QStringLiteral("%1 database %2: cannot create directory %3")
                                .arg(m_role, m_url.redacted(), dir));
            return false;
        }
        m_db.setDatabaseName(m_url.path);
    } else {
        m_db.setHostName(m_url.host);
        m_db.setPort(m_url.port);
        m_db.setUserName(m_url.user);
        m_db.setPassword(m_url.password);
        m_db.setDatabaseName(m_url.databaseName);
        // Without it libpq waits for the kernel's TCP timeout (minutes) on an unreachable host.
        m_db.setConnectOptions(
            QStringLiteral("connect_timeout=%1").arg(qMax(1, m_connectTimeoutSeconds)));
    }

    if (!m_db.open()) {
        setError(error, describe(QStringLiteral("cannot open"), m_db.lastError()));
        m_db.close();
        return false;
    }
    if (isSqlite() && !applySqlitePragmas(error)) {
        m_db.close();
        return false;
    }
    qCDebug(lcStorage).noquote() << "opened" << m_role << "database" << m_url.redacted() << "as"
                                 << m_name;
    return true;
}

bool DatabaseConnection::applySqlitePragmas(QString *error)
{
    // busy_timeout first, so switching to WAL waits for another connection instead of failing.
    static const char *const pragmas[] = {
        "PRAGMA busy_timeout=5000",
        "PRAGMA foreign_keys=ON",
    };
    for (const char *pragma : pragmas) {
        if (!exec(QString::fromLatin1(pragma), {}, error))
            return false;
    }
    // WAL: readers (health, admin) never block the ledger writer. Not possible on some
    // filesystems (e.g. network mounts): keep going with the rollback journal and say so.
    auto mode = query(QStringLiteral("PRAGMA journal_mode=WAL"), {}, error);
    if (!mode)
        return false;
    const QString got = mode->next() ? mode->value(0).toString() : QString();
    mode.reset();
    if (got.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
        qCWarning(lcStorage).noquote() << m_role << "database" << m_url.redacted()
                                       << "could not switch to WAL, journal_mode is" << got;
    // NORMAL is safe with WAL (a power loss may lose the last commits, never corrupt).
    return exec(QStringLiteral("PRAGMA synchronous=NORMAL"), {}, error);
}

void DatabaseConnection::close()
{
    if (!checkThread(nullptr))
        return;
    m_db.close();
}

bool DatabaseConnection::isOpen() const
{
    return isOwnedByCurrentThread() && m_db.isOpen();
}

bool DatabaseConnection::ping(QString *error)
{
    if (!checkThread(error) || !checkOpen(error))
        return false;
    auto q = query(QStringLiteral("SELECT COUNT(*) FROM schema_version"), {}, error);
    if (!q)
        return false;
    if (!q->next()) {
        setError(error, describe(QStringLiteral("ping returned no row"), q->lastError()));
        return false;
    }
    return true;
}

bool DatabaseConnection::exec(const QString &sql, const QVariantList &values, QString *error)
{
    return run(sql, values, error).has_value();
}

std::optional<QSqlQuery> DatabaseConnection::query(const QString &sql, const QVariantList &values,
                                                   QString *error)
{
    return run(sql, values, error);
}

std::optional<QSqlQuery> DatabaseConnection::run(const QString &sql, const QVariantList &values,
                                                 QString *error)
{
    if (!checkThread(error) || !checkOpen(error))
        return std::nullopt;
    QElapsedTimer timer;
    timer.start();
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    bool ok;
    if (values.isEmpty()) {
        // Not prepared: PostgreSQL cannot PREPARE DDL, and it saves two round trips there.
        ok = q.exec(sql);
    } else {
        ok = q.prepare(sql);
        if (ok) {
            for (const QVariant &v : values)
                q.addBindValue(v);
            ok = q.exec();
        }
    }
    report(operationOf(sql), ok, timer);
    if (!ok) {
        setError(error,
                 describe(QStringLiteral("query failed [%1]").arg(shortSql(sql)), q.lastError()));
        return std::nullopt;
    }
    return q;
}

std::optional<QSqlQuery> DatabaseConnection::prepare(const QString &sql, QString *error)
{
    if (!checkThread(error) || !checkOpen(error))
        return std::nullopt;
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    if (!q.prepare(sql)) {
        setError(error,
                 describe(QStringLiteral("cannot prepare [%1]").arg(shortSql(sql)), q.lastError()));
        return std::nullopt;
    }
    return q;
}

bool DatabaseConnection::execPrepared(QSqlQuery &query, const QVariantList &values, QString *error)
{
    if (!checkThread(error) || !checkOpen(error))
        return false;
    QElapsedTimer timer;
    timer.start();
    for (qsizetype i = 0; i < values.size(); ++i)
        query.bindValue(int(i), values.at(i));
    const bool ok = query.exec();
    report(operationOf(query.lastQuery()), ok, timer);
    if (!ok)
        setError(error,
                 describe(QStringLiteral("query failed [%1]").arg(shortSql(query.lastQuery())),
                          query.lastError()));
    return ok;
}

PreparedStatement::PreparedStatement() = default;
PreparedStatement::~PreparedStatement() = default;

std::unique_ptr<PreparedStatement> DatabaseConnection::prepareStatement(const QString &sql,
                                                                        QString *error)
{
    if (!checkThread(error) || !checkOpen(error))
        return nullptr;
    auto statement = std::make_unique<PreparedStatement>();
    statement->operation = operationOf(sql);
    if (isSqlite()) {
        QString why;
        statement->native = SqliteStatement::prepare(m_db, sql, &why);
        if (!statement->native) {
            setError(error, QStringLiteral("%1: preparing [%2] failed: %3")
                                .arg(m_url.redacted(), shortSql(sql), why));
            return nullptr;
        }
        return statement;
    }
    statement->query = prepare(sql, error);
    return statement->query ? std::move(statement) : nullptr;
}

bool DatabaseConnection::execPrepared(PreparedStatement &statement, const QVariantList &values,
                                      QString *error)
{
    if (statement.query)
        return execPrepared(*statement.query, values, error);
    if (!checkThread(error) || !checkOpen(error) || !statement.native)
        return false;
    QElapsedTimer timer;
    timer.start();
    QString why;
    const bool ok = statement.native->exec(values, &why);
    report(statement.operation, ok, timer);
    if (!ok)
        setError(error, QStringLiteral("%1: query failed: %2").arg(m_url.redacted(), why));
    return ok;
}

bool DatabaseConnection::beginTransaction(QString *error)
{
    return exec(isSqlite() ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN"), {},
                error);
}

bool DatabaseConnection::commit(QString *error)
{
    return exec(QStringLiteral("COMMIT"), {}, error);
}

bool DatabaseConnection::rollback(QString *error)
{
    return exec(QStringLiteral("ROLLBACK"), {}, error);
}

void DatabaseConnection::setQueryObserver(QueryObserver observer)
{
    m_observer = std::move(observer);
}

void DatabaseConnection::report(const QString &operation, bool ok, const QElapsedTimer &timer) const
{
    if (m_observer)
        m_observer(m_role, operation, ok, double(timer.nsecsElapsed()) / 1e9);
}

QString DatabaseConnection::operationOf(const QString &sql)
{
    qsizetype start = 0;
    while (start < sql.size() && (sql.at(start).isSpace() || sql.at(start) == u'('))
        ++start;
    qsizetype end = start;
    while (end < sql.size() && sql.at(end).isLetter())
        ++end;
    const QStringView word = QStringView(sql).mid(start, end - start);
    auto is = [&word](const char *keyword) {
        return word.compare(QLatin1String(keyword), Qt::CaseInsensitive) == 0;
    };
    if (is("select") || is("with") || is("values"))
        return QStringLiteral("select");
    if (is("insert"))
        return QStringLiteral("insert");
    if (is("update"))
        return QStringLiteral("update");
    if (is("delete"))
        return QStringLiteral("delete");
    if (is("create") || is("alter") || is("drop") || is("truncate"))
        return QStringLiteral("ddl");
    return QStringLiteral("other");
}

QString DatabaseConnection::describe(const QString &what, const QSqlError &sqlError) const
{
    QString detail = sqlError.text().simplified();
    if (detail.isEmpty())
        detail = QStringLiteral("unknown error");
    return scrub(
        QStringLiteral("%1 database %2: %3: %4").arg(m_role, m_url.redacted(), what, detail));
}

QString DatabaseConnection::scrub(QString text) const
{
    // libpq does not echo passwords today; make sure a driver change never leaks one.
    if (!m_url.password.isEmpty())
        text.replace(m_url.password, QStringLiteral("***"));
    return text;
}

}  // namespace sluice
