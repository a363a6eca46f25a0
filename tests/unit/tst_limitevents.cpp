// Rate-limit violations and monthly quota alerts on SQLite and PostgreSQL: ViolationLog
// aggregates denials per minute, key, limit and route in memory and upserts them (counts add up
// across writes), within a bound on distinct rows; QuotaAlertMonitor raises 80 % and 100 % once
// per principal, limit and month, also after a restart, with a row, a log line and a signal on
// its own thread; LimitEventQuery reads both back newest first, filtered and paged.

#include "DatabaseConnection.h"
#include "LimitEventQuery.h"
#include "MetricsRegistry.h"
#include "Migrator.h"
#include "PgTestDatabase.h"
#include "QuotaAlertMonitor.h"
#include "Schema.h"
#include "TestFixtures.h"
#include "ViolationLog.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <memory>
#include <vector>

using namespace sluice;
using sluice::test::PgTestDatabase;

namespace {

// 2026-12-01T10:05:00Z and the minutes after it, in epoch ms.
constexpr qint64 kMinute = 60'000;
const qint64 kT0 = QDateTime(QDate(2026, 12, 1), QTime(10, 5), Qt::UTC).toMSecsSinceEpoch();
const qint64 kDecember2026 = (2026 - 1970) * 12 + 11;

Violation violation(qint64 atMs, qint64 keyId, const char *limit = "key-rps",
                    const char *route = "/v1/chat/completions")
{
    Violation v;
    v.atMs = atMs;
    v.userId = 100 + keyId;
    v.keyId = keyId;
    v.limitName = limit;
    v.limitType = QByteArray(limit).startsWith("user") ? "user" : "key";
    v.tier = "free";
    v.route = route;
    return v;
}

QuotaAlertMonitor::Usage usage(double used, double limit, qint64 month = kDecember2026,
                               const char *scope = "key")
{
    QuotaAlertMonitor::Usage u;
    u.scope = scope;
    u.userId = 7;
    u.keyId = 70;
    u.limitName = QByteArray(scope) + "-monthly-requests";
    u.limit = limit;
    u.used = used;
    u.monthIndex = month;
    return u;
}

double counterValue(MetricsRegistry &metrics, const char *name)
{
    return metrics.counter(name, "").value();
}

double alertsCounted(MetricsRegistry &metrics, const char *scope, const char *threshold)
{
    return metrics.counter("gateway_quota_alerts_total", "", {"scope", "threshold"})
        .value({scope, threshold});
}

}  // namespace

class TestLimitEvents : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void violationsAggregatePerMinute_data() { backends(); }
    void violationsAggregatePerMinute();
    void violationsAddUpAcrossWrites_data() { backends(); }
    void violationsAddUpAcrossWrites();
    void violationsFromThreads_data() { backends(); }
    void violationsFromThreads();
    void violationsBoundDistinctRows();
    void violationsIntervalAndDestructorWrite();
    void violationsKeptWhileDatabaseIsDown();
    void violationQueries_data() { backends(); }
    void violationQueries();

    void alertsAt80And100Once_data() { backends(); }
    void alertsAt80And100Once();
    void alertsPerMonthAndPrincipal();
    void alertsSurviveRestart_data() { backends(); }
    void alertsSurviveRestart();
    void alertSignalOnOwnThread();
    void alertQueries_data() { backends(); }
    void alertQueries();
    void monthText();

private:
    static void backends();
    std::optional<DatabaseUrl> freshLedger();
    std::optional<DatabaseUrl> freshSqlite();
    static qint64 scalar(const DatabaseUrl &url, const QString &sql);

    QTemporaryDir m_tmp;
    QString m_pgFixture;
    std::vector<std::unique_ptr<PgTestDatabase>> m_pg;
    int m_counter = 0;
};

void TestLimitEvents::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QString why;
    m_pgFixture = sluice::test::postgresUrl(&why);
    // Never passes without having run on PostgreSQL.
    QVERIFY2(!m_pgFixture.isEmpty(), qPrintable(why));
}

void TestLimitEvents::cleanupTestCase()
{
    m_pg.clear();
}

