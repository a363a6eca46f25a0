#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "Migrator.h"
#include "Schema.h"
#include "TestFixtures.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <latch>
#include <memory>
#include <vector>

using namespace sluice;

namespace {

// Set in the child process of crossThreadUseIsRefused().
constexpr char kChildEnv[] = "SLUICE_TST_STORAGE_CROSS_THREAD_CHILD";

struct Observed
{
    QString role;
    QString operation;
    bool ok;
    double seconds;
};

}  // namespace

class TestStorage : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void operationOf_data();
    void operationOf();
    void render();
    void migrationListMustBeNumbered();

    void migrationsApply_data() { backends(); }
    void migrationsApply();
    void migrationsAreIdempotentAndIncremental_data() { backends(); }
    void migrationsAreIdempotentAndIncremental();
    void sharedDatabaseKeepsComponentsApart_data() { backends(); }
    void sharedDatabaseKeepsComponentsApart();
    void futureVersionIsRefused_data() { backends(); }
    void futureVersionIsRefused();
    void failedMigrationLeavesNothing_data() { backends(); }
    void failedMigrationLeavesNothing();
    void concurrentMigrationsBothSucceed_data() { backends(); }
    void concurrentMigrationsBothSucceed();

    void sqliteModeAndPragmas();
    void pingWorks_data() { backends(); }
    void pingWorks();
    void pingOnClosedConnectionFails_data() { backends(); }
    void pingOnClosedConnectionFails();
    void pingOnBrokenPostgresConnectionFails();
    void pingBeforeMigrationFails_data() { backends(); }
    void pingBeforeMigrationFails();

    void badPostgresPortGivesClearErrorWithoutPassword();
    void unknownPostgresDatabaseErrorHasNoPassword();
    void queryObserverSeesEveryStatement_data() { backends(); }
    void queryObserverSeesEveryStatement();
    void boundValuesAndPreparedBatches_data() { backends(); }
    void boundValuesAndPreparedBatches();

    void connectionsArePerThread();
    void crossThreadUseIsRefused();
    void crossThreadUseChild();  // helper run by crossThreadUseIsRefused in a child process

private:
    void backends();
    // A new empty database of the row's backend: a file in a not-yet-existing directory, or a
    // fresh PostgreSQL database (dropped in cleanupTestCase).
    DatabaseUrl freshDatabase(DatabaseUrl::Driver driver);
    DatabaseUrl freshDatabase();  // of the current data row
    std::unique_ptr<DatabaseConnection> openFresh(DatabaseUrl::Driver driver,
                                                  const QString &role = QStringLiteral("test"));
    std::unique_ptr<DatabaseConnection> openFresh(const QString &role = QStringLiteral("test"));
    int countRows(DatabaseConnection &conn, const QString &sql, const QVariantList &values = {});

    QTemporaryDir m_tmp;
    std::optional<DatabaseUrl> m_pgUrl;
    std::unique_ptr<DatabaseConnection> m_pgAdmin;
    QStringList m_createdDatabases;
    int m_sqliteCounter = 0;
    QString m_runId;
};

void TestStorage::initTestCase()
{
    if (qEnvironmentVariableIsSet(kChildEnv))
        return;  // the child only runs crossThreadUseChild, which needs no PostgreSQL
    QVERIFY(m_tmp.isValid());
    m_runId = QString::number(QRandomGenerator::global()->generate(), 36);

    QString why;
    const QString text = test::postgresUrl(&why);
    if (text.isEmpty())
        QFAIL(qPrintable(why));
    QString error;
    m_pgUrl = DatabaseUrl::parse(text, &error);
    QVERIFY2(m_pgUrl, qPrintable(error));
    QCOMPARE(m_pgUrl->driver, DatabaseUrl::Driver::Postgres);
    m_pgAdmin = std::make_unique<DatabaseConnection>(*m_pgUrl, QStringLiteral("admin"));
    QVERIFY2(m_pgAdmin->open(&error), qPrintable(error));
}

void TestStorage::cleanupTestCase()
{
    if (!m_pgAdmin)
        return;
    for (const QString &name : std::as_const(m_createdDatabases)) {
        QString error;
        if (!m_pgAdmin->exec(QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(name),
                             {}, &error))
            qWarning("could not drop %s: %s", qPrintable(name), qPrintable(error));
    }
    m_pgAdmin.reset();
}

void TestStorage::init()
{
    // RAII check: every connection must be unregistered cleanly, never while still referenced.
    QTest::failOnWarning(QRegularExpression(QStringLiteral("still in use|duplicate connection")));
}

