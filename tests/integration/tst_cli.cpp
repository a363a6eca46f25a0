// Integration tests of the command line: the real sluice binary run as `sluice users|keys|tiers`
// against SQLite and PostgreSQL, checked through its exit codes, its stdout/stderr split, its
// JSON, the database itself (no plaintext key at rest) and a gateway running alongside.

#include "GatewayProcess.h"
#include "PgTestDatabase.h"
#include "ProcessRun.h"
#include "TestFixtures.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>
#include <memory>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kCommandTimeoutMs = 30000;
constexpr int kStartTimeoutMs = 15000;
const QRegularExpression kKeyLine(QStringLiteral("^sk-sluice-[0-9A-Za-z]{32,}$"));

// ---- one run of the binary -----------------------------------------------------------------

struct CliResult : ProcessRun
{
    // stdout's lines without the empty one after the final newline.
    QList<QByteArray> outLines() const
    {
        QList<QByteArray> lines = out.split('\n');
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast();
        return lines;
    }
    QList<QByteArray> errLines() const
    {
        QList<QByteArray> lines = err.split('\n');
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast();
        return lines;
    }
    QJsonValue json() const
    {
        const QJsonDocument doc = QJsonDocument::fromJson(out);
        if (doc.isArray())
            return doc.array();
        if (doc.isObject())
            return doc.object();
        return {};
    }
    QByteArray describe() const
    {
        return "sluice " + args.join(u' ').toUtf8() + "\n  exit " + QByteArray::number(code) +
               (finished ? "" : " (did not finish)") + "\n  stdout: " + out + "\n  stderr: " + err;
    }
};

// Exit 0.
#define CLI_OK(result) QVERIFY2((result).ok(), (result).describe().constData())

// Exit `expected` with nothing on stdout and exactly one "sluice: " line on stderr.
#define CLI_FAILS(result, expected)                                               \
    do {                                                                          \
        const CliResult &r_ = (result);                                           \
        QVERIFY2(r_.finished &&r_.code == (expected), r_.describe().constData()); \
        QVERIFY2(r_.out.isEmpty(), r_.describe().constData());                    \
        QVERIFY2(r_.errLines().size() == 1 && r_.err.startsWith("sluice: "),      \
                 r_.describe().constData());                                      \
    } while (false)

// ---- reading the databases ----------------------------------------------------------------

// Rows of `sql` on an SQLite file, with a connection of the test's own.
std::optional<QStringList> sqliteRows(const QString &path, const QString &sql, QString *error)
{
    static int counter = 0;
    const QString name = QStringLiteral("tst_cli_sqlite_%1").arg(++counter);
    std::optional<QStringList> out;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        if (!db.open()) {
            *error = db.lastError().text();
        } else {
            QSqlQuery q(db);
            if (!q.exec(sql)) {
                *error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
            } else {
                out = QStringList();
                while (q.next()) {
                    QStringList cells;
                    for (int i = 0; i < q.record().count(); ++i)
                        cells << q.value(i).toString();
                    *out << cells.join(u'\t');
                }
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return out;
}

QJsonObject findByName(const QJsonArray &array, const QString &name)
{
    for (const QJsonValue &v : array) {
        if (v.toObject().value(QStringLiteral("name")).toString() == name)
            return v.toObject();
    }
    return {};
}

// The table row (a stdout line) whose cells include `cell`.
QByteArray rowWith(const CliResult &r, const QByteArray &cell)
{
    for (const QByteArray &line : r.outLines()) {
        if (line.simplified().split(' ').contains(cell))
            return line;
    }
    return {};
}

}  // namespace

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void help_data();
    void help();
    void usageErrorsExit2_data();
    void usageErrorsExit2();
    void databaseUnreachableExit1_data();
    void databaseUnreachableExit1();

    void defaultTiers_data() { backends(); }
    void defaultTiers();
    void users_data() { backends(); }
    void users();
    void keysCreate_data() { backends(); }
    void keysCreate();
    void keysCreateRefused_data() { backends(); }
    void keysCreateRefused();
    void keysListAndRevoke_data() { backends(); }
    void keysListAndRevoke();
    void tiers_data() { backends(); }
    void tiers();
    void shadowAndModelLimits_data() { backends(); }
    void shadowAndModelLimits();
    void dbFlagAnywhereAndEnvironment();
    void auditActor_data() { backends(); }
    void auditActor();
    void plaintextNeverAtRest_data() { backends(); }
    void plaintextNeverAtRest();

    void yardstickInvocations();
    void editsWhileGatewayRuns_data() { backends(); }
    void editsWhileGatewayRuns();

private:
    static void backends();
    // Points m_db at a fresh database of the row's backend; false (test failed) when it cannot.
    bool useBackend(const QString &backend);
    QProcessEnvironment environment() const;
    // Runs sluice with `args` followed by --db <m_db> (unless withDb is false).
    CliResult cli(const QStringList &args, bool withDb = true) const;
    // keys create ... and returns the key (the last stdout line), empty on failure.
    QString createKey(const QStringList &args);
    QString sqlitePath() const { return m_dir->path() + QStringLiteral("/identity.db"); }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
    QString m_backend;
    QString m_db;
};

#define USE_BACKEND()             \
    do {                          \
        QFETCH(QString, backend); \
        if (!useBackend(backend)) \
            return;               \
    } while (false)

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(kBinary).isExecutable(), qPrintable(kBinary + " is not executable"));
    QVERIFY2(QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")),
             "the QPSQL driver is missing (libqt6sql6-psql)");
}

void TestCli::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_backend = QStringLiteral("sqlite");
    m_db = QStringLiteral("sqlite://") + sqlitePath();
}

void TestCli::cleanup()
{
    m_pg.reset();
    m_dir.reset();
}

void TestCli::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

bool TestCli::useBackend(const QString &backend)
{
    m_backend = backend;
    if (backend == QLatin1String("sqlite"))
        return true;
    m_pg = PgTestDatabase::createForTest(QStringLiteral("sluice_cli"));
    if (!m_pg)
        return false;
    m_db = m_pg->url();
    return true;
}