void TestLimitEvents::backends()
{
    QTest::addColumn<DatabaseUrl::Driver>("driver");
    QTest::newRow("sqlite") << DatabaseUrl::Driver::Sqlite;
    QTest::newRow("postgres") << DatabaseUrl::Driver::Postgres;
}

std::optional<DatabaseUrl> TestLimitEvents::freshSqlite()
{
    DatabaseUrl url;
    url.driver = DatabaseUrl::Driver::Sqlite;
    url.path = m_tmp.filePath(QStringLiteral("ledger%1.db").arg(++m_counter));
    DatabaseConnection conn(url, QStringLiteral("ledger"));
    QString why;
    if (!conn.open(&why) ||
        !Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &why)) {
        qWarning("%s", qPrintable(why));
        return std::nullopt;
    }
    return url;
}

std::optional<DatabaseUrl> TestLimitEvents::freshLedger()
{
    QFETCH(DatabaseUrl::Driver, driver);
    if (driver == DatabaseUrl::Driver::Sqlite)
        return freshSqlite();
    QString why;
    auto pg = std::make_unique<PgTestDatabase>(m_pgFixture, QStringLiteral("sluice_events"));
    if (!pg->create(&why)) {
        qWarning("cannot create a PostgreSQL database: %s", qPrintable(why));
        return std::nullopt;
    }
    const auto url = DatabaseUrl::parse(pg->url(), &why);
    m_pg.push_back(std::move(pg));
    if (!url) {
        qWarning("%s", qPrintable(why));
        return std::nullopt;
    }
    DatabaseConnection conn(*url, QStringLiteral("ledger"));
    if (!conn.open(&why) ||
        !Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &why)) {
        qWarning("%s", qPrintable(why));
        return std::nullopt;
    }
    return url;
}

qint64 TestLimitEvents::scalar(const DatabaseUrl &url, const QString &sql)
{
    DatabaseConnection conn(url, QStringLiteral("check"));
    QString error;
    if (!conn.open(&error)) {
        qWarning("%s", qPrintable(error));
        return -1;
    }
    auto q = conn.query(sql, {}, &error);
    if (!q) {
        qWarning("%s", qPrintable(error));
        return -1;
    }
    return q->next() ? q->value(0).toLongLong() : -1;
}

// ---- violations ----

void TestLimitEvents::violationsAggregatePerMinute()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    ViolationLog::Options options;
    options.flushIntervalMs = 600'000;  // only flush() writes
    ViolationLog log(*url, options, metrics);

    // 50 denials of key 1 in the first minute, 20 in the next; key 2 on two limits and two
    // routes; one shadow denial of key 1 counts apart.
    for (int i = 0; i < 50; ++i)
        log.record(violation(kT0 + i * 1000, 1));
    for (int i = 0; i < 20; ++i)
        log.record(violation(kT0 + kMinute + i * 100, 1));
    log.record(violation(kT0, 2, "key-rps"));
    log.record(violation(kT0 + 10, 2, "user-rpm"));
    log.record(violation(kT0 + 20, 2, "key-rps", "/v1/messages"));
    Violation shadow = violation(kT0 + 5, 1);
    shadow.shadow = true;
    log.record(shadow);
    QCOMPARE(log.heldEntries(), 6);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 0);

    QString error;
    QVERIFY2(log.flush(&error), qPrintable(error));
    QCOMPARE(log.heldEntries(), 0);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 6);
    QCOMPARE(scalar(*url, "SELECT SUM(count) FROM violations"), 74);
    QCOMPARE(scalar(*url,
                    "SELECT count FROM violations WHERE key_id = 1 AND shadow = 0 AND "
                    "minute = '2026-12-01T10:05:00.000Z'"),
             50);
    QCOMPARE(scalar(*url,
                    "SELECT count FROM violations WHERE key_id = 1 AND shadow = 0 AND "
                    "minute = '2026-12-01T10:06:00.000Z'"),
             20);
    QCOMPARE(scalar(*url, "SELECT count FROM violations WHERE key_id = 1 AND shadow = 1"), 1);
    QCOMPARE(scalar(*url,
                    "SELECT COUNT(*) FROM violations WHERE key_id = 2 AND user_id = 102 "
                    "AND tier = 'free'"),
             3);
    QCOMPARE(scalar(*url,
                    "SELECT COUNT(*) FROM violations WHERE limit_name = 'user-rpm' AND "
                    "limit_type = 'user'"),
             1);
    QCOMPARE(counterValue(metrics, "gateway_rate_limit_violations_dropped_total"), 0.0);
}