void TestStorage::backends()
{
    QTest::addColumn<DatabaseUrl::Driver>("driver");
    QTest::newRow("sqlite") << DatabaseUrl::Driver::Sqlite;
    QTest::newRow("postgres") << DatabaseUrl::Driver::Postgres;
}

DatabaseUrl TestStorage::freshDatabase()
{
    QFETCH(DatabaseUrl::Driver, driver);
    return freshDatabase(driver);
}

DatabaseUrl TestStorage::freshDatabase(DatabaseUrl::Driver driver)
{
    if (driver == DatabaseUrl::Driver::Sqlite) {
        DatabaseUrl url;
        url.driver = DatabaseUrl::Driver::Sqlite;
        url.path = m_tmp.filePath(QStringLiteral("t%1/sub/sluice.db").arg(++m_sqliteCounter));
        return url;
    }
    DatabaseUrl url = *m_pgUrl;
    url.databaseName = QStringLiteral("sluice_t_%1_%2").arg(m_runId).arg(m_createdDatabases.size());
    QString error;
    const bool ok =
        m_pgAdmin->exec(QStringLiteral("CREATE DATABASE %1").arg(url.databaseName), {}, &error);
    if (!ok)
        qWarning("CREATE DATABASE failed: %s", qPrintable(error));
    else
        m_createdDatabases << url.databaseName;
    return url;
}

std::unique_ptr<DatabaseConnection> TestStorage::openFresh(const QString &role)
{
    QFETCH(DatabaseUrl::Driver, driver);
    return openFresh(driver, role);
}

std::unique_ptr<DatabaseConnection> TestStorage::openFresh(DatabaseUrl::Driver driver,
                                                           const QString &role)
{
    auto conn = std::make_unique<DatabaseConnection>(freshDatabase(driver), role);
    QString error;
    if (!conn->open(&error)) {
        qWarning("open failed: %s", qPrintable(error));
        return nullptr;
    }
    return conn;
}

int TestStorage::countRows(DatabaseConnection &conn, const QString &sql, const QVariantList &values)
{
    QString error;
    auto q = conn.query(sql, values, &error);
    if (!q) {
        qWarning("%s", qPrintable(error));
        return -1;
    }
    return q->next() ? q->value(0).toInt() : -1;
}

void TestStorage::operationOf_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("operation");
    QTest::newRow("select") << "SELECT 1"
                            << "select";
    QTest::newRow("lower, leading space") << "  select * from t"
                                          << "select";
    QTest::newRow("with") << "WITH x AS (SELECT 1) SELECT * FROM x"
                          << "select";
    QTest::newRow("parenthesised") << "(SELECT 1) UNION (SELECT 2)"
                                   << "select";
    QTest::newRow("insert") << "INSERT INTO t VALUES (?)"
                            << "insert";
    QTest::newRow("update") << "\n\tUpdate t SET a = 1"
                            << "update";
    QTest::newRow("delete") << "DELETE FROM t"
                            << "delete";
    QTest::newRow("create") << "CREATE TABLE t (a INTEGER)"
                            << "ddl";
    QTest::newRow("alter") << "ALTER TABLE t ADD COLUMN b TEXT"
                           << "ddl";
    QTest::newRow("drop") << "DROP TABLE t"
                          << "ddl";
    QTest::newRow("pragma") << "PRAGMA journal_mode=WAL"
                            << "other";
    QTest::newRow("begin") << "BEGIN IMMEDIATE"
                           << "other";
    QTest::newRow("empty") << ""
                           << "other";
}

void TestStorage::operationOf()
{
    QFETCH(QString, sql);
    QFETCH(QString, operation);
    QCOMPARE(DatabaseConnection::operationOf(sql), operation);
}

void TestStorage::render()
{
    const QString sql = QStringLiteral("CREATE TABLE t (id {{id}}, at {{timestamp}}, b {{blob}})");
    QCOMPARE(
        Migrator::render(sql, DatabaseUrl::Driver::Sqlite),
        QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, b BLOB)"));
    QCOMPARE(Migrator::render(sql, DatabaseUrl::Driver::Postgres),
             QStringLiteral("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ, b BYTEA)"));
}

void TestStorage::migrationListMustBeNumbered()
{
    DatabaseUrl url;
    url.path = m_tmp.filePath(QStringLiteral("numbered.db"));
    DatabaseConnection conn(url, QStringLiteral("test"));
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    const QList<Migration> gap = {{1, "one", {"CREATE TABLE a (x TEXT)"}},
                                  {3, "three", {"CREATE TABLE b (x TEXT)"}}};
    QVERIFY(!Migrator::migrate(conn, "c", gap, &error));
    QVERIFY2(error.contains("numbered"), qPrintable(error));
    QVERIFY(!Migrator::migrate(conn, "c", {}, &error));
    QCOMPARE(Migrator::currentVersion(conn, "c"), 0);
}

