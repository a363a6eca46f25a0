// Integration tests of the usage reports: rows written by a UsageLedger in this process into the
// database the real sluice binary reads, then `sluice usage` and GET /admin/v1/usage asked the
// same questions, on SQLite and PostgreSQL; the answers must be the expected sums and the same
// in both. Also the CLI on a ledger in a database of its own (--ledger-db), and its usage errors.

#include "DatabaseConnection.h"
#include "GatewayProcess.h"
#include "MetricsRegistry.h"
#include "Migrator.h"
#include "PgTestDatabase.h"
#include "ProcessRun.h"
#include "Schema.h"
#include "TestFixtures.h"
#include "UsageLedger.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QUrlQuery>
#include <QtTest>
#include <memory>

using namespace sluice;
using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;
const QByteArray kToken = QByteArrayLiteral("usage-test-token-0123456789abcdef");

struct CliResult : ProcessRun
{
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
    QByteArray describe() const
    {
        return "sluice " + args.join(u' ').toUtf8() + "\n  exit " + QByteArray::number(code) +
               "\n  stdout: " + out + "\n  stderr: " + err;
    }
};

QDateTime utc(const QString &text)
{
    return QDateTime::fromString(text, Qt::ISODateWithMs).toUTC();
}

// One question, asked of the CLI and of the admin API.
struct Question
{
    const char *name;
    QList<QPair<QString, QString>> params;  // admin API parameter names
};

}  // namespace

class TestUsage : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void cliAndAdminApiAgree_data();
    void cliAndAdminApiAgree();
    void separateLedgerDatabase();
    void cliUsageErrors_data();
    void cliUsageErrors();

private:
    bool useBackend(const QString &backend);
    QProcessEnvironment environment() const;
    CliResult cli(QStringList args) const;
    // Creates alice and bob with a key each; false (test failed) when the CLI fails.
    bool createPrincipals();
    bool writeRows(const DatabaseUrl &ledger);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
    QString m_db;
    QString m_ledgerDb;  // empty: the ledger is in m_db
    qint64 m_aliceKey = 0;
    qint64 m_bobKey = 0;
    QString m_alicePrefix;
    QString m_bobPrefix;
    qint64 m_aliceId = 0;
    qint64 m_bobId = 0;
    // The days of the rows: the day before yesterday and yesterday (UTC), well within the
    // retention of the gateway that reads them (it prunes raw rows at start).
    QString m_day1;
    QString m_day2;
    QString m_day3;  // today
};

void TestUsage::initTestCase()
{
    QVERIFY2(QFileInfo(kBinary).isExecutable(), qPrintable(kBinary + " is not executable"));
}

void TestUsage::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_db = QStringLiteral("sqlite://") + m_dir->filePath(QStringLiteral("sluice.db"));
    m_ledgerDb.clear();
    const QDate today = QDateTime::currentDateTimeUtc().date();
    m_day1 = today.addDays(-2).toString(Qt::ISODate);
    m_day2 = today.addDays(-1).toString(Qt::ISODate);
    m_day3 = today.toString(Qt::ISODate);
}

void TestUsage::cleanup()
{
    m_pg.reset();
    m_dir.reset();
}

bool TestUsage::useBackend(const QString &backend)
{
    if (backend == QLatin1String("sqlite"))
        return true;
    m_pg = PgTestDatabase::createForTest(QStringLiteral("sluice_usage"));
    if (!m_pg)
        return false;
    m_db = m_pg->url();
    return true;
}

QProcessEnvironment TestUsage::environment() const
{
    QProcessEnvironment env = GatewayProcess::cleanEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir->path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir->path() + QStringLiteral("/xdg"));
    env.insert(QStringLiteral("USER"), QStringLiteral("tester"));
    env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(kToken));
    return env;
}

CliResult TestUsage::cli(QStringList args) const
{
    args << QStringLiteral("--db") << m_db;
    if (!m_ledgerDb.isEmpty())
        args << QStringLiteral("--ledger-db") << m_ledgerDb;
    return {runProcess(kBinary, args, environment(), m_dir->path(), 30000)};
}

