// The usage ledger on SQLite and PostgreSQL: every accepted row written exactly once with its
// daily rollup, in few transactions, bounded when the database is gone and recovering when it
// is back, raw rows pruned by retention; and UsageQuery's aggregates against sums computed here.

#include "DatabaseConnection.h"
#include "MetricsRegistry.h"
#include "Migrator.h"
#include "PgTestDatabase.h"
#include "Schema.h"
#include "TestFixtures.h"
#include "UsageJson.h"
#include "UsageLedger.h"
#include "UsageQuery.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>
#include <QTimeZone>
#include <QtTest>
#include <atomic>
#include <map>
#include <memory>
#include <vector>

using namespace sluice;
using sluice::test::PgTestDatabase;

namespace {

// Counts statements by operation, from the writer thread.
struct StatementCounts
{
    std::atomic<int> inserts{0};
    std::atomic<int> others{0};  // BEGIN, COMMIT, ROLLBACK
    std::atomic<int> failed{0};

    QueryObserver observer()
    {
        return [this](const QString &, const QString &operation, bool ok, double) {
            if (operation == QLatin1String("insert"))
                ++inserts;
            else if (operation == QLatin1String("other"))
                ++others;
            if (!ok)
                ++failed;
        };
    }
};

QDateTime utc(const char *text)
{
    QDateTime t = QDateTime::fromString(QString::fromLatin1(text), Qt::ISODateWithMs);
    return t.toUTC();
}

UsageRecord makeRecord(int i, const QDateTime &at = QDateTime::currentDateTimeUtc())
{
    UsageRecord r;
    r.at = at;
    r.requestId = "req-" + QByteArray::number(i);
    r.userId = 1 + i % 3;
    r.keyId = 10 + i % 5;
    r.model = i % 2 ? QStringLiteral("gpt-4o") : QStringLiteral("claude-sonnet");
    r.route = "/v1/chat/completions";
    r.upstream = QStringLiteral("openai");
    r.status = i % 7 == 0 ? 502 : 200;
    r.promptTokens = 10 + i % 13;
    r.completionTokens = 5 + i % 11;
    r.cachedTokens = i % 4;
    r.cacheWriteTokens = i % 3;
    r.reasoningTokens = i % 2;
    r.estimated = i % 5 == 0;
    r.attempts = 1 + i % 2;
    r.latencySeconds = 0.25;
    r.timeToFirstByteSeconds = i % 6 == 0 ? 0 : 0.05;
    return r;
}

UsageLedger::Options quickOptions()
{
    UsageLedger::Options o;
    o.batchSize = 200;
    o.flushIntervalMs = 50;
    o.maxQueue = 100'000;
    o.retentionDays = 0;
    return o;
}

double counterValue(MetricsRegistry &metrics, const char *name)
{
    return metrics.counter(name, "").value();
}

double gaugeValue(MetricsRegistry &metrics, const QByteArray &name)
{
    for (const MetricSnapshot &s : metrics.collect()) {
        if (s.name == name && !s.series.empty())
            return s.series.front().value;
    }
    return -1;
}

}  // namespace

class TestUsageLedger : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void recordsFromThreadsAreWrittenInBatches_data() { backends(); }
    void recordsFromThreadsAreWrittenInBatches();
    void destructorFlushes_data() { backends(); }
    void destructorFlushes();
    void flushIntervalWritesWithoutFlush_data() { backends(); }
    void flushIntervalWritesWithoutFlush();
    void fullQueueDropsAndRecovers_data() { backends(); }
    void fullQueueDropsAndRecovers();
    void unreachableAtStartRecovers();
    void staleConnectionIsReplaced();
    void pruneByRetention_data() { backends(); }
    void pruneByRetention();
    void queryAggregates_data() { backends(); }
    void queryAggregates();
    void queryHelpers();

private:
    static void backends();
    // A fresh database of the current row's backend with the ledger schema.
    std::optional<DatabaseUrl> freshLedger();
    bool migrate(const DatabaseUrl &url, QString *why);
    static qint64 scalar(const DatabaseUrl &url, const QString &sql);

    QTemporaryDir m_tmp;
    QString m_pgFixture;
    std::vector<std::unique_ptr<PgTestDatabase>> m_pg;
    int m_counter = 0;
};