void TestStorage::migrationsApply()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QCOMPARE(Migrator::currentVersion(*conn, Schema::identityComponent(), &error), 0);

    int applied = -1;
    QVERIFY2(Migrator::migrate(*conn, Schema::identityComponent(), Schema::identityMigrations(),
                               &error, &applied),
             qPrintable(error));
    QCOMPARE(applied, Schema::identityMigrations().size());
    QVERIFY2(Migrator::migrate(*conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error,
                               &applied),
             qPrintable(error));
    QCOMPARE(applied, Schema::ledgerMigrations().size());
    QCOMPARE(Migrator::currentVersion(*conn, Schema::identityComponent(), &error),
             Schema::identityMigrations().constLast().version);
    QCOMPARE(Migrator::currentVersion(*conn, Schema::ledgerComponent(), &error),
             Schema::ledgerMigrations().constLast().version);

    auto q = conn->query(
        "SELECT component, version, description, applied_at FROM schema_version ORDER BY "
        "component, version",
        {}, &error);
    QVERIFY2(q, qPrintable(error));
    QVERIFY(q->next());
    QCOMPARE(q->value(0).toString(), "identity");
    QCOMPARE(q->value(1).toInt(), 1);
    QCOMPARE(q->value(2).toString(), "gateway instances");
    const QDateTime appliedAt = q->value(3).toDateTime();
    QVERIFY2(appliedAt.isValid(), qPrintable(q->value(3).toString()));
    QVERIFY(qAbs(appliedAt.secsTo(QDateTime::currentDateTimeUtc())) < 300);
    for (int v = 2; v <= Schema::identityMigrations().constLast().version; ++v) {
        QVERIFY(q->next());
        QCOMPARE(q->value(0).toString(), "identity");
        QCOMPARE(q->value(1).toInt(), v);
    }
    for (int v = 1; v <= Schema::ledgerMigrations().constLast().version; ++v) {
        QVERIFY(q->next());
        QCOMPARE(q->value(0).toString(), "ledger");
        QCOMPARE(q->value(1).toInt(), v);
    }
    QVERIFY(!q->next());
    q.reset();

    // The tables exist with the columns the gateway and health check use.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY2(
        conn->exec("INSERT INTO gateway_instances (instance_id, hostname, version, started_at, "
                   "last_seen_at) VALUES (?, ?, ?, ?, ?)",
                   {"i-1", "host-a", "0.1.0", now, now}, &error),
        qPrintable(error));
    QVERIFY2(conn->exec("UPDATE gateway_instances SET last_seen_at = ? WHERE instance_id = ?",
                        {now.addSecs(5), "i-1"}, &error),
             qPrintable(error));
    q = conn->query("SELECT hostname, last_seen_at FROM gateway_instances WHERE instance_id = ?",
                    {"i-1"}, &error);
    QVERIFY2(q && q->next(), qPrintable(error));
    QCOMPARE(q->value(0).toString(), "host-a");
    QCOMPARE(q->value(1).toDateTime().toSecsSinceEpoch(), now.addSecs(5).toSecsSinceEpoch());
    q.reset();
    QVERIFY2(conn->exec("INSERT INTO ledger_meta (key, value) VALUES (?, ?)", {"k", "v"}, &error),
             qPrintable(error));
    QVERIFY(!conn->exec("INSERT INTO ledger_meta (key, value) VALUES (?, ?)", {"k", "w"}, &error));
    QCOMPARE(countRows(*conn, "SELECT COUNT(*) FROM ledger_meta"), 1);
}