void TestLimitEvents::violationsAddUpAcrossWrites()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    ViolationLog::Options options;
    options.flushIntervalMs = 600'000;
    ViolationLog log(*url, options, metrics);
    QString error;
    // Three writes hitting the same row: the upsert adds, never replaces. More than one
    // statement's worth of rows (100) each time.
    for (int round = 0; round < 3; ++round) {
        for (int key = 1; key <= 250; ++key)
            log.record(violation(kT0 + round * 1000, key));
        log.record(violation(kT0 + round * 1000, 1));
        QVERIFY2(log.flush(&error), qPrintable(error));
    }
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 250);
    QCOMPARE(scalar(*url, "SELECT SUM(count) FROM violations"), 3 * 251);
    QCOMPARE(scalar(*url, "SELECT count FROM violations WHERE key_id = 1"), 6);
    QCOMPARE(scalar(*url, "SELECT count FROM violations WHERE key_id = 250"), 3);
    // A second log (another gateway, or after a restart) adds to the same rows.
    {
        ViolationLog other(*url, options, metrics);
        other.record(violation(kT0 + 59'000, 250));
    }
    QCOMPARE(scalar(*url, "SELECT count FROM violations WHERE key_id = 250"), 4);
}

void TestLimitEvents::violationsFromThreads()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    ViolationLog::Options options;
    options.flushIntervalMs = 20;  // writes run while the threads record
    ViolationLog log(*url, options, metrics);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 5000;
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back(QThread::create([&log, t] {
            for (int i = 0; i < kPerThread; ++i)
                log.record(violation(kT0 + (i % 3) * kMinute, 1 + (t + i) % 5));
        }));
        threads.back()->start();
    }
    for (auto &t : threads)
        QVERIFY(t->wait(30000));
    QString error;
    QVERIFY2(log.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT SUM(count) FROM violations"), kThreads * kPerThread);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 15);  // 3 minutes x 5 keys
}