bool TestUsage::createPrincipals()
{
    for (const char *name : {"alice", "bob"}) {
        const CliResult r = cli({QStringLiteral("keys"), QStringLiteral("create"),
                                 QStringLiteral("--user"), QString::fromLatin1(name),
                                 QStringLiteral("--create-user"), QStringLiteral("--json")});
        if (!r.ok()) {
            QTest::qFail(r.describe().constData(), __FILE__, __LINE__);
            return false;
        }
        const QJsonObject key = r.json();
        const bool alice = qstrcmp(name, "alice") == 0;
        (alice ? m_aliceKey : m_bobKey) = key.value("id").toInteger();
        (alice ? m_alicePrefix : m_bobPrefix) = key.value("prefix").toString();
        (alice ? m_aliceId : m_bobId) = key.value("user_id").toInteger();
    }
    if (m_aliceKey <= 0 || m_bobKey <= 0 || m_alicePrefix.isEmpty() || m_aliceId <= 0) {
        QTest::qFail("keys create --json did not give ids and prefixes", __FILE__, __LINE__);
        return false;
    }
    return true;
}

bool TestUsage::writeRows(const DatabaseUrl &ledgerUrl)
{
    QString why;
    {
        DatabaseConnection conn(ledgerUrl, QStringLiteral("ledger"));
        if (!conn.open(&why) ||
            !Migrator::migrate(conn, Schema::ledgerComponent(), Schema::ledgerMigrations(), &why)) {
            QTest::qFail(qPrintable(why), __FILE__, __LINE__);
            return false;
        }
    }
    MetricsRegistry metrics;
    UsageLedger ledger(ledgerUrl, UsageLedger::Options{}, metrics);
    auto add = [&](int count, const QString &at, qint64 user, qint64 key, const char *model,
                   int status, qint64 prompt, qint64 completion, bool estimated = false) {
        for (int i = 0; i < count; ++i) {
            UsageRecord r;
            r.at = utc(at);
            r.requestId = "req";
            r.userId = user;
            r.keyId = key;
            r.model = QString::fromLatin1(model);
            r.route = "/v1/chat/completions";
            r.upstream = QStringLiteral("openai");
            r.status = status;
            r.promptTokens = prompt;
            r.completionTokens = completion;
            r.estimated = estimated;
            r.latencySeconds = 0.5;
            ledger.record(r);
        }
    };
    // alice: 6 gpt-4o on day 1 (half in the morning), 2 refused (429) and 3 estimated claude on
    // day 2; bob: 4 claude on day 1, one client abort at the very end of day 2.
    const QString d1 = m_day1 + u'T';
    const QString d2 = m_day2 + u'T';
    add(3, d1 + "09:00:00.000Z", m_aliceId, m_aliceKey, "gpt-4o", 200, 100, 20);
    add(3, d1 + "15:00:00.000Z", m_aliceId, m_aliceKey, "gpt-4o", 200, 100, 20);
    add(2, d2 + "10:00:00.000Z", m_aliceId, m_aliceKey, "gpt-4o", 429, 0, 0);
    add(3, d2 + "11:00:00.000Z", m_aliceId, m_aliceKey, "claude-x", 200, 50, 10, true);
    add(4, d1 + "20:00:00.000Z", m_bobId, m_bobKey, "claude-x", 200, 30, 30);
    add(1, d2 + "23:59:59.999Z", m_bobId, m_bobKey, "claude-x", 499, 30, 0);
    if (!ledger.flush(&why)) {
        QTest::qFail(qPrintable(why), __FILE__, __LINE__);
        return false;
    }
    return true;
}

void TestUsage::cliAndAdminApiAgree_data()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