void TestStorage::migrationsAreIdempotentAndIncremental()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    const QList<Migration> v1 = {
        {1, "events", {"CREATE TABLE events (id {{id}}, name TEXT NOT NULL, at {{timestamp}})"}}};
    int applied = -1;
    QVERIFY2(Migrator::migrate(*conn, "comp", v1, &error, &applied), qPrintable(error));
    QCOMPARE(applied, 1);
    QVERIFY2(Migrator::migrate(*conn, "comp", v1, &error, &applied), qPrintable(error));
    QCOMPARE(applied, 0);
    QCOMPARE(countRows(*conn, "SELECT COUNT(*) FROM schema_version"), 1);

    // An upgrade applies only the new version, with several statements in one migration.
    QList<Migration> v2 = v1;
    v2.append({2,
               "event payloads",
               {"ALTER TABLE events ADD COLUMN payload {{blob}}",
                "CREATE INDEX events_name ON events (name)"}});
    QVERIFY2(Migrator::migrate(*conn, "comp", v2, &error, &applied), qPrintable(error));
    QCOMPARE(applied, 1);
    QCOMPARE(Migrator::currentVersion(*conn, "comp"), 2);
    QVERIFY2(Migrator::migrate(*conn, "comp", v2, &error, &applied), qPrintable(error));
    QCOMPARE(applied, 0);
    QCOMPARE(countRows(*conn, "SELECT COUNT(*) FROM schema_version WHERE component = ?", {"comp"}),
             2);

    // {{id}} autoincrements on both drivers; {{blob}} takes bytes.
    const QByteArray bytes("\x00\x01\xff", 3);
    QVERIFY2(conn->exec("INSERT INTO events (name, payload) VALUES (?, ?)", {"a", bytes}, &error),
             qPrintable(error));
    QVERIFY2(conn->exec("INSERT INTO events (name) VALUES (?)", {"b"}, &error), qPrintable(error));
    auto q = conn->query("SELECT id, name, payload FROM events ORDER BY id", {}, &error);
    QVERIFY2(q, qPrintable(error));
    QVERIFY(q->next());
    const qint64 first = q->value(0).toLongLong();
    QVERIFY(first >= 1);
    QCOMPARE(q->value(2).toByteArray(), bytes);
    QVERIFY(q->next());
    QCOMPARE(q->value(0).toLongLong(), first + 1);
}

void TestStorage::sharedDatabaseKeepsComponentsApart()
{
    // identity and ledger in one database, migrated by two connections (as --db == --ledger-db).
    const DatabaseUrl url = freshDatabase();
    DatabaseConnection identity(url, "identity");
    DatabaseConnection ledger(url, "ledger");
    QString error;
    QVERIFY2(identity.open(&error), qPrintable(error));
    QVERIFY2(ledger.open(&error), qPrintable(error));
    QVERIFY(identity.connectionName() != ledger.connectionName());
    QVERIFY2(Migrator::migrate(identity, Schema::identityComponent(), Schema::identityMigrations(),
                               &error),
             qPrintable(error));
    QCOMPARE(Migrator::currentVersion(ledger, Schema::ledgerComponent()), 0);
    QVERIFY2(
        Migrator::migrate(ledger, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error),
        qPrintable(error));
    QCOMPARE(Migrator::currentVersion(identity, Schema::ledgerComponent()),
             Schema::ledgerMigrations().constLast().version);
    QCOMPARE(countRows(identity, "SELECT COUNT(*) FROM schema_version"),
             Schema::identityMigrations().size() + Schema::ledgerMigrations().size());
}

void TestStorage::futureVersionIsRefused()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QList<Migration> newer = Schema::identityMigrations();
    const int known = newer.constLast().version;
    newer.append({known + 1, "from the future", {"CREATE TABLE future_thing (x TEXT)"}});
    QVERIFY2(Migrator::migrate(*conn, Schema::identityComponent(), newer, &error),
             qPrintable(error));

    // This binary only knows up to `known`: it must not touch the newer schema.
    QVERIFY(!Migrator::migrate(*conn, Schema::identityComponent(), Schema::identityMigrations(),
                               &error));
    QVERIFY2(error.contains(QStringLiteral("version %1").arg(known + 1)) &&
                 error.contains(QStringLiteral("up to %1").arg(known)) &&
                 error.contains("identity"),
             qPrintable(error));
    QCOMPARE(Migrator::currentVersion(*conn, Schema::identityComponent()), known + 1);
}

void TestStorage::failedMigrationLeavesNothing()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    const QList<Migration> broken = {
        {1, "half good", {"CREATE TABLE half_good (x TEXT)", "CREATE TABLEX nonsense"}}};
    QVERIFY(!Migrator::migrate(*conn, "comp", broken, &error));
    QVERIFY2(error.contains("comp v1 (half good) failed") && error.contains("nonsense"),
             qPrintable(error));
    QCOMPARE(Migrator::currentVersion(*conn, "comp"), 0);
    // Rolled back with its transaction; the connection is usable afterwards.
    QVERIFY(!conn->exec("SELECT COUNT(*) FROM half_good"));
    QVERIFY2(conn->exec("SELECT COUNT(*) FROM schema_version", {}, &error), qPrintable(error));

    const QList<Migration> unknownPlaceholder = {{1, "typo", {"CREATE TABLE t (x {{uuid}})"}}};
    QVERIFY(!Migrator::migrate(*conn, "comp", unknownPlaceholder, &error));
    QVERIFY2(error.contains("placeholder"), qPrintable(error));

    const QList<Migration> good = {{1, "good", {"CREATE TABLE half_good (x TEXT)"}}};
    QVERIFY2(Migrator::migrate(*conn, "comp", good, &error), qPrintable(error));
}