QProcessEnvironment TestCli::environment() const
{
    // Nothing of the user's home may be read or written: the default data dir lives under it.
    QProcessEnvironment env = GatewayProcess::cleanEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir->path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir->path() + QStringLiteral("/xdg"));
    env.insert(QStringLiteral("USER"), QStringLiteral("tester"));
    return env;
}

CliResult TestCli::cli(const QStringList &args, bool withDb) const
{
    QStringList all = args;
    if (withDb)
        all << QStringLiteral("--db") << m_db;
    return {runProcess(kBinary, all, environment(), m_dir->path(), kCommandTimeoutMs)};
}

QString TestCli::createKey(const QStringList &args)
{
    const CliResult r = cli(QStringList{QStringLiteral("keys"), QStringLiteral("create")} + args);
    if (!r.ok() || r.outLines().isEmpty()) {
        qWarning().noquote() << r.describe();
        return {};
    }
    return QString::fromUtf8(r.outLines().last());
}

// ---- help and usage ------------------------------------------------------------------------

void TestCli::help_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("sluice --help") << QStringList{"--help"} << "keys create|list|revoke";
    QTest::newRow("help") << QStringList{"help"} << "users add|list|disable|enable|set";
    QTest::newRow("users --help") << QStringList{"users", "--help"} << "Usage: sluice users";
    QTest::newRow("users help") << QStringList{"users", "help"} << "Usage: sluice users";
    QTest::newRow("users add --help")
        << QStringList{"users", "add", "--help"} << "Usage: sluice users add NAME";
    QTest::newRow("users set -h") << QStringList{"users", "set", "-h"} << "--monthly-tokens N";
    QTest::newRow("keys create -h concurrent")
        << QStringList{"keys", "create", "-h"} << "--concurrent-requests N";
    QTest::newRow("users list --help") << QStringList{"users", "list", "--help"} << "--status";
    QTest::newRow("users disable --help")
        << QStringList{"users", "disable", "--help"} << "Usage: sluice users disable NAME";
    QTest::newRow("keys --help") << QStringList{"keys", "--help"} << "revoke    revoke a key";
    QTest::newRow("keys create --help")
        << QStringList{"keys", "create", "--help"} << "--expires DATE";
    QTest::newRow("keys list --help") << QStringList{"keys", "list", "--help"} << "--user NAME";
    QTest::newRow("keys revoke --help")
        << QStringList{"keys", "revoke", "--help"} << "Usage: sluice keys revoke";
    QTest::newRow("tiers --help") << QStringList{"tiers", "--help"} << "Usage: sluice tiers";
    QTest::newRow("tiers set --help")
        << QStringList{"tiers", "set", "--help"} << "\"inherit\" = clear the override";
    QTest::newRow("tiers list --help") << QStringList{"tiers", "list", "--help"} << "--json";
    QTest::newRow("tiers set --help models")
        << QStringList{"tiers", "set", "--help"} << "--remove-model M";
    QTest::newRow("keys set --help") << QStringList{"keys", "set", "--help"} << "--inherit-shadow";
    QTest::newRow("help after other flags")
        << QStringList{"keys", "create", "--user", "x", "--help"} << "--create-user";
}

void TestCli::help()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const CliResult r = cli(args, false);
    CLI_OK(r);
    QVERIFY2(r.out.contains(expected.toUtf8()), r.describe().constData());
    QVERIFY2(r.err.isEmpty(), r.describe().constData());
    // Help never touches a database, not even the default one in the data dir.
    QVERIFY(!QFileInfo::exists(m_dir->path() + QStringLiteral("/xdg/sluice/sluice.db")));
}

void TestCli::usageErrorsExit2_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");  // a part of the one stderr line
    QTest::newRow("unknown command")
        << QStringList{"frobnicate"} << "unknown command \"frobnicate\"";
    QTest::newRow("group alone") << QStringList{"users"} << "missing command after \"users\"";
    QTest::newRow("unknown subcommand")
        << QStringList{"keys", "delete", "1"} << "unknown command \"keys delete\"";
    QTest::newRow("two shadow flags")
        << QStringList{"tiers", "set", "free", "--shadow", "--no-shadow"} << "give only one of";
    QTest::newRow("inherit-shadow on a tier")
        << QStringList{"tiers", "set", "free", "--inherit-shadow"}
        << "unknown option --inherit-shadow";
    QTest::newRow("empty --model") << QStringList{"tiers", "set", "free", "--model", " "}
                                   << "--model needs a model name or glob";
    QTest::newRow("keys set nothing") << QStringList{"keys", "set", "1"} << "nothing to change";
    QTest::newRow("unknown flag") << QStringList{"users", "list", "--bogus"}
                                  << "unknown option --bogus";
    QTest::newRow("flag of another command")
        << QStringList{"tiers", "set", "free", "--tier", "pro"} << "unknown option --tier";
    QTest::newRow("missing name") << QStringList{"users", "add"} << "missing argument";
    QTest::newRow("extra word") << QStringList{"users", "add", "a", "b"}
                                << "unexpected argument \"b\"";
    QTest::newRow("missing value")
        << QStringList{"keys", "create", "--user"} << "--user needs a value";
    QTest::newRow("no --user") << QStringList{"keys", "create", "--name", "x"}
                               << "--user NAME is required";
    QTest::newRow("flag twice") << QStringList{"users", "set", "a", "--rps", "1", "--rps", "2"}
                                << "--rps given twice";
    QTest::newRow("value for a switch")
        << QStringList{"keys", "list", "--json=yes"} << "--json takes no value";
    QTest::newRow("rps not a number") << QStringList{"tiers", "set", "free", "--rps", "fast"}
                                      << "invalid value \"fast\" for --rps";
    QTest::newRow("negative rps") << QStringList{"tiers", "set", "free", "--rps", "-1"}
                                  << "invalid value \"-1\" for --rps";
    QTest::newRow("fractional burst") << QStringList{"users", "set", "a", "--burst", "1.5"}
                                      << "invalid value \"1.5\" for --burst";
    QTest::newRow("rpm inf") << QStringList{"users", "add", "a", "--rpm=inf"}
                             << "invalid value \"inf\" for --rpm";
    QTest::newRow("fractional concurrent")
        << QStringList{"tiers", "set", "free", "--concurrent-requests", "1.5"}
        << "invalid value \"1.5\" for --concurrent-requests";
    QTest::newRow("negative concurrent")
        << QStringList{"keys", "create", "--user", "a", "--concurrent-requests=-2"}
        << "invalid value \"-2\" for --concurrent-requests";
    QTest::newRow("nothing to set") << QStringList{"users", "set", "a"} << "nothing to change";
    QTest::newRow("bad expiry") << QStringList{"keys", "create",    "--user",
                                               "a",    "--expires", "next week"}
                                << "invalid value \"next week\" for --expires";
    QTest::newRow("expiry in the past")
        << QStringList{"keys", "create", "--user", "a", "--expires", "2001-01-01"}
        << "is in the past";
    QTest::newRow("revoke without id") << QStringList{"keys", "revoke"} << "missing argument";
}