void TestUsage::cliAndAdminApiAgree()
{
    QFETCH(QString, backend);
    if (!useBackend(backend))
        return;
    if (!createPrincipals())
        return;
    QString why;
    const auto url = DatabaseUrl::parse(m_db, &why);
    QVERIFY2(url, qPrintable(why));
    if (!writeRows(*url))
        return;

    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    static const QRegularExpression adminLine(
        QStringLiteral(R"(admin API listening on 127\.0\.0\.1:(\d+))"));
    QVERIFY2(gw.start({"--headless", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                       "--data-dir", m_dir->filePath("data"), "--workers", "1", "--db", m_db}),
             gw.why().constData());
    QVERIFY2(
        gw.waitForLog(adminLine, kStartTimeoutMs) && gw.waitForStartupComplete(kStartTimeoutMs),
        gw.why().constData());
    const quint16 adminPort = quint16(adminLine.match(gw.log()).captured(1).toUInt());
    QVERIFY(adminPort != 0);

    const QList<Question> questions = {
        {"total", {}},
        {"by day", {{"group_by", "day"}}},
        {"alice by model", {{"user", "alice"}, {"group_by", "model"}}},
        {"alice by id", {{"user", QString::number(m_aliceId)}}},
        {"bob's key by day", {{"key", m_bobPrefix}, {"group_by", "day"}}},
        {"by key", {{"group_by", "key"}}},
        {"by user", {{"group_by", "user"}}},
        {"day 2 by model", {{"from", m_day2}, {"to", m_day3}, {"group_by", "model"}}},
        {"afternoon of day 1 on (raw rows)", {{"from", m_day1 + "T12:00:00Z"}}},
        {"claude by user", {{"model", "claude-x"}, {"group_by", "user"}}},
        {"nothing in 2030", {{"from", "2030-01-01"}, {"group_by", "key"}}},
    };
    const QHash<QString, QString> flags = {{"user", "--user"},   {"key", "--key"},
                                           {"model", "--model"}, {"from", "--since"},
                                           {"to", "--until"},    {"group_by", "--by"}};
    QHash<QString, QJsonObject> answers;
    for (const Question &q : questions) {
        QStringList args = {QStringLiteral("usage"), QStringLiteral("--json")};
        QUrlQuery query;
        for (const auto &[name, value] : q.params) {
            args << flags.value(name) << value;
            query.addQueryItem(name, value);
        }
        const CliResult r = cli(args);
        QVERIFY2(r.ok(), r.describe().constData());
        const QByteArray target =
            "/admin/v1/usage" +
            (q.params.isEmpty() ? QByteArray() : "?" + query.toString(QUrl::FullyEncoded).toUtf8());
        const HttpReply reply =
            httpGet(adminPort, target, {{"Authorization", "Bearer " + kToken}}, 10000);
        QVERIFY2(reply.status == 200, reply.describe().constData());
        QVERIFY2(
            reply.json() == r.json(),
            (QByteArray(q.name) + "\n  admin: " + reply.body + "\n  cli: " + r.out).constData());
        answers.insert(QString::fromLatin1(q.name), r.json());
    }
    gw.terminate();
    QVERIFY(gw.waitForExit(10000));

    auto rows = [&](const char *name) { return answers.value(name).value("data").toArray(); };
    auto row = [&](const char *name, int i) { return rows(name).at(i).toObject(); };
    auto n = [](const QJsonObject &o, const char *member) { return o.value(member).toInteger(); };

    const QJsonObject total = row("total", 0);
    QVERIFY(total.value("group").isNull());
    QCOMPARE(n(total, "requests"), 16);
    QCOMPARE(n(total, "failed_requests"), 3);
    QCOMPARE(n(total, "estimated_requests"), 3);
    QCOMPARE(n(total, "prompt_tokens"), 6 * 100 + 3 * 50 + 5 * 30);
    QCOMPARE(n(total, "completion_tokens"), 6 * 20 + 3 * 10 + 4 * 30);
    QCOMPARE(n(total, "total_tokens"), 900 + 270);
    QCOMPARE(total.value("avg_latency_ms").toDouble(), 500.0);
    QCOMPARE(answers.value("total").value("group_by").toString(), "total");

    QCOMPARE(rows("by day").size(), 2);
    QCOMPARE(row("by day", 0).value("group").toString(), m_day1);
    QCOMPARE(n(row("by day", 0), "requests"), 10);
    QCOMPARE(n(row("by day", 1), "requests"), 6);

    QCOMPARE(rows("alice by model").size(), 2);
    QCOMPARE(row("alice by model", 0).value("group").toString(), "claude-x");
    QCOMPARE(n(row("alice by model", 0), "estimated_requests"), 3);
    QCOMPARE(row("alice by model", 1).value("group").toString(), "gpt-4o");
    QCOMPARE(n(row("alice by model", 1), "requests"), 8);
    QCOMPARE(n(row("alice by model", 1), "failed_requests"), 2);
    QCOMPARE(n(row("alice by id", 0), "requests"), 11);

    QCOMPARE(rows("bob's key by day").size(), 2);
    QCOMPARE(n(row("bob's key by day", 1), "failed_requests"), 1);

    QCOMPARE(rows("by key").size(), 2);
    QCOMPARE(n(row("by key", 0), "group"), m_aliceKey);
    QCOMPARE(row("by key", 0).value("prefix").toString(), m_alicePrefix);
    QCOMPARE(row("by key", 0).value("user").toString(), "alice");
    QCOMPARE(row("by key", 1).value("prefix").toString(), m_bobPrefix);
    QCOMPARE(row("by user", 1).value("user").toString(), "bob");
    QCOMPARE(n(row("by user", 1), "requests"), 5);

    QCOMPARE(rows("day 2 by model").size(), 2);
    QCOMPARE(n(row("day 2 by model", 0), "requests"), 4);  // claude-x: 3 + bob's abort
    QCOMPARE(answers.value("day 2 by model").value("to").toString(), m_day3 + "T00:00:00.000Z");
    QCOMPARE(n(row("afternoon of day 1 on (raw rows)", 0), "requests"), 3 + 2 + 3 + 4 + 1);
    QCOMPARE(rows("claude by user").size(), 2);
    QCOMPARE(n(row("claude by user", 0), "requests"), 3);
    QVERIFY(rows("nothing in 2030").isEmpty());

    // The text table: a heading and one row per model.
    const CliResult text = cli({"usage", "--user", "alice", "--by", "model"});
    QVERIFY2(text.ok(), text.describe().constData());
    const QList<QByteArray> lines = text.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines.at(0).startsWith("MODEL") && lines.at(0).contains("REQUESTS"),
             text.describe().constData());
    QCOMPARE(lines.at(2).simplified().split(' ').mid(0, 7),
             QList<QByteArray>({"gpt-4o", "8", "2", "0", "600", "120", "720"}));
    QVERIFY2(text.err.isEmpty(), text.describe().constData());
}