void TestStorage::concurrentMigrationsBothSucceed()
{
    const DatabaseUrl url = freshDatabase();
    constexpr int kThreads = 4;
    std::latch ready(kThreads);
    std::vector<QString> errors(kThreads);
    std::vector<int> applied(kThreads, -1);
    std::vector<std::unique_ptr<QThread>> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back(QThread::create([&, i] {
            // Each thread opens, uses and destroys its own connection.
            DatabaseConnection conn(url, QStringLiteral("migrator%1").arg(i));
            QString error;
            if (!conn.open(&error)) {
                errors[i] = error;
                ready.count_down();
                return;
            }
            ready.arrive_and_wait();
            int identity = 0;
            int ledger = 0;
            if (!Migrator::migrate(conn, Schema::identityComponent(), Schema::identityMigrations(),
                                   &error, &identity) ||
                !Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(),
                                   &error, &ledger))
                errors[i] = error.isEmpty() ? QStringLiteral("failed without message") : error;
            applied[i] = identity + ledger;
        }));
        threads.back()->start();
    }
    for (auto &t : threads)
        QVERIFY(t->wait(60000));
    int total = 0;
    for (int i = 0; i < kThreads; ++i) {
        QVERIFY2(errors[i].isEmpty(),
                 qPrintable(QStringLiteral("thread %1: %2").arg(i).arg(errors[i])));
        total += applied[i];
    }
    // Every migration was applied exactly once, by whichever thread got the lock first.
    const int expected = Schema::identityMigrations().size() + Schema::ledgerMigrations().size();
    QCOMPARE(total, expected);
    DatabaseConnection check(url, "check");
    QString error;
    QVERIFY2(check.open(&error), qPrintable(error));
    QCOMPARE(countRows(check, "SELECT COUNT(*) FROM schema_version"), expected);
    QCOMPARE(countRows(check, "SELECT COUNT(*) FROM gateway_instances"), 0);
}

void TestStorage::sqliteModeAndPragmas()
{
    DatabaseUrl url;
    url.path = m_tmp.filePath("deep/er/dir/pragmas.db");
    QVERIFY(!QFileInfo::exists(m_tmp.filePath("deep")));
    DatabaseConnection conn(url, "test");
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    QVERIFY(QFileInfo::exists(url.path));  // parent directories created

    auto pragma = [&conn](const char *name) {
        auto q = conn.query(QStringLiteral("PRAGMA %1").arg(QLatin1String(name)));
        return q && q->next() ? q->value(0).toString() : QStringLiteral("<error>");
    };
    QCOMPARE(pragma("journal_mode"), "wal");
    QCOMPARE(pragma("busy_timeout"), "5000");
    QCOMPARE(pragma("foreign_keys"), "1");
    QCOMPARE(pragma("synchronous"), "1");  // NORMAL

    // foreign_keys=ON is enforced.
    QVERIFY(conn.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)"));
    QVERIFY(conn.exec("CREATE TABLE child (pid INTEGER REFERENCES parent (id))"));
    QVERIFY(!conn.exec("INSERT INTO child (pid) VALUES (?)", {42}));

    // WAL persists in the file: a second connection sees it too.
    DatabaseConnection second(url, "test");
    QVERIFY2(second.open(&error), qPrintable(error));
    auto q = second.query("PRAGMA journal_mode");
    QVERIFY(q && q->next());
    QCOMPARE(q->value(0).toString(), "wal");

    // A directory that cannot be created is a clear error.
    DatabaseUrl bad;
    bad.path = m_tmp.filePath("pragmas-file/x.db");
    QFile blocker(m_tmp.filePath("pragmas-file"));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    DatabaseConnection badConn(bad, "test");
    QVERIFY(!badConn.open(&error));
    QVERIFY2(error.contains("cannot create directory"), qPrintable(error));
}

void TestStorage::pingWorks()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QVERIFY2(
        Migrator::migrate(*conn, Schema::identityComponent(), Schema::identityMigrations(), &error),
        qPrintable(error));
    QVERIFY2(conn->ping(&error), qPrintable(error));
    QVERIFY2(conn->ping(&error), qPrintable(error));
}