void TestUsageLedger::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QString why;
    m_pgFixture = sluice::test::postgresUrl(&why);
    // Never passes without having run on PostgreSQL.
    QVERIFY2(!m_pgFixture.isEmpty(), qPrintable(why));
}

void TestUsageLedger::cleanupTestCase()
{
    m_pg.clear();
}

void TestUsageLedger::backends()
{
    QTest::addColumn<DatabaseUrl::Driver>("driver");
    QTest::newRow("sqlite") << DatabaseUrl::Driver::Sqlite;
    QTest::newRow("postgres") << DatabaseUrl::Driver::Postgres;
}

bool TestUsageLedger::migrate(const DatabaseUrl &url, QString *why)
{
    DatabaseConnection conn(url, QStringLiteral("ledger"));
    return conn.open(why) &&
           Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), why);
}

std::optional<DatabaseUrl> TestUsageLedger::freshLedger()
{
    QFETCH(DatabaseUrl::Driver, driver);
    QString why;
    DatabaseUrl url;
    if (driver == DatabaseUrl::Driver::Sqlite) {
        url.driver = DatabaseUrl::Driver::Sqlite;
        url.path = m_tmp.filePath(QStringLiteral("ledger%1.db").arg(++m_counter));
    } else {
        auto pg = std::make_unique<PgTestDatabase>(m_pgFixture, QStringLiteral("sluice_ledger"));
        if (!pg->create(&why)) {
            qWarning("cannot create a PostgreSQL database: %s", qPrintable(why));
            return std::nullopt;
        }
        const auto parsed = DatabaseUrl::parse(pg->url(), &why);
        m_pg.push_back(std::move(pg));
        if (!parsed) {
            qWarning("%s", qPrintable(why));
            return std::nullopt;
        }
        url = *parsed;
    }
    if (!migrate(url, &why)) {
        qWarning("%s", qPrintable(why));
        return std::nullopt;
    }
    return url;
}

qint64 TestUsageLedger::scalar(const DatabaseUrl &url, const QString &sql)
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

// ---- writing ----

void TestUsageLedger::recordsFromThreadsAreWrittenInBatches()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    StatementCounts counts;
    UsageLedger::Options options = quickOptions();
    options.batchSize = 500;
    options.flushIntervalMs = 200;
    options.queryObserver = counts.observer();
    UsageLedger ledger(*url, options, metrics);

    constexpr int kThreads = 4;
    constexpr int kPerThread = 1500;
    constexpr int kTotal = kThreads * kPerThread;
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back(QThread::create([&ledger, t] {
            for (int i = 0; i < kPerThread; ++i)
                ledger.record(makeRecord(t * kPerThread + i));
        }));
        threads.back()->start();
    }
    for (auto &t : threads)
        QVERIFY(t->wait(30000));
    QString error;
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(ledger.queueDepth(), 0);

    qint64 prompt = 0;
    qint64 completion = 0;
    qint64 cached = 0;
    qint64 errors = 0;
    qint64 estimated = 0;
    qint64 noByte = 0;
    for (int i = 0; i < kTotal; ++i) {
        const UsageRecord r = makeRecord(i);
        noByte += r.timeToFirstByteSeconds == 0;
        prompt += r.promptTokens;
        completion += r.completionTokens;
        cached += r.cachedTokens;
        errors += r.status >= 400;
        estimated += r.estimated;
    }
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), kTotal);
    QCOMPARE(scalar(*url, "SELECT COUNT(DISTINCT request_id) FROM usage"), kTotal);
    QCOMPARE(scalar(*url, "SELECT SUM(prompt_tokens) FROM usage"), prompt);
    QCOMPARE(scalar(*url, "SELECT SUM(completion_tokens) FROM usage"), completion);
    // No byte back is NULL, not 0 ms.
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage WHERE ttfb_ms IS NULL"), noByte);
    // The rollup says the same.
    QCOMPARE(scalar(*url, "SELECT SUM(requests) FROM usage_daily"), kTotal);
    QCOMPARE(scalar(*url, "SELECT SUM(prompt_tokens) FROM usage_daily"), prompt);
    QCOMPARE(scalar(*url, "SELECT SUM(completion_tokens) FROM usage_daily"), completion);
    QCOMPARE(scalar(*url, "SELECT SUM(cached_tokens) FROM usage_daily"), cached);
    QCOMPARE(scalar(*url, "SELECT SUM(errors) FROM usage_daily"), errors);
    QCOMPARE(scalar(*url, "SELECT SUM(estimated) FROM usage_daily"), estimated);
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_written_total"), double(kTotal));
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_dropped_total"), 0.0);
    QCOMPARE(gaugeValue(metrics, "gateway_ledger_queue_depth"), 0.0);

    // Batched: a multi-row INSERT per 100 rows plus a multi-row upsert of the batch's (day,
    // user, key, model) sums, and a BEGIN/COMMIT pair per batch of up to 500 rows; not a
    // statement per row.
    qDebug() << "inserts" << counts.inserts << "transaction statements" << counts.others;
    QCOMPARE(counts.failed.load(), 0);
    QVERIFY2(counts.inserts < kTotal / 10, qPrintable(QString::number(counts.inserts)));
    // Per transaction: full INSERTs of 100 rows, at most one shorter one and one upsert.
    QVERIFY2(counts.inserts <= kTotal / 100 + counts.others,
             qPrintable(QString::number(counts.inserts)));
    QVERIFY2(counts.others <= 2 * (kTotal / 50), qPrintable(QString::number(counts.others)));
    QVERIFY(counts.others >= 2 * (kTotal / 500));
}