void TestLimitEvents::violationsBoundDistinctRows()
{
    const auto url = freshSqlite();
    QVERIFY(url);
    MetricsRegistry metrics;
    ViolationLog::Options options;
    options.flushIntervalMs = 600'000;
    options.maxEntries = 100;
    ViolationLog log(*url, options, metrics);
    // A flood of distinct keys: 100 rows are held, the rest are counted, not kept. Keys
    // already held keep counting.
    for (int key = 1; key <= 1000; ++key)
        log.record(violation(kT0, key));
    for (int i = 0; i < 10; ++i)
        log.record(violation(kT0, 1));
    QCOMPARE(log.heldEntries(), 100);
    QString error;
    QVERIFY2(log.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 100);
    QCOMPARE(scalar(*url, "SELECT SUM(count) FROM violations"), 110);
    QCOMPARE(scalar(*url, "SELECT count FROM violations WHERE key_id = 1"), 11);
    QCOMPARE(log.droppedCount(), 900);
    QCOMPARE(counterValue(metrics, "gateway_rate_limit_violations_dropped_total"), 900.0);
    // The bound is per write: the next interval has room again.
    for (int key = 1001; key <= 1050; ++key)
        log.record(violation(kT0, key));
    QVERIFY2(log.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM violations"), 150);
    QCOMPARE(log.droppedCount(), 900);
}

void TestLimitEvents::violationsIntervalAndDestructorWrite()
{
    const auto url = freshSqlite();
    QVERIFY(url);
    MetricsRegistry metrics;
    {
        ViolationLog::Options options;
        options.flushIntervalMs = 50;
        ViolationLog log(*url, options, metrics);
        log.record(violation(kT0, 1));
        QTRY_COMPARE_WITH_TIMEOUT(scalar(*url, "SELECT SUM(count) FROM violations"), 1, 5000);
        QTRY_COMPARE(log.heldEntries(), 0);
    }
    {
        ViolationLog::Options options;
        options.flushIntervalMs = 600'000;
        ViolationLog log(*url, options, metrics);
        log.record(violation(kT0, 1));
        log.record(violation(kT0, 2));
    }  // the destructor writes what is held
    QCOMPARE(scalar(*url, "SELECT SUM(count) FROM violations"), 3);
}

void TestLimitEvents::violationsKeptWhileDatabaseIsDown()
{
    // A ledger whose schema is missing fails every write: rows are kept (within the bound) and
    // written once the table is there.
    DatabaseUrl url;
    url.driver = DatabaseUrl::Driver::Sqlite;
    url.path = m_tmp.filePath(QStringLiteral("late%1.db").arg(++m_counter));
    MetricsRegistry metrics;
    ViolationLog::Options options;
    options.flushIntervalMs = 600'000;
    ViolationLog log(url, options, metrics);
    for (int i = 0; i < 5; ++i)
        log.record(violation(kT0, 1));
    QString error;
    QVERIFY(!log.flush(&error));
    QVERIFY2(error.contains(QLatin1String("violations")), qPrintable(error));
    QCOMPARE(log.heldEntries(), 1);
    log.record(violation(kT0, 1));
    {
        DatabaseConnection conn(url, QStringLiteral("ledger"));
        QVERIFY(conn.open(&error));
        QVERIFY2(
            Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error),
            qPrintable(error));
    }
    QVERIFY2(log.flush(&error), qPrintable(error));
    QCOMPARE(scalar(url, "SELECT count FROM violations WHERE key_id = 1"), 6);
    QCOMPARE(log.droppedCount(), 0);
}

void TestLimitEvents::violationQueries()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    {
        ViolationLog::Options options;
        options.flushIntervalMs = 600'000;
        ViolationLog log(*url, options, metrics);
        // Written minute by minute, so ids follow time.
        for (int m = 0; m < 5; ++m) {
            for (int i = 0; i <= m; ++i)
                log.record(violation(kT0 + m * kMinute, 1));
            log.record(violation(kT0 + m * kMinute, 2, "user-rpm"));
            QVERIFY(log.flush());
        }
        Violation shadow = violation(kT0 + 5 * kMinute, 3);
        shadow.shadow = true;
        log.record(shadow);
    }
    DatabaseConnection conn(*url, QStringLiteral("admin"));
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    LimitEventQuery query(conn);

    auto all = query.violations({}, 100, 0, &error);
    QVERIFY2(all, qPrintable(error));
    QCOMPARE(all->size(), 11);
    // Newest first.
    QCOMPARE(all->first().keyId, 3);
    QVERIFY(all->first().shadow);
    for (qsizetype i = 1; i < all->size(); ++i)
        QVERIFY(all->at(i - 1).id > all->at(i).id);

    ViolationFilter byKey;
    byKey.keyId = 1;
    auto rows = query.violations(byKey, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 5);
    QCOMPARE(rows->first().minute, QStringLiteral("2026-12-01T10:09:00.000Z"));
    QCOMPARE(rows->first().count, 5);
    QCOMPARE(rows->first().limitName, QStringLiteral("key-rps"));
    QCOMPARE(rows->first().limitType, QStringLiteral("key"));
    QCOMPARE(rows->first().route, QStringLiteral("/v1/chat/completions"));
    QCOMPARE(rows->first().tier, QStringLiteral("free"));
    QCOMPARE(rows->first().userId, 101);
    QCOMPARE(rows->last().count, 1);

    // Time range: minutes starting in [10:06, 10:08).
    ViolationFilter range;
    range.from = QDateTime(QDate(2026, 12, 1), QTime(10, 6), Qt::UTC);
    range.to = QDateTime(QDate(2026, 12, 1), QTime(10, 8), Qt::UTC);
    range.limitName = QStringLiteral("key-rps");
    rows = query.violations(range, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 2);
    QCOMPARE(rows->at(0).count + rows->at(1).count, 2 + 3);

    ViolationFilter users;
    users.userId = 102;
    users.shadow = false;
    rows = query.violations(users, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 5);
    ViolationFilter shadows;
    shadows.shadow = true;
    rows = query.violations(shadows, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 1);

    // Pages of 4: after the last id of a page come older rows only, and all of them.
    QList<qint64> seen;
    qint64 after = 0;
    for (int page = 0; page < 5; ++page) {
        rows = query.violations({}, 4, after, &error);
        QVERIFY2(rows, qPrintable(error));
        for (const ViolationRow &r : *rows)
            seen << r.id;
        if (rows->size() < 4)
            break;
        after = rows->last().id;
    }
    QCOMPARE(seen.size(), 11);
    for (qsizetype i = 1; i < seen.size(); ++i)
        QVERIFY(seen[i - 1] > seen[i]);

    const QJsonObject json = LimitEventQuery::toJson(all->first());
    QCOMPARE(json.value(QLatin1String("key_id")).toInteger(), 3);
    QCOMPARE(json.value(QLatin1String("shadow")).toBool(), true);
    QCOMPARE(json.value(QLatin1String("count")).toInteger(), 1);
    QCOMPARE(json.value(QLatin1String("minute")).toString(),
             QStringLiteral("2026-12-01T10:10:00.000Z"));
    QCOMPARE(json.keys(), (QStringList{"count", "id", "key_id", "limit_name", "limit_type",
                                       "minute", "route", "shadow", "tier", "user_id"}));
}