void TestStorage::pingOnClosedConnectionFails()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QVERIFY2(
        Migrator::migrate(*conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error),
        qPrintable(error));
    conn->close();
    QVERIFY(!conn->isOpen());
    error.clear();
    QVERIFY(!conn->ping(&error));
    QVERIFY2(error.contains("closed"), qPrintable(error));
    QVERIFY(!conn->exec("SELECT 1", {}, &error));
    // Reopening after close works (the health checker's recovery path).
    QVERIFY2(conn->open(&error), qPrintable(error));
    QVERIFY2(conn->ping(&error), qPrintable(error));
}

void TestStorage::pingOnBrokenPostgresConnectionFails()
{
    auto conn = openFresh(DatabaseUrl::Driver::Postgres, "identity");
    QVERIFY(conn);
    QString error;
    QVERIFY2(
        Migrator::migrate(*conn, Schema::identityComponent(), Schema::identityMigrations(), &error),
        qPrintable(error));
    QVERIFY2(conn->ping(&error), qPrintable(error));
    const int pid = countRows(*conn, "SELECT pg_backend_pid()");
    QVERIFY(pid > 0);
    // The server goes away under the connection (restart, failover, idle kill).
    QVERIFY2(m_pgAdmin->exec("SELECT pg_terminate_backend(?)", {pid}, &error), qPrintable(error));
    error.clear();
    QVERIFY(!conn->ping(&error));
    QVERIFY2(!error.isEmpty() && error.contains("identity"), qPrintable(error));
    // Recovery: close and open again.
    conn->close();
    QVERIFY2(conn->open(&error), qPrintable(error));
    QVERIFY2(conn->ping(&error), qPrintable(error));
}

void TestStorage::pingBeforeMigrationFails()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QVERIFY(!conn->ping(&error));
    QVERIFY2(error.contains("schema_version"), qPrintable(error));
}

void TestStorage::badPostgresPortGivesClearErrorWithoutPassword()
{
    // A port nothing listens on: bind one, note it, release it.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();

    const QString password = QStringLiteral("Sup3rS3cretPassw0rd");
    QString error;
    const auto url = DatabaseUrl::parse(
        QStringLiteral("postgres://sluice:%1@127.0.0.1:%2/sluice_test").arg(password).arg(port),
        &error);
    QVERIFY2(url, qPrintable(error));
    DatabaseConnection conn(*url, "identity", 2);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!conn.open(&error));
    QVERIFY(timer.elapsed() < 10000);
    QVERIFY(!conn.isOpen());
    qDebug().noquote() << error;
    QVERIFY2(!error.contains(password), qPrintable(error));
    QVERIFY2(error.contains("cannot open") && error.contains("identity") &&
                 error.contains(QStringLiteral("127.0.0.1:%1").arg(port)) &&
                 error.contains("sluice:***@"),
             qPrintable(error));
    QVERIFY2(error.contains("refused", Qt::CaseInsensitive) ||
                 error.contains("connect", Qt::CaseInsensitive),
             qPrintable(error));
    QVERIFY(!conn.ping(&error));
}

void TestStorage::unknownPostgresDatabaseErrorHasNoPassword()
{
    DatabaseUrl url = *m_pgUrl;
    url.password = QStringLiteral("An0therS3cret");
    url.databaseName = QStringLiteral("sluice_no_such_db_%1").arg(m_runId);
    DatabaseConnection conn(url, "ledger");
    QString error;
    QVERIFY(!conn.open(&error));
    qDebug().noquote() << error;
    QVERIFY2(!error.contains(url.password), qPrintable(error));
    QVERIFY2(error.contains(url.databaseName) && error.contains("does not exist"),
             qPrintable(error));
}

void TestStorage::queryObserverSeesEveryStatement()
{
    auto conn = openFresh("identity");
    QVERIFY(conn);
    QList<Observed> seen;
    conn->setQueryObserver([&seen](const QString &role, const QString &op, bool ok, double s) {
        seen.append({role, op, ok, s});
    });
    QString error;
    QVERIFY2(conn->exec("CREATE TABLE obs (a INTEGER)", {}, &error), qPrintable(error));
    QVERIFY2(conn->exec("INSERT INTO obs (a) VALUES (?)", {1}, &error), qPrintable(error));
    QVERIFY2(conn->exec("UPDATE obs SET a = ? WHERE a = ?", {2, 1}, &error), qPrintable(error));
    QVERIFY2(conn->query("SELECT a FROM obs", {}, &error), qPrintable(error));
    QVERIFY2(conn->exec("DELETE FROM obs", {}, &error), qPrintable(error));
    QVERIFY(!conn->exec("SELECT nope FROM obs", {}, &error));
    QVERIFY2(conn->beginTransaction(&error), qPrintable(error));
    QVERIFY2(conn->rollback(&error), qPrintable(error));

    const QStringList ops = {"ddl",    "insert", "update", "select",
                             "delete", "select", "other",  "other"};
    QCOMPARE(seen.size(), ops.size());
    for (qsizetype i = 0; i < seen.size(); ++i) {
        QCOMPARE(seen[i].role, "identity");
        QCOMPARE(seen[i].operation, ops[i]);
        QCOMPARE(seen[i].ok, i != 5);
        QVERIFY(seen[i].seconds >= 0 && seen[i].seconds < 60);
    }

    // Migrations go through the same path.
    seen.clear();
    QVERIFY2(
        Migrator::migrate(*conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error),
        qPrintable(error));
    QVERIFY(std::any_of(seen.cbegin(), seen.cend(),
                        [](const Observed &o) { return o.operation == "ddl"; }));
    QVERIFY(std::all_of(seen.cbegin(), seen.cend(), [](const Observed &o) { return o.ok; }));
}