void TestUsageLedger::destructorFlushes()
{
    const auto url = freshLedger();
    QVERIFY(url);
    {
        MetricsRegistry metrics;
        UsageLedger::Options options = quickOptions();
        options.batchSize = 100'000;  // neither size nor interval would write them
        options.flushIntervalMs = 600'000;
        UsageLedger ledger(*url, options, metrics);
        for (int i = 0; i < 123; ++i)
            ledger.record(makeRecord(i));
        QCOMPARE(ledger.queueDepth(), 123);
        QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 0);
    }
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 123);
    QCOMPARE(scalar(*url, "SELECT SUM(requests) FROM usage_daily"), 123);
}

void TestUsageLedger::flushIntervalWritesWithoutFlush()
{
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    UsageLedger::Options options = quickOptions();
    options.batchSize = 100'000;
    options.flushIntervalMs = 100;
    UsageLedger ledger(*url, options, metrics);
    for (int i = 0; i < 7; ++i)
        ledger.record(makeRecord(i));
    QTRY_COMPARE_WITH_TIMEOUT(scalar(*url, "SELECT COUNT(*) FROM usage"), 7, 5000);
    QTRY_COMPARE(ledger.queueDepth(), 0);
}

void TestUsageLedger::fullQueueDropsAndRecovers()
{
    QFETCH(DatabaseUrl::Driver, driver);
    const auto url = freshLedger();
    QVERIFY(url);
    MetricsRegistry metrics;
    UsageLedger::Options options = quickOptions();
    options.batchSize = 10;
    options.maxQueue = 50;
    options.flushIntervalMs = 100;
    UsageLedger ledger(*url, options, metrics);
    QString error;
    for (int i = 0; i < 5; ++i)
        ledger.record(makeRecord(i));
    QVERIFY2(ledger.flush(&error), qPrintable(error));

    // The database goes away: PostgreSQL's is dropped (ending the writer's session), SQLite's
    // table is renamed away.
    const bool pg = driver == DatabaseUrl::Driver::Postgres;
    if (pg) {
        QVERIFY2(m_pg.back()->drop(&error), qPrintable(error));
    } else {
        DatabaseConnection admin(*url, QStringLiteral("admin"));
        QVERIFY2(admin.open(&error), qPrintable(error));
        QVERIFY2(admin.exec(QStringLiteral("ALTER TABLE usage RENAME TO usage_away"), {}, &error),
                 qPrintable(error));
    }
    for (int i = 0; i < 80; ++i)
        ledger.record(makeRecord(100 + i));
    error.clear();
    QVERIFY(!ledger.flush(&error));
    QVERIFY(!error.isEmpty());
    qDebug().noquote() << "flush while the database is gone:" << error;
    // Bounded: 50 kept for retry, the other 30 dropped and counted.
    QCOMPARE(ledger.queueDepth(), 50);
    QCOMPARE(gaugeValue(metrics, "gateway_ledger_queue_depth"), 50.0);
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_dropped_total"), 30.0);
    QTest::qWait(300);  // a few interval retries fail; nothing changes
    QCOMPARE(ledger.queueDepth(), 50);

    // Back: the kept rows are written by the next attempt.
    if (pg) {
        QVERIFY2(m_pg.back()->create(&error), qPrintable(error));
        QVERIFY2(migrate(*url, &error), qPrintable(error));
    } else {
        DatabaseConnection admin(*url, QStringLiteral("admin"));
        QVERIFY2(admin.open(&error), qPrintable(error));
        QVERIFY2(admin.exec(QStringLiteral("ALTER TABLE usage_away RENAME TO usage"), {}, &error),
                 qPrintable(error));
    }
    QTRY_COMPARE_WITH_TIMEOUT(ledger.queueDepth(), 0, 5000);
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    const qint64 expected = pg ? 50 : 55;  // the dropped PostgreSQL database took the first 5
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), expected);
    QCOMPARE(scalar(*url, "SELECT SUM(requests) FROM usage_daily"), expected);
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_written_total"), 55.0);
    for (int i = 0; i < 3; ++i)
        ledger.record(makeRecord(200 + i));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), expected + 3);
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_dropped_total"), 30.0);
}