void TestUsage::separateLedgerDatabase()
{
    // Names from the identity database, numbers from the ledger's own (SQLite files).
    m_ledgerDb = QStringLiteral("sqlite://") + m_dir->filePath(QStringLiteral("ledger.db"));
    if (!createPrincipals())
        return;
    QString why;
    const auto url = DatabaseUrl::parse(m_ledgerDb, &why);
    QVERIFY2(url, qPrintable(why));
    if (!writeRows(*url))
        return;
    const CliResult r = cli({"usage", "--by", "key", "--json"});
    QVERIFY2(r.ok(), r.describe().constData());
    const QJsonArray data = r.json().value("data").toArray();
    QCOMPARE(data.size(), 2);
    QCOMPARE(data.at(0).toObject().value("user").toString(), "alice");
    QCOMPARE(data.at(1).toObject().value("prefix").toString(), m_bobPrefix);
    QCOMPARE(data.at(1).toObject().value("requests").toInteger(), 5);
    const CliResult bob = cli({"usage", "--user", "bob"});
    QVERIFY2(bob.ok(), bob.describe().constData());
    QCOMPARE(bob.out.trimmed().split('\n').at(1).simplified().split(' ').first(), "5");
    // The identity database has no usage at all.
    m_ledgerDb.clear();
    const CliResult none = cli({"usage", "--json"});
    QVERIFY2(none.ok(), none.describe().constData());
    QCOMPARE(none.json().value("data").toArray().at(0).toObject().value("requests").toInteger(), 0);
}

void TestUsage::cliUsageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("bad --by") << QStringList{"usage", "--by", "week"} << 2
                              << "invalid value \"week\" for --by";
    QTest::newRow("empty --by") << QStringList{"usage", "--by", ""} << 2 << "for --by";
    QTest::newRow("bad --since") << QStringList{"usage", "--since", "yesterday"} << 2
                                 << "invalid value \"yesterday\" for --since";
    QTest::newRow("until before since")
        << QStringList{"usage", "--since", "2026-02-01", "--until", "2026-01-01"} << 2
        << "must be after --since";
    QTest::newRow("unknown user") << QStringList{"usage", "--user", "nobody"} << 2
                                  << "user \"nobody\" does not exist";
    QTest::newRow("unknown key") << QStringList{"usage", "--key", "999"} << 2 << "key";
    QTest::newRow("unknown option")
        << QStringList{"usage", "--week"} << 2 << "unknown option --week";
    QTest::newRow("positional") << QStringList{"usage", "alice"} << 2 << "unexpected argument";
}

void TestUsage::cliUsageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    const CliResult r = cli(args);
    QVERIFY2(r.finished && r.code == code, r.describe().constData());
    QVERIFY2(r.out.isEmpty(), r.describe().constData());
    QVERIFY2(r.err.startsWith("sluice: ") && r.err.trimmed().split('\n').size() == 1,
             r.describe().constData());
    QVERIFY2(r.err.contains(message.toUtf8()), r.describe().constData());

    const CliResult help = cli({"usage", "--help"});
    QVERIFY2(help.ok() && help.out.contains("Usage: sluice usage"), help.describe().constData());
}

QTEST_GUILESS_MAIN(TestUsage)
#include "tst_usage.moc"