void TestCli::usageErrorsExit2()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const CliResult r = cli(args);
    CLI_FAILS(r, 2);
    QVERIFY2(r.err.contains(message.toUtf8()), r.describe().constData());
    // Refused before the database is opened: a typo never creates a database.
    QVERIFY2(!QFileInfo::exists(sqlitePath()), "the database was created");
}

void TestCli::databaseUnreachableExit1_data()
{
    QTest::addColumn<QStringList>("args");
    const QStringList pg = {"--db", "postgres://u:secretpw@127.0.0.1:1/x"};
    QTest::newRow("postgres users list") << QStringList{"users", "list"} + pg;
    QTest::newRow("postgres keys create")
        << QStringList{"keys", "create", "--user", "a", "--create-user"} + pg;
    QTest::newRow("postgres tiers set") << QStringList{"tiers", "set", "x", "--rps", "1"} + pg;
    QTest::newRow("sqlite under a file")
        << QStringList{"keys", "list", "--db", "sqlite://@DIR@/afile/sub/x.db"};
}

void TestCli::databaseUnreachableExit1()
{
    QFETCH(QStringList, args);
    QFile blocker(m_dir->path() + QStringLiteral("/afile"));  // a file where a directory is needed
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    for (QString &a : args)
        a.replace(QLatin1String("@DIR@"), m_dir->path());
    const CliResult r = cli(args, false);
    CLI_FAILS(r, 1);
    QVERIFY2(!r.err.contains("secretpw"), r.describe().constData());
}

// ---- the commands --------------------------------------------------------------------------

void TestCli::defaultTiers()
{
    USE_BACKEND();
    const CliResult r = cli({"tiers", "list", "--json"});
    CLI_OK(r);
    const QJsonArray tiers = r.json().toArray();
    for (const char *name : {"free", "pro", "enterprise", "partner", "anonymous"})
        QVERIFY2(!findByName(tiers, QLatin1String(name)).isEmpty(), name);
    const QJsonObject free = findByName(tiers, QStringLiteral("free"));
    QCOMPARE(free.value("requests_per_minute").toInt(), 100);
    QCOMPARE(free.value("monthly_requests").toInt(), 50000);
    const QJsonObject pro = findByName(tiers, QStringLiteral("pro"));
    QCOMPARE(pro.value("requests_per_minute").toInt(), 1000);
    QCOMPARE(pro.value("monthly_requests").toInt(), 1000000);
    QVERIFY(pro.contains("concurrent_requests"));
    QVERIFY(pro.value("concurrent_requests").isNull());  // no built-in concurrency limit
    const QJsonObject enterprise = findByName(tiers, QStringLiteral("enterprise"));
    QCOMPARE(enterprise.value("concurrent_requests").toInt(-1), 0);  // unlimited

    // The text table: one row per tier, then the two default rows.
    const CliResult text = cli({"tiers", "list"});
    CLI_OK(text);
    QVERIFY2(text.out.startsWith("NAME "), text.describe().constData());
    QVERIFY2(text.outLines().first().contains(" TOK/MONTH  CONCURRENT  KEYS"),
             text.describe().constData());
    QVERIFY2(!rowWith(text, "free").isEmpty(), text.describe().constData());
    QVERIFY2(text.out.contains("(user default)") && text.out.contains("(key default)"),
             text.describe().constData());
}