void TestUsageLedger::unreachableAtStartRecovers()
{
    // A ledger whose database does not exist yet (PostgreSQL): rows wait, then go in.
    PgTestDatabase pg(m_pgFixture, QStringLiteral("sluice_ledger_late"));
    QString error;
    const auto url = DatabaseUrl::parse(pg.url(), &error);
    QVERIFY2(url, qPrintable(error));
    MetricsRegistry metrics;
    UsageLedger::Options options = quickOptions();
    options.retentionDays = 30;  // the first prune fails too, and must not stop anything
    UsageLedger ledger(*url, options, metrics);
    for (int i = 0; i < 20; ++i)
        ledger.record(makeRecord(i));
    QVERIFY(!ledger.flush(&error));
    QCOMPARE(ledger.queueDepth(), 20);
    QVERIFY2(pg.create(&error), qPrintable(error));
    QVERIFY2(migrate(*url, &error), qPrintable(error));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 20);
    QCOMPARE(counterValue(metrics, "gateway_ledger_rows_dropped_total"), 0.0);
}

void TestUsageLedger::staleConnectionIsReplaced()
{
    // PostgreSQL restarted (here: the writer's session terminated): the next batch goes in on
    // a fresh connection at once, without a failure to report.
    PgTestDatabase pg(m_pgFixture, QStringLiteral("sluice_ledger_stale"));
    QString error;
    QVERIFY2(pg.create(&error), qPrintable(error));
    const auto url = DatabaseUrl::parse(pg.url(), &error);
    QVERIFY2(url, qPrintable(error));
    QVERIFY2(migrate(*url, &error), qPrintable(error));
    MetricsRegistry metrics;
    UsageLedger ledger(*url, quickOptions(), metrics);
    ledger.record(makeRecord(1));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QVERIFY2(pg.exec(QStringLiteral("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> "
                                    "pg_backend_pid()"),
                     &error),
             qPrintable(error));
    QTest::failOnWarning(QRegularExpression(QStringLiteral("cannot write usage rows")));
    for (int i = 0; i < 5; ++i)
        ledger.record(makeRecord(i));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 6);
}