// ---- quota alerts ----

void TestLimitEvents::alertsAt80And100Once()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    QuotaAlertMonitor monitor(*url, {}, metrics);
    QVERIFY(monitor.load(QDateTime::currentDateTimeUtc()));
    QSignalSpy spy(&monitor, &QuotaAlertMonitor::alertRaised);

    // 1..10 of 10: 80 % at the 8th request, 100 % at the 10th; then refusals raise nothing.
    for (int used = 1; used <= 10; ++used)
        monitor.observe(usage(used, 10));
    QuotaAlertMonitor::Usage refused = usage(10, 10);
    refused.refused = true;
    for (int i = 0; i < 5; ++i)
        monitor.observe(refused);
    QString error;
    QVERIFY2(monitor.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 2);
    QCOMPARE(scalar(*url,
                    "SELECT COUNT(*) FROM alerts WHERE threshold_percent = 80 AND "
                    "used = 8 AND limit_value = 10 AND scope = 'key' AND key_id = 70 AND "
                    "user_id = 7 AND month = '2026-12' AND "
                    "limit_name = 'key-monthly-requests'"),
             1);
    QCOMPARE(scalar(*url,
                    "SELECT COUNT(*) FROM alerts WHERE threshold_percent = 100 AND "
                    "used = 10"),
             1);
    QTRY_COMPARE(spy.size(), 2);
    QCOMPARE(alertsCounted(metrics, "key", "80"), 1.0);
    QCOMPARE(alertsCounted(metrics, "key", "100"), 1.0);

    // Jumping past both at once raises both, 80 first; a refusal past 80 % counts as 100 %
    // (too little is left for the request), one below 80 % raises nothing.
    QuotaAlertMonitor::Usage jump = usage(50, 50, kDecember2026, "user");
    monitor.observe(jump);
    QuotaAlertMonitor::Usage tokens = usage(900, 1000);
    tokens.limitName = "key-monthly-tokens";
    tokens.refused = true;
    monitor.observe(tokens);
    QuotaAlertMonitor::Usage early = usage(100, 1000);
    early.limitName = "user-monthly-tokens";
    early.scope = "user";
    early.refused = true;
    monitor.observe(early);
    QVERIFY2(monitor.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 6);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts WHERE scope = 'user' AND key_id IS NULL"),
             2);
    QCOMPARE(scalar(*url,
                    "SELECT COUNT(*) FROM alerts WHERE limit_name = 'key-monthly-tokens' "
                    "AND threshold_percent = 100 AND used = 900"),
             1);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts WHERE limit_name = 'user-monthly-tokens'"),
             0);
    QTRY_COMPARE(spy.size(), 6);
    const QuotaAlert first = spy.at(2).at(0).value<QuotaAlert>();
    QCOMPARE(first.thresholdPercent, 80);
    QCOMPARE(first.scope, QByteArray("user"));
    QCOMPARE(first.keyId, 0);
    QCOMPARE(spy.at(3).at(0).value<QuotaAlert>().thresholdPercent, 100);
}