void TestStorage::boundValuesAndPreparedBatches()
{
    auto conn = openFresh();
    QVERIFY(conn);
    QString error;
    QVERIFY2(conn->exec("CREATE TABLE kv (k TEXT PRIMARY KEY, n BIGINT, d DOUBLE PRECISION, "
                        "flag BOOLEAN, note TEXT)",
                        {}, &error),
             qPrintable(error));
    // Values are bound, never spliced: quotes and injection attempts are plain data.
    const QString tricky = QStringLiteral("it's'; DROP TABLE kv; --");
    QVERIFY2(conn->exec("INSERT INTO kv (k, n, d, flag, note) VALUES (?, ?, ?, ?, ?)",
                        {tricky, qint64(1) << 40, 2.5, true, QVariant()}, &error),
             qPrintable(error));

    QVERIFY2(conn->beginTransaction(&error), qPrintable(error));
    auto insert = conn->prepare("INSERT INTO kv (k, n) VALUES (?, ?)", &error);
    QVERIFY2(insert, qPrintable(error));
    for (int i = 0; i < 50; ++i)
        QVERIFY2(conn->execPrepared(*insert, {QStringLiteral("row%1").arg(i), i}, &error),
                 qPrintable(error));
    insert.reset();
    QVERIFY2(conn->commit(&error), qPrintable(error));
    QCOMPARE(countRows(*conn, "SELECT COUNT(*) FROM kv"), 51);

    auto q = conn->query("SELECT n, d, flag, note FROM kv WHERE k = ?", {tricky}, &error);
    QVERIFY2(q && q->next(), qPrintable(error));
    QCOMPARE(q->value(0).toLongLong(), qint64(1) << 40);
    QCOMPARE(q->value(1).toDouble(), 2.5);
    QCOMPARE(q->value(2).toBool(), true);
    QVERIFY(q->value(3).isNull());
    q.reset();

    // prepareStatement(): SQLite's own API on SQLite, a QSqlQuery elsewhere; the same values
    // land the same way, inside the connection's transaction, and the observer sees them.
    int observed = 0;
    conn->setQueryObserver([&](const QString &, const QString &operation, bool, double) {
        observed += operation == QLatin1String("insert");
    });
    QVERIFY2(conn->beginTransaction(&error), qPrintable(error));
    auto batch = conn->prepareStatement(
        "INSERT INTO kv (k, n, d, flag, note) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)", &error);
    QVERIFY2(batch, qPrintable(error));
    QCOMPARE(bool(batch->native), conn->isSqlite());
    for (int i = 0; i < 10; ++i) {
        QVERIFY2(conn->execPrepared(*batch,
                                    {QStringLiteral("b%1").arg(2 * i), qint64(i) << 33, 0.25 * i,
                                     i % 2 == 0, tricky, QStringLiteral("b%1").arg(2 * i + 1),
                                     QVariant(), QVariant(), QVariant(), QVariant()},
                                    &error),
                 qPrintable(error));
    }
    // A duplicate key fails with the database's message and leaves the statement usable.
    QVERIFY(!conn->execPrepared(*batch,
                                {QStringLiteral("b0"), 1, 1.0, true, QVariant(),
                                 QStringLiteral("z"), 1, 1.0, true, QVariant()},
                                &error));
    QVERIFY2(!error.isEmpty(), "no error text");
    error.clear();
    if (conn->isSqlite()) {  // PostgreSQL aborts the transaction on an error
        QVERIFY(!conn->execPrepared(*batch, {QStringLiteral("short")}, &error));
        QVERIFY2(error.contains(QLatin1String("placeholders")), qPrintable(error));
        QVERIFY2(conn->commit(&error), qPrintable(error));
    } else {
        QVERIFY2(conn->rollback(&error), qPrintable(error));
    }
    batch.reset();
    QCOMPARE(observed, conn->isSqlite() ? 12 : 11);
    QCOMPARE(countRows(*conn, "SELECT COUNT(*) FROM kv WHERE k LIKE 'b%'"),
             conn->isSqlite() ? 20 : 0);
    if (conn->isSqlite()) {
        q = conn->query("SELECT n, d, flag, note FROM kv WHERE k = 'b6'", {}, &error);
        QVERIFY2(q && q->next(), qPrintable(error));
        QCOMPARE(q->value(0).toLongLong(), qint64(3) << 33);
        QCOMPARE(q->value(1).toDouble(), 0.75);
        QCOMPARE(q->value(2).toBool(), false);
        QCOMPARE(q->value(3).toString(), tricky);
        q = conn->query("SELECT n, note FROM kv WHERE k = 'b7'", {}, &error);
        QVERIFY2(q && q->next(), qPrintable(error));
        QVERIFY(q->value(0).isNull() && q->value(1).isNull());
    }
    QVERIFY(!conn->prepareStatement("INSERT INTO nowhere VALUES (?)", &error));
    QVERIFY2(!error.isEmpty(), "no error text");
}