void TestUsageLedger::pruneByRetention()
{
    const auto url = freshLedger();
    QVERIFY(url);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QString error;
    {
        MetricsRegistry metrics;
        UsageLedger ledger(*url, quickOptions(), metrics);  // retention 0: keeps everything
        for (int i = 0; i < 10; ++i)
            ledger.record(makeRecord(i, now.addDays(-100)));
        for (int i = 0; i < 5; ++i)
            ledger.record(makeRecord(i, now.addDays(-10)));
        for (int i = 0; i < 3; ++i)
            ledger.record(makeRecord(i, now));
        QVERIFY2(ledger.flush(&error), qPrintable(error));
    }
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 18);

    MetricsRegistry metrics;
    UsageLedger::Options options = quickOptions();
    options.retentionDays = 30;
    options.pruneIntervalMs = 1000;
    UsageLedger ledger(*url, options, metrics);
    // The writer prunes at start, before it serves the first flush.
    ledger.record(makeRecord(0, now));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 9);
    // The rollup keeps every day.
    QCOMPARE(scalar(*url, "SELECT SUM(requests) FROM usage_daily"), 19);

    // And again after the interval: rows that aged past the retention meanwhile go too.
    for (int i = 0; i < 4; ++i)
        ledger.record(makeRecord(i, now.addDays(-40)));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QVERIFY(scalar(*url, "SELECT COUNT(*) FROM usage") >= 9);
    QTest::qWait(1200);
    ledger.record(makeRecord(1, now));
    QVERIFY2(ledger.flush(&error), qPrintable(error));
    QCOMPARE(scalar(*url, "SELECT COUNT(*) FROM usage"), 10);
    QCOMPARE(scalar(*url, "SELECT SUM(requests) FROM usage_daily"), 24);
}

// ---- querying ----

namespace {

struct Sums
{
    qint64 requests = 0;
    qint64 errors = 0;
    qint64 estimated = 0;
    qint64 prompt = 0;
    qint64 completion = 0;
    qint64 cached = 0;
    qint64 cacheWrite = 0;
    qint64 reasoning = 0;
    double latencyMs = 0;
};

// The aggregate computed from the records themselves.
std::map<QString, Sums> expectedGroups(const QList<UsageRecord> &records, const UsageFilter &f,
                                       UsageGrouping g)
{
    std::map<QString, Sums> out;
    if (g == UsageGrouping::Total)
        out[QString()] = Sums();
    for (const UsageRecord &r : records) {
        if (f.userId && r.userId != *f.userId)
            continue;
        if (f.keyId && r.keyId != *f.keyId)
            continue;
        if (!f.model.isEmpty() && r.model != f.model)
            continue;
        if (f.from.isValid() && r.at < f.from)
            continue;
        if (f.to.isValid() && r.at >= f.to)
            continue;
        QString group;
        switch (g) {
            case UsageGrouping::Total:
                break;
            case UsageGrouping::Day:
                group = r.at.toUTC().date().toString(Qt::ISODate);
                break;
            case UsageGrouping::Model:
                group = r.model;
                break;
            case UsageGrouping::Key:
                group = QString::number(r.keyId);
                break;
            case UsageGrouping::User:
                group = QString::number(r.userId);
                break;
        }
        Sums &s = out[group];
        ++s.requests;
        s.errors += r.status >= 400;
        s.estimated += r.estimated;
        s.prompt += r.promptTokens;
        s.completion += r.completionTokens;
        s.cached += r.cachedTokens;
        s.cacheWrite += r.cacheWriteTokens;
        s.reasoning += r.reasoningTokens;
        s.latencyMs += r.latencySeconds * 1000;
    }
    return out;
}

QString describe(const UsageFilter &f, UsageGrouping g)
{
    return QStringLiteral("group %1 user %2 key %3 model '%4' from %5 to %6")
        .arg(UsageQuery::groupingName(g))
        .arg(f.userId ? QString::number(*f.userId) : QStringLiteral("-"))
        .arg(f.keyId ? QString::number(*f.keyId) : QStringLiteral("-"))
        .arg(f.model, f.from.toString(Qt::ISODateWithMs), f.to.toString(Qt::ISODateWithMs));
}

}  // namespace