void TestLimitEvents::alertsPerMonthAndPrincipal()
{
    const auto url = freshSqlite();
    QVERIFY(url);
    MetricsRegistry metrics;
    QuotaAlertMonitor monitor(*url, {}, metrics);
    QVERIFY(monitor.load(QDateTime::currentDateTimeUtc()));
    monitor.observe(usage(9, 10));
    monitor.observe(usage(9, 10, kDecember2026 + 1));  // January: again
    QuotaAlertMonitor::Usage otherKey = usage(9, 10);
    otherKey.keyId = 71;
    monitor.observe(otherKey);
    // The user's quota is another quota than the key's, even with the same id.
    QuotaAlertMonitor::Usage user = usage(9, 10, kDecember2026, "user");
    user.userId = 70;
    monitor.observe(user);
    // Limits that are not set, and use below 80 %, raise nothing.
    monitor.observe(usage(9, 0));
    monitor.observe(usage(7.99, 10));
    QVERIFY(monitor.flush());
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts WHERE threshold_percent = 80"), 4);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts WHERE month = '2027-01'"), 1);
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 4);
}

void TestLimitEvents::alertsSurviveRestart()
{
    const auto url = freshLedger();
    QVERIFY(url);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 month = QuotaAlertMonitor::monthIndexOf(now);
    {
        MetricsRegistry metrics;
        QuotaAlertMonitor monitor(*url, {}, metrics);
        QVERIFY(monitor.load(now));
        monitor.observe(usage(8, 10, month));
        monitor.observe(usage(10, 10, month, "user"));
        monitor.observe(usage(8, 10, month - 1));  // last month's: remembered too
    }                                              // the destructor writes the rows
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 4);

    MetricsRegistry metrics;
    QuotaAlertMonitor monitor(*url, {}, metrics);
    QString error;
    QVERIFY2(monitor.load(now, &error), qPrintable(error));
    QSignalSpy spy(&monitor, &QuotaAlertMonitor::alertRaised);
    monitor.observe(usage(9, 10, month));           // 80 % again: known
    monitor.observe(usage(10, 10, month, "user"));  // both known
    monitor.observe(usage(9, 10, month - 1));       // known
    monitor.observe(usage(10, 10, month));          // 100 % of the key is new
    QVERIFY2(monitor.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 5);
    QTRY_COMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).value<QuotaAlert>().thresholdPercent, 100);
    QCOMPARE(alertsCounted(metrics, "key", "80"), 0.0);

    // Another gateway that did not know: its rows are not duplicated.
    MetricsRegistry otherMetrics;
    QuotaAlertMonitor other(*url, {}, otherMetrics);
    other.observe(usage(10, 10, month));
    other.observe(usage(10, 10, month, "user"));
    QVERIFY2(other.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM alerts"), 5);
}

void TestLimitEvents::alertSignalOnOwnThread()
{
    const auto url = freshSqlite();
    QVERIFY(url);
    MetricsRegistry metrics;
    QuotaAlertMonitor monitor(*url, {}, metrics);
    QVERIFY(monitor.load(QDateTime::currentDateTimeUtc()));
    QThread *signalledOn = nullptr;
    QuotaAlert received;
    connect(&monitor, &QuotaAlertMonitor::alertRaised, this, [&](const QuotaAlert &a) {
        signalledOn = QThread::currentThread();
        received = a;
    });
    std::unique_ptr<QThread> worker(QThread::create([&monitor] { monitor.observe(usage(4, 5)); }));
    worker->start();
    QVERIFY(worker->wait(5000));
    QTRY_VERIFY(signalledOn != nullptr);
    QCOMPARE(signalledOn, QThread::currentThread());
    QCOMPARE(received.thresholdPercent, 80);
    QCOMPARE(received.used, 4.0);
    QCOMPARE(received.limit, 5.0);
    QCOMPARE(received.month, QStringLiteral("2026-12"));
    QCOMPARE(received.limitName, QByteArray("key-monthly-requests"));
    QVERIFY(received.at.isValid());
}