void TestStorage::connectionsArePerThread()
{
    DatabaseUrl url;
    url.path = m_tmp.filePath("threads.db");
    DatabaseConnection mine(url, "health");
    QString error;
    QVERIFY2(mine.open(&error), qPrintable(error));
    QCOMPARE(mine.ownerThread(), QThread::currentThread());
    QVERIFY(mine.isOwnedByCurrentThread());
    QVERIFY(mine.connectionName().startsWith("health-"));

    QString otherName;
    QString otherError;
    bool ownedThere = true;
    bool otherOwnsItself = false;
    bool otherWorks = false;
    std::unique_ptr<QThread> thread(QThread::create([&] {
        // The main thread's connection is not ours here; we open our own.
        ownedThere = mine.isOwnedByCurrentThread();
        DatabaseConnection own(url, "health");
        otherOwnsItself = own.ownerThread() == QThread::currentThread();
        otherName = own.connectionName();
        otherWorks =
            own.open(&otherError) && own.exec("CREATE TABLE t (a INTEGER)", {}, &otherError);
    }));
    thread->start();
    QVERIFY(thread->wait(30000));
    QVERIFY(!ownedThere);
    QVERIFY(otherOwnsItself);
    QVERIFY2(otherWorks, qPrintable(otherError));
    QVERIFY(otherName != mine.connectionName());
    QVERIFY(mine.exec("INSERT INTO t (a) VALUES (?)", {1}, &error));
}

void TestStorage::crossThreadUseIsRefused()
{
    // Using a connection from another thread is a bug caught by an assertion (debug builds) or
    // refused with an error (release builds). The assertion aborts, so it runs in a child.
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(kChildEnv, m_tmp.filePath("cross-thread.db"));
    env.insert("QTEST_DISABLE_CORE_DUMP", "1");
    env.insert("QTEST_DISABLE_STACK_DUMP", "1");
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {"crossThreadUseChild"});
    QVERIFY(child.waitForFinished(60000));
    const QString output =
        QString::fromLocal8Bit(child.readAllStandardOutput() + child.readAllStandardError());
#ifdef QT_NO_DEBUG
    QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0,
             qPrintable(output));
    QVERIFY2(output.contains("refused:") && output.contains("other than the one that opened it"),
             qPrintable(output));
#else
    QVERIFY2(child.exitStatus() == QProcess::CrashExit || child.exitCode() != 0,
             qPrintable(output));
    QVERIFY2(output.contains("used from a thread other than the one that opened it"),
             qPrintable(output));
#endif
}

void TestStorage::crossThreadUseChild()
{
    const QString path = qEnvironmentVariable(kChildEnv);
    if (path.isEmpty())
        return;  // only meaningful as crossThreadUseIsRefused's child
    DatabaseUrl url;
    url.path = path;
    DatabaseConnection conn(url, "test");
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    bool ok = true;
    std::unique_ptr<QThread> thread(
        QThread::create([&] { ok = conn.exec("SELECT 1", {}, &error); }));
    thread->start();
    QVERIFY(thread->wait(30000));
    QVERIFY(!ok);
    qInfo("refused: %s", qPrintable(error));
}

QTEST_GUILESS_MAIN(TestStorage)
#include "tst_storage.moc"