void TestUsageLedger::queryAggregates()
{
    const auto url = freshLedger();
    QVERIFY(url);
    // Three days, with rows right at midnight and just before it.
    const QList<QDateTime> times = {
        utc("2025-03-01T00:00:00.000Z"), utc("2025-03-01T09:30:00.000Z"),
        utc("2025-03-01T23:59:59.999Z"), utc("2025-03-02T00:00:00.000Z"),
        utc("2025-03-02T12:00:00.000Z"), utc("2025-03-02T18:45:10.250Z"),
        utc("2025-03-03T06:00:00.000Z"), utc("2025-03-03T23:00:00.000Z"),
    };
    QList<UsageRecord> records;
    for (int i = 0; i < 240; ++i) {
        UsageRecord r = makeRecord(i, times.at(i % times.size()));
        r.latencySeconds = 0.1 + (i % 4) * 0.05;
        records << r;
    }
    {
        MetricsRegistry metrics;
        UsageLedger ledger(*url, quickOptions(), metrics);
        for (const UsageRecord &r : std::as_const(records))
            ledger.record(r);
        QString error;
        QVERIFY2(ledger.flush(&error), qPrintable(error));
    }

    QList<UsageFilter> filters;
    filters << UsageFilter{};
    UsageFilter f;
    f.userId = 2;
    filters << f;
    f = {};
    f.keyId = 13;
    filters << f;
    f = {};
    f.model = QStringLiteral("gpt-4o");
    filters << f;
    f = {};
    f.model = QStringLiteral("no-such-model");
    filters << f;
    // Whole days (the rollup) ...
    f = {};
    f.from = utc("2025-03-02T00:00:00.000Z");
    filters << f;
    f.to = utc("2025-03-03T00:00:00.000Z");
    filters << f;
    f = {};
    f.to = utc("2025-03-02T00:00:00.000Z");
    f.userId = 1;
    filters << f;
    // ... with an offset that still means midnight UTC ...
    f = {};
    f.from = QDateTime(QDate(2025, 3, 2), QTime(2, 0), QTimeZone(7200));
    filters << f;
    // ... and times of day (the raw rows).
    f = {};
    f.from = utc("2025-03-01T09:30:00.000Z");
    f.to = utc("2025-03-02T18:45:10.250Z");
    filters << f;
    f.model = QStringLiteral("claude-sonnet");
    f.keyId = 12;
    filters << f;
    f = {};
    f.from = utc("2025-03-01T23:59:59.999Z");
    filters << f;

    DatabaseConnection conn(*url, QStringLiteral("ledger"));
    QString error;
    QVERIFY2(conn.open(&error), qPrintable(error));
    UsageQuery query(conn);
    const UsageGrouping groupings[] = {UsageGrouping::Total, UsageGrouping::Day,
                                       UsageGrouping::Model, UsageGrouping::Key,
                                       UsageGrouping::User};
    int nonEmpty = 0;
    for (const UsageFilter &filter : std::as_const(filters)) {
        for (UsageGrouping g : groupings) {
            const QByteArray what = describe(filter, g).toUtf8();
            const auto rows = query.aggregate(filter, g, &error);
            QVERIFY2(rows, qPrintable(error));
            const std::map<QString, Sums> expected = expectedGroups(records, filter, g);
            QVERIFY2(qsizetype(expected.size()) == rows->size(), what.constData());
            auto it = expected.begin();
            for (const UsageRow &row : *rows) {
                QString group = row.group.toString();
                if (g == UsageGrouping::Key || g == UsageGrouping::User)
                    group = QString::number(row.group.toLongLong());
                // Ids sort numerically in SQL, as text here; all ids here have the same width.
                QVERIFY2(it != expected.end() && it->first == group, what.constData());
                const Sums &s = it->second;
                QVERIFY2(row.requests == s.requests, what.constData());
                QVERIFY2(row.errors == s.errors, what.constData());
                QVERIFY2(row.estimated == s.estimated, what.constData());
                QVERIFY2(row.promptTokens == s.prompt, what.constData());
                QVERIFY2(row.completionTokens == s.completion, what.constData());
                QVERIFY2(row.cachedTokens == s.cached, what.constData());
                QVERIFY2(row.cacheWriteTokens == s.cacheWrite, what.constData());
                QVERIFY2(row.reasoningTokens == s.reasoning, what.constData());
                QVERIFY2(qAbs(row.latencyMsSum - s.latencyMs) < 1e-6, what.constData());
                nonEmpty += row.requests > 0;
                ++it;
            }
        }
    }
    QVERIFY(nonEmpty > 30);

    // Spot checks of the shapes.
    auto total = query.aggregate({}, UsageGrouping::Total, &error);
    QVERIFY2(total, qPrintable(error));
    QCOMPARE(total->size(), 1);
    QCOMPARE(total->first().requests, 240);
    QVERIFY(!total->first().group.isValid());
    auto days = query.aggregate({}, UsageGrouping::Day, &error);
    QVERIFY2(days, qPrintable(error));
    QCOMPARE(days->size(), 3);
    QCOMPARE(days->at(0).group.toString(), "2025-03-01");
    QCOMPARE(days->at(2).group.toString(), "2025-03-03");
    UsageFilter none;
    none.from = utc("2030-01-01T00:00:00.000Z");
    auto empty = query.aggregate(none, UsageGrouping::Model, &error);
    QVERIFY2(empty, qPrintable(error));
    QVERIFY(empty->isEmpty());
    auto zero = query.aggregate(none, UsageGrouping::Total, &error);
    QVERIFY2(zero, qPrintable(error));
    QCOMPARE(zero->size(), 1);
    QCOMPARE(zero->first().requests, 0);
    QCOMPARE(zero->first().averageLatencyMs(), 0.0);

    // JSON shape shared by the admin API and the CLI.
    const QJsonObject answer =
        UsageJson::answer(QJsonArray{UsageJson::toJson(days->first())}, none, UsageGrouping::Day);
    QCOMPARE(answer.value("group_by").toString(), "day");
    QCOMPARE(answer.value("from").toString(), "2030-01-01T00:00:00.000Z");
    QVERIFY(answer.value("to").isNull());
    const QJsonObject row = answer.value("data").toArray().first().toObject();
    QCOMPARE(row.value("group").toString(), "2025-03-01");
    QCOMPARE(row.value("requests").toInteger(), days->first().requests);
    QCOMPARE(row.value("total_tokens").toInteger(),
             days->first().promptTokens + days->first().completionTokens);
    for (const char *member :
         {"failed_requests", "estimated_requests", "prompt_tokens", "completion_tokens",
          "cached_tokens", "cache_write_tokens", "reasoning_tokens", "avg_latency_ms"})
        QVERIFY2(row.contains(QLatin1String(member)), member);
    const QJsonObject keyRow = UsageJson::toJson(query.aggregate({}, UsageGrouping::Key)->first());
    QCOMPARE(keyRow.value("group").toInteger(), 10);
}