void TestLimitEvents::alertQueries()
{
    const auto url = freshLedger();
    QVERIFY(url);
    {
        MetricsRegistry metrics;
        QuotaAlertMonitor monitor(*url, {}, metrics);
        monitor.observe(usage(10, 10));
        QuotaAlertMonitor::Usage other = usage(10, 10, kDecember2026, "user");
        other.userId = 8;
        monitor.observe(other);
        QVERIFY(monitor.flush());
    }
    DatabaseConnection conn(*url, QStringLiteral("admin"));
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    LimitEventQuery query(conn);
    auto rows = query.alerts({}, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 4);
    // Newest first: the user's 100 %, then its 80 %.
    QCOMPARE(rows->at(0).scope, QByteArray("user"));
    QCOMPARE(rows->at(0).thresholdPercent, 100);
    QCOMPARE(rows->at(1).thresholdPercent, 80);
    QCOMPARE(rows->at(0).keyId, 0);

    AlertFilter byUser;
    byUser.userId = 7;
    rows = query.alerts(byUser, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 2);
    QCOMPARE(rows->at(0).keyId, 70);
    QCOMPARE(rows->at(0).month, QStringLiteral("2026-12"));
    QVERIFY(qAbs(rows->at(0).at.secsTo(QDateTime::currentDateTimeUtc())) < 60);

    AlertFilter future;
    future.from = QDateTime::currentDateTimeUtc().addSecs(3600);
    rows = query.alerts(future, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 0);
    AlertFilter past;
    past.to = QDateTime::currentDateTimeUtc().addSecs(-3600);
    rows = query.alerts(past, 100, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 0);

    rows = query.alerts({}, 3, 0, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 3);
    rows = query.alerts({}, 3, rows->last().id, &error);
    QVERIFY2(rows, qPrintable(error));
    QCOMPARE(rows->size(), 1);
    QCOMPARE(rows->at(0).scope, QByteArray("key"));
    QCOMPARE(rows->at(0).thresholdPercent, 80);

    const QJsonObject json = LimitEventQuery::toJson(rows->at(0));
    QCOMPARE(json.keys(), (QStringList{"at", "id", "key_id", "limit", "limit_name", "month",
                                       "scope", "threshold_percent", "used", "user_id"}));
    QCOMPARE(json.value(QLatin1String("used")).toDouble(), 10.0);
    QCOMPARE(json.value(QLatin1String("threshold_percent")).toInt(), 80);
    auto userRows = query.alerts({}, 1, 0, &error);
    QVERIFY(userRows);
    QVERIFY(LimitEventQuery::toJson(userRows->at(0)).value(QLatin1String("key_id")).isNull());
}

void TestLimitEvents::monthText()
{
    QCOMPARE(QuotaAlertMonitor::monthText(0), QStringLiteral("1970-01"));
    QCOMPARE(QuotaAlertMonitor::monthText(kDecember2026), QStringLiteral("2026-12"));
    QCOMPARE(QuotaAlertMonitor::monthText(kDecember2026 + 1), QStringLiteral("2027-01"));
    QCOMPARE(QuotaAlertMonitor::monthIndexOf(QStringLiteral("2026-12")), kDecember2026);
    QCOMPARE(QuotaAlertMonitor::monthIndexOf(QStringLiteral("nonsense")), -1);
    QCOMPARE(
        QuotaAlertMonitor::monthIndexOf(QDateTime(QDate(2026, 12, 31), QTime(23, 59, 59), Qt::UTC)),
        kDecember2026);
    QCOMPARE(ViolationLog::minuteText(kT0 / kMinute), QStringLiteral("2026-12-01T10:05:00.000Z"));
}

QTEST_GUILESS_MAIN(TestLimitEvents)
#include "tst_limitevents.moc"