void TestCli::users()
{
    USE_BACKEND();
    CliResult r = cli({"users", "add", "alice"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("created user alice (id "), r.describe().constData());
    QVERIFY2(r.out.contains("tier free"), r.describe().constData());

    r = cli({"users", "add", "bob", "--tier", "pro", "--email", "bob@example.com", "--json"});
    CLI_OK(r);
    const QJsonObject bob = r.json().toObject();
    QCOMPARE(bob.value("name").toString(), QStringLiteral("bob"));
    QCOMPARE(bob.value("tier").toString(), QStringLiteral("pro"));
    QCOMPARE(bob.value("email").toString(), QStringLiteral("bob@example.com"));

    // Refusals from AdminService: one line, exit 2.
    CLI_FAILS(cli({"users", "add", "alice"}), 2);
    CLI_FAILS(cli({"users", "add", "carol", "--tier", "nosuch"}), 2);
    QVERIFY(cli({"users", "add", "carol", "--tier", "nosuch"}).err.contains("nosuch"));
    CLI_FAILS(cli({"users", "set", "nobody", "--tier", "pro"}), 2);
    CLI_FAILS(cli({"users", "disable", "nobody"}), 2);

    // Overrides, then clearing them with "inherit" and with "".
    r = cli({"users", "set", "alice", "--tier", "pro", "--rps", "5", "--burst", "10", "--tpm", "0",
             "--monthly-tokens", "unlimited", "--concurrent-requests", "4"});
    CLI_OK(r);
    QVERIFY2(r.out.contains("updated user alice") && r.out.contains("rps 5") &&
                 r.out.contains("concurrent-requests 4"),
             r.describe().constData());
    r = cli({"users", "list", "--json"});
    CLI_OK(r);
    QJsonObject alice = findByName(r.json().toArray(), QStringLiteral("alice"));
    QCOMPARE(alice.value("tier").toString(), QStringLiteral("pro"));
    QJsonObject effective = alice.value("effective").toObject();
    QCOMPARE(effective.value("requests_per_second").toDouble(), 5.0);
    QCOMPARE(effective.value("burst").toInt(), 10);
    QCOMPARE(effective.value("tokens_per_minute").toInt(), 0);
    QCOMPARE(effective.value("requests_per_minute").toInt(), 1000);  // from tier pro
    QCOMPARE(effective.value("concurrent_requests").toInt(), 4);
    QCOMPARE(alice.value("concurrent_requests").toInt(), 4);  // the stored override

    // The table marks overrides with "*" and prints 0 as "unlimited".
    r = cli({"users", "list"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("ID "), r.describe().constData());
    QByteArray row = rowWith(r, "alice");
    QVERIFY2(row.contains(" 5* ") && row.contains(" 10* ") && row.contains("unlimited*") &&
                 row.contains(" 4* "),
             r.describe().constData());
    QVERIFY2(r.outLines().first().contains(" TOK/MONTH  CONCURRENT  CREATED"),
             r.describe().constData());
    QVERIFY2(!rowWith(r, "bob@example.com").isEmpty(), r.describe().constData());

    CLI_OK(cli({"users", "set", "alice", "--rps", "inherit", "--burst", "", "--concurrent-requests",
                "inherit"}));
    r = cli({"users", "list", "--json"});
    alice = findByName(r.json().toArray(), QStringLiteral("alice"));
    effective = alice.value("effective").toObject();
    QCOMPARE(effective.value("requests_per_second").toDouble(), 100.0);  // the user default
    QCOMPARE(effective.value("burst").toInt(), 200);
    QCOMPARE(effective.value("tokens_per_minute").toInt(), 0);  // still overridden
    QVERIFY(alice.value("concurrent_requests").isNull());
    QCOMPARE(effective.value("concurrent_requests").toInt(-1), 0);  // nobody sets it

    // Filters.
    r = cli({"users", "list", "--tier", "free", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toArray().size(), 0);
    r = cli({"users", "list", "--tier", "pro", "--json"});
    QCOMPARE(r.json().toArray().size(), 2);

    // Disable and enable.
    r = cli({"users", "disable", "alice"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("disabled user alice"), r.describe().constData());
    r = cli({"users", "list", "--status", "disabled", "--json"});
    QCOMPARE(r.json().toArray().size(), 1);
    QCOMPARE(r.json().toArray().first().toObject().value("name").toString(),
             QStringLiteral("alice"));
    QVERIFY(rowWith(cli({"users", "list"}), "alice").contains("disabled"));
    r = cli({"users", "enable", "alice", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toObject().value("status").toString(), QStringLiteral("active"));
    r = cli({"users", "set", "alice", "--email", "", "--json"});
    CLI_OK(r);

    // Renaming keeps the id; another user's name or an invalid one is refused (exit 2).
    const qint64 aliceId = r.json().toObject().value("id").toInteger();
    CLI_FAILS(cli({"users", "set", "alice", "--rename", "bob"}), 2);
    CLI_FAILS(cli({"users", "set", "alice", "--rename", "has space"}), 2);
    r = cli({"users", "set", "alice", "--rename", "alice.smith", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toObject().value("name").toString(), QStringLiteral("alice.smith"));
    QCOMPARE(r.json().toObject().value("id").toInteger(), aliceId);
    CLI_FAILS(cli({"users", "set", "alice", "--tier", "pro"}), 2);
}

void TestCli::keysCreate()
{
    USE_BACKEND();
    CLI_OK(cli({"users", "add", "alice"}));

    // Plain: the key alone on the last (and only) stdout line, details on stderr.
    CliResult r = cli({"keys", "create", "--user", "alice", "--name", "laptop"});
    CLI_OK(r);
    QCOMPARE(r.outLines().size(), 1);
    const QString key = QString::fromUtf8(r.outLines().last());
    QVERIFY2(kKeyLine.match(key).hasMatch(), r.describe().constData());
    QVERIFY2(r.err.contains("created key ") && r.err.contains("for user alice"),
             r.describe().constData());
    QVERIFY2(r.err.contains(key.left(14).toUtf8()), r.describe().constData());  // the prefix
    QVERIFY2(!r.err.contains(key.toUtf8()), "the key is on stderr");

    // --create-user makes the owner; without it an unknown user is refused.
    CLI_FAILS(cli({"keys", "create", "--user", "newbie"}), 2);
    r = cli({"keys", "create", "--user", "newbie", "--create-user"});
    CLI_OK(r);
    QVERIFY2(kKeyLine.match(QString::fromUtf8(r.outLines().last())).hasMatch(),
             r.describe().constData());
    QVERIFY2(r.err.contains("new user"), r.describe().constData());
    r = cli({"users", "list", "--json"});
    const QJsonObject newbie = findByName(r.json().toArray(), QStringLiteral("newbie"));
    QCOMPARE(newbie.value("tier").toString(), QStringLiteral("free"));

    // --json: one object on stdout with the key and everything given.
    r = cli({"keys", "create", "--user", "alice", "--name", "ci", "--tier", "pro", "--rpm", "7",
             "--rps", "2.5", "--models", "gpt-4o*, claude-*", "--expires", "2099-12-31",
             "--concurrent-requests", "2", "--json"});
    CLI_OK(r);
    const QJsonObject created = r.json().toObject();
    QVERIFY2(!created.isEmpty(), r.describe().constData());
    const QString jsonKey = created.value("key").toString();
    QVERIFY2(kKeyLine.match(jsonKey).hasMatch(), r.describe().constData());
    QVERIFY(jsonKey != key);
    QCOMPARE(created.value("name").toString(), QStringLiteral("ci"));
    QCOMPARE(created.value("tier").toString(), QStringLiteral("pro"));
    QCOMPARE(created.value("prefix").toString(),
             jsonKey.left(created.value("prefix").toString().size()));
    QCOMPARE(created.value("models").toArray(),
             (QJsonArray{QStringLiteral("gpt-4o*"), QStringLiteral("claude-*")}));
    QVERIFY2(
        created.value("expires_at").toString().startsWith(QLatin1String("2099-12-31T00:00:00")),
        r.describe().constData());
    const QJsonObject effective = created.value("effective").toObject();
    QCOMPARE(effective.value("requests_per_minute").toInt(), 7);
    QCOMPARE(effective.value("requests_per_second").toDouble(), 2.5);
    QCOMPARE(effective.value("monthly_requests").toInt(), 1000000);  // tier pro
    QCOMPARE(effective.value("concurrent_requests").toInt(), 2);
    QCOMPARE(created.value("concurrent_requests").toInt(), 2);
    QVERIFY2(r.err.contains("concurrent-requests 2*"), r.describe().constData());
    QVERIFY2(!r.err.contains(jsonKey.toUtf8()), "the key is on stderr");

    // An expiry with an offset is stored in UTC.
    r = cli(
        {"keys", "create", "--user", "alice", "--expires", "2099-06-01T20:00:00+02:00", "--json"});
    CLI_OK(r);
    QVERIFY2(r.json()
                 .toObject()
                 .value("expires_at")
                 .toString()
                 .startsWith(QLatin1String("2099-06-01T18:00:00")),
             r.describe().constData());
}

void TestCli::keysCreateRefused()
{
    USE_BACKEND();
    CLI_OK(cli({"users", "add", "alice"}));
    CLI_FAILS(cli({"keys", "create", "--user", "nobody"}), 2);
    CLI_FAILS(cli({"keys", "create", "--user", "alice", "--tier", "nosuch"}), 2);
    CLI_FAILS(cli({"keys", "create", "--user", "", "--create-user"}), 2);
    CLI_FAILS(cli({"keys", "create", "--user", "alice", "--rps", "-3"}), 2);
    // Nothing was created by the refusals.
    const CliResult r = cli({"keys", "list", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toArray().size(), 0);
    QVERIFY(findByName(cli({"users", "list", "--json"}).json().toArray(), "nobody").isEmpty());
}

void TestCli::keysListAndRevoke()
{
    USE_BACKEND();
    const QString k1 = createKey({"--user", "alice", "--create-user", "--name", "one"});
    const QString k2 =
        createKey({"--user", "alice", "--name", "two", "--rps", "3", "--concurrent-requests", "5"});
    const QString k3 = createKey({"--user", "bob", "--create-user", "--models", "gpt-*"});
    QVERIFY(!k1.isEmpty() && !k2.isEmpty() && !k3.isEmpty());

    CliResult r = cli({"keys", "list"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("ID "), r.describe().constData());
    QCOMPARE(r.outLines().size(), 4);
    for (const QString &k : {k1, k2, k3}) {
        QVERIFY2(!r.out.contains(k.toUtf8()), "keys list shows a key");
        QVERIFY2(!rowWith(r, k.left(14).toUtf8()).isEmpty(), r.describe().constData());
    }
    QVERIFY2(rowWith(r, k2.left(14).toUtf8()).contains(" 3* "), r.describe().constData());
    QVERIFY2(rowWith(r, k2.left(14).toUtf8()).contains(" 5* "), r.describe().constData());
    QVERIFY2(r.outLines().first().contains(" TOK/MONTH  CONCURRENT  MODELS"),
             r.describe().constData());
    QVERIFY2(rowWith(r, k3.left(14).toUtf8()).contains(" gpt-* "), r.describe().constData());
    QVERIFY2(rowWith(r, k1.left(14).toUtf8()).contains(" never "), r.describe().constData());

    r = cli({"keys", "list", "--json"});
    CLI_OK(r);
    QJsonArray keys = r.json().toArray();
    QCOMPARE(keys.size(), 3);
    for (const QString &k : {k1, k2, k3})
        QVERIFY2(!r.out.contains(k.toUtf8()), "keys list --json shows a key");
    for (const QJsonValue &v : keys) {
        QVERIFY2(!v.toObject().contains("key"), r.describe().constData());
        QVERIFY(v.toObject().contains("effective"));
        QCOMPARE(v.toObject().value("effective_tier").toString(), QStringLiteral("free"));
    }
    const QJsonObject two = findByName(keys, QStringLiteral("two"));
    QCOMPARE(two.value("concurrent_requests").toInt(), 5);
    QCOMPARE(two.value("effective").toObject().value("concurrent_requests").toInt(), 5);
    const QJsonObject one = findByName(keys, QStringLiteral("one"));
    QVERIFY(one.value("concurrent_requests").isNull());
    QCOMPARE(one.value("effective").toObject().value("concurrent_requests").toInt(-1), 0);

    r = cli({"keys", "list", "--user", "alice", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toArray().size(), 2);
    CLI_FAILS(cli({"keys", "list", "--user", "nobody"}), 2);

    // Revoke by id, by display prefix, and by the whole key.
    const qint64 id1 = findByName(keys, QStringLiteral("one")).value("id").toInteger();
    QVERIFY(id1 > 0);
    r = cli({"keys", "revoke", QString::number(id1)});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("revoked key " + QByteArray::number(id1)), r.describe().constData());
    r = cli({"keys", "revoke", k2.left(14), "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toObject().value("status").toString(), QStringLiteral("revoked"));
    r = cli({"keys", "revoke", k3});
    CLI_OK(r);
    QVERIFY2(!r.out.contains(k3.toUtf8()) && !r.err.contains(k3.toUtf8()), "revoke echoes the key");

    r = cli({"keys", "list", "--json"});
    keys = r.json().toArray();
    for (const QJsonValue &v : keys)
        QCOMPARE(v.toObject().value("status").toString(), QStringLiteral("revoked"));
    r = cli({"keys", "list", "--status", "active", "--json"});
    QCOMPARE(r.json().toArray().size(), 0);
    QVERIFY(rowWith(cli({"keys", "list"}), QByteArray::number(id1)).contains("revoked"));

    CLI_FAILS(cli({"keys", "revoke", "999999"}), 2);
    CLI_FAILS(cli({"keys", "revoke", "sk-sluice-zzzz"}), 2);
    CLI_FAILS(cli({"keys", "revoke", "whatever"}), 2);

    // A disabled owner shows on its keys.
    const QString k4 = createKey({"--user", "carol", "--create-user"});
    CLI_OK(cli({"users", "disable", "carol"}));
    QVERIFY(rowWith(cli({"keys", "list"}), k4.left(14).toUtf8()).contains("user-disabled"));
}

void TestCli::tiers()
{
    USE_BACKEND();
    CliResult r = cli({"tiers", "set", "gold", "--rps", "5", "--monthly-tokens", "0"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("created tier gold: rps 5"), r.describe().constData());
    r = cli({"tiers", "set", "gold", "--rpm", "100", "--concurrent-requests", "6"});
    CLI_OK(r);
    QVERIFY2(r.out.startsWith("updated tier gold: rps 5") && r.out.contains("rpm 100") &&
                 r.out.contains("concurrent-requests 6"),
             r.describe().constData());

    r = cli({"tiers", "list", "--json"});
    CLI_OK(r);
    QJsonObject gold = findByName(r.json().toArray(), QStringLiteral("gold"));
    QCOMPARE(gold.value("requests_per_second").toDouble(), 5.0);
    QCOMPARE(gold.value("requests_per_minute").toInt(), 100);
    QCOMPARE(gold.value("monthly_tokens").toInt(), 0);
    QCOMPARE(gold.value("concurrent_requests").toInt(), 6);
    QCOMPARE(gold.value("keys").toInt(), 0);

    // A key on the tier, via its user; then clear a field.
    CLI_OK(cli({"users", "add", "dave", "--tier", "gold"}));
    QVERIFY(!createKey({"--user", "dave"}).isEmpty());
    r = cli({"tiers", "set", "gold", "--rps", "inherit", "--json"});
    CLI_OK(r);
    QVERIFY2(r.json().toObject().value("requests_per_second").isNull(), r.describe().constData());
    r = cli({"tiers", "list"});
    CLI_OK(r);
    const QByteArray row = rowWith(r, "gold");
    QVERIFY2(row.contains("inherit") && row.endsWith(" 1"), r.describe().constData());
    r = cli({"tiers", "list", "--json"});
    gold = findByName(r.json().toArray(), QStringLiteral("gold"));
    QCOMPARE(gold.value("keys").toInt(), 1);
    QCOMPARE(gold.value("concurrent_requests").toInt(), 6);
    // The key on it inherits the tier's concurrency limit.
    r = cli({"keys", "list", "--user", "dave", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json()
                 .toArray()
                 .first()
                 .toObject()
                 .value("effective")
                 .toObject()
                 .value("concurrent_requests")
                 .toInt(),
             6);
    r = cli({"tiers", "set", "gold", "--concurrent-requests", "", "--json"});
    CLI_OK(r);
    QVERIFY2(r.json().toObject().value("concurrent_requests").isNull(), r.describe().constData());
    QCOMPARE(r.json().toObject().value("requests_per_minute").toInt(), 100);

    // A bad tier name is the service's refusal.
    CLI_FAILS(cli({"tiers", "set", "bad name!", "--rps", "1"}), 2);
}

void TestCli::shadowAndModelLimits()
{
    USE_BACKEND();
    CliResult r = cli({"tiers", "set", "pro", "--shadow"});
    CLI_OK(r);
    QVERIFY2(r.out.contains("; shadow on"), r.describe().constData());
    // --model: the limit flags go to that model's entry, not to the tier's own fields.
    r = cli({"tiers", "set", "pro", "--model", "gpt-4o", "--tpm", "1000", "--rpm", "7"});
    CLI_OK(r);
    QVERIFY2(r.out.contains("rpm 1000") && r.out.contains("  model gpt-4o: rps unlimited") &&
                 r.out.contains("rpm 7, tpm 1000"),
             r.describe().constData());
    CLI_OK(cli({"tiers", "set", "pro", "--model", "claude-*", "--rps", "0.5"}));
    r = cli({"tiers", "list", "--json"});
    CLI_OK(r);
    QJsonObject pro = findByName(r.json().toArray(), QStringLiteral("pro"));
    QCOMPARE(pro.value("shadow"), QJsonValue(true));
    QCOMPARE(pro.value("requests_per_minute").toInt(), 1000);
    QJsonObject models = pro.value("model_limits").toObject();
    QCOMPARE(models.keys(), QStringList({"claude-*", "gpt-4o"}));
    QCOMPARE(models.value("gpt-4o").toObject().value("tokens_per_minute").toInt(), 1000);
    QCOMPARE(models.value("claude-*").toObject().value("requests_per_second").toDouble(), 0.5);
    r = cli({"tiers", "list"});
    CLI_OK(r);
    QVERIFY2(rowWith(r, "pro").contains(" on "), r.describe().constData());
    QVERIFY2(r.out.contains("Per-model limits:") && !rowWith(r, "claude-*").isEmpty(),
             r.describe().constData());
    // A field cleared, an entry removed, shadow off.
    r = cli({"tiers", "set", "pro", "--model", "gpt-4o", "--rpm", "inherit", "--remove-model",
             "claude-*", "--no-shadow", "--json"});
    CLI_OK(r);
    pro = r.json().toObject();
    QCOMPARE(pro.value("shadow"), QJsonValue(false));
    models = pro.value("model_limits").toObject();
    QCOMPARE(models.keys(), QStringList({"gpt-4o"}));
    QVERIFY(models.value("gpt-4o").toObject().value("requests_per_minute").isNull());
    QCOMPARE(models.value("gpt-4o").toObject().value("tokens_per_minute").toInt(), 1000);
    CLI_FAILS(cli({"tiers", "set", "pro", "--model", "gpt 4o", "--tpm", "1"}), 2);
    CLI_FAILS(cli({"tiers", "set", "pro", "--model", "x", "--tpm", "-1"}), 2);

    // Keys: created in shadow mode, then their own model entry over the tier's, then back to
    // the tier's shadow mode.
    CLI_OK(cli({"users", "add", "pam", "--tier", "pro"}));
    const QString key = createKey({"--user", "pam", "--shadow"});
    QVERIFY(!key.isEmpty());
    r = cli({"keys", "list", "--user", "pam", "--json"});
    CLI_OK(r);
    QJsonObject k = r.json().toArray().first().toObject();
    QCOMPARE(k.value("shadow"), QJsonValue(true));
    QCOMPARE(k.value("effective_shadow"), QJsonValue(true));
    const QString id = QString::number(k.value("id").toInteger());
    r = cli(
        {"keys", "set", id, "--model", "gpt-4o", "--concurrent-requests", "2", "--inherit-shadow"});
    CLI_OK(r);
    QVERIFY2(r.out.contains("shadow inherit") && r.out.contains("model gpt-4o:") &&
                 r.out.contains("concurrent-requests 2"),
             r.describe().constData());
    CLI_OK(cli({"keys", "set", id, "--model", "o?-mini", "--burst", "3"}));
    r = cli({"keys", "list", "--user", "pam", "--json"});
    CLI_OK(r);
    k = r.json().toArray().first().toObject();
    QVERIFY(k.value("shadow").isNull());
    QCOMPARE(k.value("effective_shadow"), QJsonValue(false));
    const QJsonArray effective = k.value("effective_model_limits").toArray();
    QCOMPARE(effective.size(), 2);
    QCOMPARE(effective.at(0).toObject().value("model").toString(), QStringLiteral("gpt-4o"));
    QCOMPARE(effective.at(0).toObject().value("tokens_per_minute").toInt(), 1000);  // the tier's
    QCOMPARE(effective.at(0).toObject().value("concurrent_requests").toInt(), 2);   // the key's
    QCOMPARE(effective.at(1).toObject().value("model").toString(), QStringLiteral("o?-mini"));
    r = cli({"keys", "list", "--user", "pam"});
    CLI_OK(r);
    const QList<QByteArray> words = rowWith(r, "pam").simplified().split(' ');
    QVERIFY2(words.indexOf("gpt-4o,o?-mini") == words.indexOf("off") + 1,  // SHADOW, MODEL-LIMITS
             r.describe().constData());
    r = cli({"keys", "set", id, "--remove-model", "o?-mini", "--no-shadow", "--json"});
    CLI_OK(r);
    QCOMPARE(r.json().toObject().value("shadow"), QJsonValue(false));
    QCOMPARE(r.json().toObject().value("model_limits").toObject().keys(), QStringList({"gpt-4o"}));
}

void TestCli::dbFlagAnywhereAndEnvironment()
{
    // --db before the command, --config with its own [storage] db, and SLUICE_DB.
    CLI_OK(cli({"--db", m_db, "users", "add", "early"}, false));
    CLI_OK(cli({"users", "--db", m_db, "add", "middle"}, false));
    const QString ini = m_dir->path() + QStringLiteral("/sluice.ini");
    QVERIFY(writeTextFile(ini, "[storage]\ndb = " + m_db.toUtf8() + "\n"));
    CLI_OK(cli({"users", "add", "fromini", "--config", ini}, false));
    const CliResult r = cli({"users", "list", "--json", "--config", ini}, false);
    CLI_OK(r);
    for (const char *name : {"early", "middle", "fromini"})
        QVERIFY2(!findByName(r.json().toArray(), QLatin1String(name)).isEmpty(), name);
    // A bad gateway option is the configuration's error, exit 2 as for the server.
    CLI_FAILS(cli({"users", "list", "--workers", "0"}), 2);
}

void TestCli::auditActor()
{
    USE_BACKEND();
    CLI_OK(cli({"users", "add", "alice"}));
    QVERIFY(!createKey({"--user", "alice"}).isEmpty());
    const QString sql = QStringLiteral("SELECT DISTINCT actor FROM audit_log");
    QString why;
    std::optional<QStringList> actors;
    if (m_backend == QLatin1String("sqlite")) {
        actors = sqliteRows(sqlitePath(), sql, &why);
    } else {
        PgSession pg(m_pg->qurl());
        actors = pg.rows(sql, &why);
    }
    QVERIFY2(actors, qPrintable(why));
    QVERIFY2(actors->contains(QStringLiteral("cli:tester")), qPrintable(actors->join(u',')));
}

void TestCli::plaintextNeverAtRest()
{
    USE_BACKEND();
    QStringList keys = {createKey({"--user", "alice", "--create-user"})};
    QVERIFY(kKeyLine.match(keys.first()).hasMatch());
    const CliResult json = cli({"keys", "create", "--user", "alice", "--json"});
    CLI_OK(json);
    keys << json.json().toObject().value("key").toString();
    QCOMPARE(keys.size(), 2);
    QVERIFY(kKeyLine.match(keys.last()).hasMatch());
    CLI_OK(cli({"keys", "revoke", keys.first()}));

    // The random part alone, so no encoding of the prefix can hide a match.
    auto secretOf = [](const QString &k) { return k.mid(10).toUtf8(); };
    const CliResult list = cli({"keys", "list"});
    const CliResult listJson = cli({"keys", "list", "--json"});
    for (const QString &k : keys) {
        QVERIFY2(!list.out.contains(secretOf(k)) && !listJson.out.contains(secretOf(k)),
                 "keys list shows a key");
    }
    if (m_backend == QLatin1String("sqlite")) {
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
            QFile f(sqlitePath() + suffix);
            if (!f.exists())
                continue;
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            for (const QString &k : keys) {
                QVERIFY2(!bytes.contains(secretOf(k)),
                         qPrintable(QStringLiteral("the key is in ") + f.fileName()));
            }
        }
    } else {
        // Every table as text, the database's whole identity content.
        PgSession pg(m_pg->qurl());
        QString why;
        const auto tables = pg.rows(QStringLiteral("SELECT tablename FROM pg_tables WHERE "
                                                   "schemaname = 'public'"),
                                    &why);
        QVERIFY2(tables && !tables->isEmpty(), qPrintable(why));
        for (const QString &table : *tables) {
            const auto rows = pg.rows(QStringLiteral("SELECT t::text FROM %1 t").arg(table), &why);
            QVERIFY2(rows, qPrintable(why));
            const QString all = rows->join(u'\n');
            for (const QString &k : keys)
                QVERIFY2(!all.contains(k.mid(10)),
                         qPrintable(QStringLiteral("the key is in ") + table));
        }
    }
}

// ---- with a gateway ------------------------------------------------------------------------

void TestCli::yardstickInvocations()
{
    // Exactly what bench/peers/ours/start.sh runs, through a shell with its pipes.
    const QString ini = m_dir->path() + QStringLiteral("/ours.ini");
    QFile f(ini);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("[log]\nlog_level = info\n");
    f.close();
    const QString keysFile = m_dir->path() + QStringLiteral("/ours.keys");
    const QString script = QStringLiteral(
        "set -eu\n"
        ": >\"$keys\"\n"
        "\"$SLUICE_BIN\" tiers set free --rps 1000000 --burst 1000000 --rpm 0 --monthly-requests 0 "
        "--db \"$db\" --config \"$ini\" >/dev/null 2>&1 || true\n"
        "for i in $(seq 3); do\n"
        "  \"$SLUICE_BIN\" keys create --db \"$db\" --config \"$ini\" --user \"bench$i\" "
        "--create-user \\\n"
        "    --rps 1000000 --burst 1000000 2>/dev/null | tail -1 >>\"$keys\"\n"
        "done\n");
    QProcess sh;
    QProcessEnvironment env = environment();
    env.insert(QStringLiteral("SLUICE_BIN"), kBinary);
    env.insert(QStringLiteral("db"), m_db);
    env.insert(QStringLiteral("ini"), ini);
    env.insert(QStringLiteral("keys"), keysFile);
    sh.setProcessEnvironment(env);
    sh.start(QStringLiteral("bash"), {QStringLiteral("-c"), script});
    QVERIFY(sh.waitForFinished(kCommandTimeoutMs * 2));
    QVERIFY2(sh.exitCode() == 0, sh.readAllStandardError().constData());

    QFile kf(keysFile);
    QVERIFY(kf.open(QIODevice::ReadOnly));
    const QStringList keys = QString::fromUtf8(kf.readAll()).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(keys.size(), 3);
    for (const QString &k : keys)
        QVERIFY2(kKeyLine.match(k).hasMatch(), qPrintable(k));

    CliResult r = cli({"tiers", "list", "--json"});
    CLI_OK(r);
    const QJsonObject free = findByName(r.json().toArray(), QStringLiteral("free"));
    QCOMPARE(free.value("requests_per_second").toDouble(), 1000000.0);
    QCOMPARE(free.value("burst").toInt(), 1000000);
    QCOMPARE(free.value("requests_per_minute").toInt(), 0);
    QCOMPARE(free.value("monthly_requests").toInt(), 0);
    r = cli({"keys", "list", "--json"});
    const QJsonArray listed = r.json().toArray();
    QCOMPARE(listed.size(), 3);
    for (const QJsonValue &v : listed) {
        const QJsonObject effective = v.toObject().value("effective").toObject();
        QCOMPARE(effective.value("requests_per_second").toDouble(), 1000000.0);
        QCOMPARE(effective.value("requests_per_minute").toInt(), 0);
    }

    // The gateway on that database accepts the keys.
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start({"--headless", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                       "--workers", "1", "--db", m_db, "--config", ini}) &&
                 gw.waitForListening(kStartTimeoutMs) && gw.waitForStartupComplete(kStartTimeoutMs),
             gw.why().constData());
    for (const QString &k : keys) {
        const HttpReply reply =
            httpGet(gw.port(), "/v1/models", {{"Authorization", "Bearer " + k.toUtf8()}});
        QVERIFY2(reply.ok() && reply.status != 401, reply.describe().constData());
    }
    gw.terminate();
    QVERIFY(gw.waitForExit(10000));
}

void TestCli::editsWhileGatewayRuns()
{
    USE_BACKEND();
    CLI_OK(cli({"users", "add", "alice"}));  // the schema exists before the gateway starts
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start({"--headless", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                       "--workers", "2", "--db", m_db, "--data-dir",
                       m_dir->path() + QStringLiteral("/data")}) &&
                 gw.waitForListening(kStartTimeoutMs) && gw.waitForStartupComplete(kStartTimeoutMs),
             gw.why().constData());

    // Every kind of edit while the gateway holds the database open and serves from it.
    CLI_OK(cli({"users", "add", "bob", "--tier", "pro"}));
    CLI_OK(cli({"tiers", "set", "gold", "--rpm", "10"}));
    CLI_OK(cli({"users", "set", "alice", "--tier", "gold", "--rps", "7"}));
    const QString key = createKey({"--user", "alice", "--name", "live"});
    QVERIFY(kKeyLine.match(key).hasMatch());
    CLI_OK(cli({"keys", "list"}));
    CLI_OK(cli({"users", "list"}));
    CLI_OK(cli({"tiers", "list"}));

    // The new key works, and stops working within a second or two of its revocation.
    const HttpHeaderList auth = {{"Authorization", "Bearer " + key.toUtf8()}};
    auto statusNow = [&] { return httpGet(gw.port(), "/v1/models", auth).status; };
    QTRY_VERIFY_WITH_TIMEOUT(statusNow() != 401 && statusNow() != 0, 5000);
    CLI_OK(cli({"keys", "revoke", key.left(14)}));
    QTRY_COMPARE_WITH_TIMEOUT(statusNow(), 401, 5000);

    QVERIFY2(gw.isRunning(), gw.why().constData());
    QCOMPARE(httpGet(gw.port(), "/health/ready").status, 200);
    gw.terminate();
    QVERIFY(gw.waitForExit(10000));
    QVERIFY2(gw.exitedWith(0), gw.why().constData());

    // The gateway wrote last_used_at (its last batch at the latest when it stopped); the list
    // shows it.
    const CliResult r = cli({"keys", "list", "--json"});
    CLI_OK(r);
    const QJsonObject live = findByName(r.json().toArray(), QStringLiteral("live"));
    QVERIFY2(live.value("last_used_at").isString(), r.describe().constData());
    const QByteArray row = rowWith(cli({"keys", "list"}), key.left(14).toUtf8());
    QVERIFY2(!row.isEmpty() && !row.contains(" never "), row.constData());
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