void TestUsageLedger::queryHelpers()
{
    QCOMPARE(UsageQuery::groupingFromText(""), UsageGrouping::Total);
    QCOMPARE(UsageQuery::groupingFromText("day"), UsageGrouping::Day);
    QCOMPARE(UsageQuery::groupingFromText("Model"), UsageGrouping::Model);
    QCOMPARE(UsageQuery::groupingFromText("key"), UsageGrouping::Key);
    QCOMPARE(UsageQuery::groupingFromText("user"), UsageGrouping::User);
    QVERIFY(!UsageQuery::groupingFromText("week"));
    for (UsageGrouping g : {UsageGrouping::Total, UsageGrouping::Day, UsageGrouping::Model,
                            UsageGrouping::Key, UsageGrouping::User})
        QCOMPARE(UsageQuery::groupingFromText(UsageQuery::groupingName(g)), g);

    UsageFilter f;
    QVERIFY(UsageQuery::isDayGranular(f));
    f.from = utc("2025-03-02T00:00:00.000Z");
    QVERIFY(UsageQuery::isDayGranular(f));
    f.to = utc("2025-03-02T00:00:00.001Z");
    QVERIFY(!UsageQuery::isDayGranular(f));
    f.to = QDateTime(QDate(2025, 3, 3), QTime(1, 0), QTimeZone(3600));  // midnight UTC
    QVERIFY(UsageQuery::isDayGranular(f));
    f.from = QDateTime(QDate(2025, 3, 3), QTime(0, 0), QTimeZone(3600));  // 23:00 UTC
    QVERIFY(!UsageQuery::isDayGranular(f));
}

QTEST_GUILESS_MAIN(TestUsageLedger)
#include "tst_usageledger.moc"
