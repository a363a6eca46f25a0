#include "ConfigLoader.h"
#include "ConfigValues.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <algorithm>
#include <memory>

using namespace sluice;

Q_DECLARE_METATYPE(ConfigError::Kind)

class TestConfig : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void defaults();
    void precedence_data();
    void precedence();
    void dataDirMovesDefaultDb();
    void errors_data();
    void errors();
    void secretsRedactedInErrors();
    void commaLists();
    void flagEqualsForm();
    void repeatedFlagLastWins();
    void bools();
    void positionalAndHelp();
    void emptyMeansNone();
    void sqliteRelativeToCwd();
    void postgresUrl();
    void redisUrl_data();
    void redisUrl();
    void hostPort_data();
    void hostPort();
    void byteSizes_data();
    void byteSizes();
    void seconds_data();
    void seconds();
    void extraSections();
    void exampleIniLoads();
    void everyOptionDocumented();
    void helpText();
    void adminTls();
    void connectUrl();
    void summaryRedacts();

private:
    QString writeIni(const QByteArray &content);
    static QProcessEnvironment envOf(const QStringList &assignments);

    std::unique_ptr<QTemporaryDir> m_tmp;
    int m_files = 0;
};

void TestConfig::initTestCase()
{
    // Keep the default data dir away from the real home directory.
    QStandardPaths::setTestModeEnabled(true);
}

void TestConfig::init()
{
    m_tmp = std::make_unique<QTemporaryDir>();
    QVERIFY(m_tmp->isValid());
}

void TestConfig::cleanup()
{
    m_tmp.reset();
}

QString TestConfig::writeIni(const QByteArray &content)
{
    // A fresh name each time: QSettings caches parsed files by path.
    const QString path = m_tmp->filePath(QStringLiteral("sluice%1.ini").arg(++m_files));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(path));
    f.write(content);
    return path;
}

QProcessEnvironment TestConfig::envOf(const QStringList &assignments)
{
    QProcessEnvironment env;
    for (const QString &a : assignments)
        env.insert(a.section(u'=', 0, 0), a.section(u'=', 1));
    return env;
}

void TestConfig::defaults()
{
    const auto r = ConfigLoader::load({}, QProcessEnvironment());
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    QVERIFY(!r.help);
    QVERIFY(!r.version);
    QVERIFY(r.positional.isEmpty());
    const GatewayConfig &c = r.config;
    QCOMPARE(c.configFile, QString());
    QCOMPARE(c.headless, false);
    QCOMPARE(c.listen.toString(), QStringLiteral("127.0.0.1:8081"));
    QCOMPARE(c.adminListen.toString(), QStringLiteral("127.0.0.1:8082"));
    QCOMPARE(c.workers, std::clamp(QThread::idealThreadCount(), 1, 256));
    QCOMPARE(c.drainTimeout, 30.0);
    QCOMPARE(c.maxBodySize, qint64(10 * 1024 * 1024));
    QCOMPARE(c.headerTimeout, 10.0);
    QCOMPARE(c.idleTimeout, 60.0);
    QCOMPARE(c.dataDir, GatewayConfig::defaultDataDir());
    QVERIFY(c.dataDir.endsWith(QStringLiteral("/sluice")));
    QVERIFY(QDir::isAbsolutePath(c.dataDir));
    QCOMPARE(c.db.driver, DatabaseUrl::Driver::Sqlite);
    QCOMPARE(c.db.path, c.dataDir + QStringLiteral("/sluice.db"));
    QVERIFY(!c.ledgerDb);
    QCOMPARE(c.effectiveLedgerDb(), c.db);
    QVERIFY(!c.redis);
    QCOMPARE(c.logLevel, LogLevel::Info);
    QCOMPARE(c.logFormat, LogFormat::Text);
    QCOMPARE(c.healthTtl, 2.0);
    QCOMPARE(c.healthTimeout, 2.0);
    QCOMPARE(c.dbSlowThreshold, 0.5);
    QCOMPARE(c.memoryLimit, qint64(2) * 1024 * 1024 * 1024);
    QVERIFY(c.histogramBuckets.isEmpty());
    QVERIFY(c.extraSections.isEmpty());
}

void TestConfig::precedence_data()
{
    QTest::addColumn<QByteArray>("ini");  // empty: no file
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");

    const QByteArray ini =
        "[server]\nlisten = 10.0.0.1:1000\nworkers = 3\nmax_body_size = 1KiB\n"
        "[log]\nlog_level = debug\n[health]\nhealth_ttl = 7\n";
    const QStringList env{
        QStringLiteral("SLUICE_LISTEN=10.0.0.2:2000"), QStringLiteral("SLUICE_WORKERS=4"),
        QStringLiteral("SLUICE_MAX_BODY_SIZE=2KiB"), QStringLiteral("SLUICE_LOG_LEVEL=warning"),
        QStringLiteral("SLUICE_HEALTH_TTL=8")};
    const QStringList args{QStringLiteral("--listen"),        QStringLiteral("10.0.0.3:3000"),
                           QStringLiteral("--workers"),       QStringLiteral("5"),
                           QStringLiteral("--max-body-size"), QStringLiteral("3KiB"),
                           QStringLiteral("--log-level"),     QStringLiteral("error"),
                           QStringLiteral("--health-ttl"),    QStringLiteral("9")};
    struct Field
    {
        const char *name;
        const char *ini, *env, *cli;
    } fields[] = {{"listen", "10.0.0.1:1000", "10.0.0.2:2000", "10.0.0.3:3000"},
                  {"workers", "3", "4", "5"},
                  {"max_body_size", "1024", "2048", "3072"},
                  {"log_level", "debug", "warning", "error"},
                  {"health_ttl", "7", "8", "9"}};
    for (const auto &f : fields) {
        QTest::addRow("%s ini", f.name)
            << ini << QStringList() << QStringList() << QString::fromLatin1(f.name)
            << QString::fromLatin1(f.ini);
        QTest::addRow("%s ini<env", f.name)
            << ini << env << QStringList() << QString::fromLatin1(f.name)
            << QString::fromLatin1(f.env);
        QTest::addRow("%s ini<cli", f.name)
            << ini << QStringList() << args << QString::fromLatin1(f.name)
            << QString::fromLatin1(f.cli);
        QTest::addRow("%s env<cli", f.name)
            << QByteArray() << env << args << QString::fromLatin1(f.name)
            << QString::fromLatin1(f.cli);
        QTest::addRow("%s ini<env<cli", f.name)
            << ini << env << args << QString::fromLatin1(f.name) << QString::fromLatin1(f.cli);
    }
}

void TestConfig::precedence()
{
    QFETCH(QByteArray, ini);
    QFETCH(QStringList, env);
    QFETCH(QStringList, args);
    QFETCH(QString, field);
    QFETCH(QString, expected);

    if (!ini.isEmpty())
        args.prepend(QStringLiteral("--config=") + writeIni(ini));
    const auto r = ConfigLoader::load(args, envOf(env));
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    const GatewayConfig &c = r.config;
    const char *levels[] = {"debug", "info", "warning", "error"};
    QString actual;
    if (field == QLatin1String("listen"))
        actual = c.listen.toString();
    else if (field == QLatin1String("workers"))
        actual = QString::number(c.workers);
    else if (field == QLatin1String("max_body_size"))
        actual = QString::number(c.maxBodySize);
    else if (field == QLatin1String("log_level"))
        actual = QLatin1String(levels[int(c.logLevel)]);
    else if (field == QLatin1String("health_ttl"))
        actual = QString::number(c.healthTtl);
    QCOMPARE(actual, expected);
}

void TestConfig::dataDirMovesDefaultDb()
{
    const QString dir = m_tmp->filePath(QStringLiteral("state"));
    {
        const auto r = ConfigLoader::load({QStringLiteral("--data-dir"), dir}, {});
        QVERIFY(!r.error);
        QCOMPARE(r.config.dataDir, dir);
        QCOMPARE(r.config.db.path, dir + QStringLiteral("/sluice.db"));
    }
    {
        // data_dir from the file, db untouched: the default db follows.
        const QString ini = writeIni("[storage]\ndata_dir = \"" + dir.toUtf8() + "\"\n");
        const auto r = ConfigLoader::load({QStringLiteral("--config"), ini}, {});
        QVERIFY(!r.error);
        QCOMPARE(r.config.db.path, dir + QStringLiteral("/sluice.db"));
    }
    {
        // An explicit db at a lower level still beats the moved default.
        const QString ini = writeIni("[storage]\ndb = sqlite:///var/lib/x.db\n");
        const auto r = ConfigLoader::load(
            {QStringLiteral("--config"), ini, QStringLiteral("--data-dir"), dir}, {});
        QVERIFY(!r.error);
        QCOMPARE(r.config.dataDir, dir);
        QCOMPARE(r.config.db.path, QStringLiteral("/var/lib/x.db"));
    }
    {
        const auto r = ConfigLoader::load({}, envOf({QStringLiteral("SLUICE_DATA_DIR=~/sl")}));
        QVERIFY(!r.error);
        QCOMPARE(r.config.dataDir, QDir::homePath() + QStringLiteral("/sl"));
    }
}

void TestConfig::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QByteArray>("ini");  // written and passed with --config when not empty
    QTest::addColumn<ConfigError::Kind>("kind");
    QTest::addColumn<QStringList>("fragments");  // %INI% = the INI file's path

    using K = ConfigError::Kind;
    const QStringList none;
    const QByteArray noIni;
    auto s = [](const char *text) { return QString::fromUtf8(text); };

    QTest::newRow("unknown flag") << QStringList{s("--lisen"), s("1.2.3.4:5")} << none << noIni
                                  << K::UnknownFlag
                                  << QStringList{s("unknown flag \"--lisen\" (from command line)"),
                                                 s("--listen")};
    QTest::newRow("unknown short flag") << QStringList{s("-x")} << none << noIni << K::UnknownFlag
                                        << QStringList{s("unknown flag \"-x\"")};
    QTest::newRow("missing value at end")
        << QStringList{s("--listen")} << none << noIni << K::MissingValue
        << QStringList{s("missing value for --listen (from command line): expected HOST:PORT")};
    QTest::newRow("missing value before flag")
        << QStringList{s("--db"), s("--headless")} << none << noIni << K::MissingValue
        << QStringList{s("missing value for --db (from command line): expected URL")};
    QTest::newRow("missing config value")
        << QStringList{s("--config")} << none << noIni << K::MissingValue
        << QStringList{s("missing value for --config")};
    QTest::newRow("port 70000")
        << QStringList{s("--listen"), s("127.0.0.1:70000")} << none << noIni << K::InvalidValue
        << QStringList{s("invalid value \"127.0.0.1:70000\" for --listen (from command line): "
                         "expected HOST:PORT with a port 0-65535")};
    QTest::newRow("bare port") << QStringList{s("--listen"), s("70000")} << none << noIni
                               << K::InvalidValue
                               << QStringList{
                                      s("invalid value \"70000\" for --listen (from command line): "
                                        "expected HOST:PORT with a port 0-65535")};
    QTest::newRow("port 70000 in ini")
        << none << none << QByteArray("[server]\nadmin_listen = 127.0.0.1:70000\n")
        << K::InvalidValue
        << QStringList{s("invalid value \"127.0.0.1:70000\" for admin_listen in [server] of "
                         "%INI%: expected HOST:PORT with a port 0-65535")};
    QTest::newRow("host name") << QStringList{s("--listen=example.com:80")} << none << noIni
                               << K::InvalidValue << QStringList{s("localhost or *")};
    QTest::newRow("bad db url") << QStringList{s("--db"), s("mysql://h/db")} << none << noIni
                                << K::InvalidValue
                                << QStringList{s("invalid value \"mysql://h/db\" for --db"),
                                               s("expected a database URL")};
    QTest::newRow("bad ledger url env")
        << none << QStringList{s("SLUICE_LEDGER_DB=postgres://h")} << noIni << K::InvalidValue
        << QStringList{s("for SLUICE_LEDGER_DB (from environment)"),
                       s("postgres://user:pass@host:port/dbname")};
    QTest::newRow("rediss")
        << none << QStringList{s("SLUICE_REDIS=rediss://cache:6380")} << noIni << K::InvalidValue
        << QStringList{
               s("invalid value \"rediss://cache:6380\" for SLUICE_REDIS (from environment)"),
               s("TLS is not supported by hiredis 0.14"), s("TLS tunnel")};
    QTest::newRow("bad redis url")
        << QStringList{s("--redis=http://h")} << none << noIni << K::InvalidValue
        << QStringList{s("redis://[:password@]host[:port][/db]")};
    QTest::newRow("bad enum level")
        << none << QStringList{s("SLUICE_LOG_LEVEL=verbose")} << noIni << K::InvalidValue
        << QStringList{s("invalid value \"verbose\" for SLUICE_LOG_LEVEL (from environment): "
                         "expected one of debug, info, warning, error")};
    QTest::newRow("bad enum format")
        << QStringList{s("--log-format"), s("xml")} << none << noIni << K::InvalidValue
        << QStringList{s("expected one of text, json")};
    QTest::newRow("bad size")
        << none << none << QByteArray("[server]\nmax_body_size = 10 parsecs\n") << K::InvalidValue
        << QStringList{s("invalid value \"10 parsecs\" for max_body_size in [server] of %INI%"),
                       s("KiB")};
    QTest::newRow("zero size") << QStringList{s("--memory-limit=0")} << none << noIni
                               << K::InvalidValue << QStringList{s("greater than 0")};
    QTest::newRow("workers 0") << QStringList{s("--workers"), s("0")} << none << noIni
                               << K::InvalidValue << QStringList{s("1-256")};
    QTest::newRow("workers 257") << none << QStringList{s("SLUICE_WORKERS=257")} << noIni
                                 << K::InvalidValue << QStringList{s("1-256")};
    QTest::newRow("negative drain") << QStringList{s("--drain-timeout=-1")} << none << noIni
                                    << K::InvalidValue << QStringList{s("seconds >= 0")};
    QTest::newRow("zero header timeout")
        << QStringList{s("--header-timeout"), s("0")} << none << noIni << K::InvalidValue
        << QStringList{s("seconds > 0")};
    QTest::newRow("bad bool") << none << QStringList{s("SLUICE_HEADLESS=maybe")} << noIni
                              << K::InvalidValue
                              << QStringList{s("true/false, 1/0, yes/no or on/off")};
    QTest::newRow("decreasing buckets")
        << QStringList{s("--histogram-buckets"), s("0.5,0.1")} << none << noIni << K::InvalidValue
        << QStringList{s("increasing positive seconds")};
    QTest::newRow("scalar with unquoted comma")
        << none << none << QByteArray("[server]\nlisten = a,b\n") << K::InvalidValue
        << QStringList{s("invalid value \"a,b\" for listen in [server] of %INI%")};
    QTest::newRow("unknown key") << none << none << QByteArray("[server]\nfoo = 1\n")
                                 << K::UnknownKey
                                 << QStringList{s("unknown key \"foo\" in [server] of %INI%"),
                                                s("one of headless, listen")};
    QTest::newRow("dashed key") << none << none << QByteArray("[server]\nmax-body-size = 1\n")
                                << K::UnknownKey
                                << QStringList{s("unknown key \"max-body-size\" in [server]")};
    QTest::newRow("key in wrong section")
        << none << none << QByteArray("[server]\ndb = sqlite:///x.db\n") << K::UnknownKey
        << QStringList{s("unknown key \"db\" in [server] of %INI%: expected db in [storage]")};
    QTest::newRow("slash key") << none << none << QByteArray("[server]\nlisten/port = 1\n")
                               << K::UnknownKey
                               << QStringList{s("unknown key \"listen/port\" in [server] of %INI%"),
                                              s("without \"/\"")};
    QTest::newRow("key outside section")
        << none << none << QByteArray("listen = 127.0.0.1:1\n") << K::UnknownKey
        << QStringList{s("unknown key \"listen\" outside any section of %INI%")};
    QTest::newRow("General section")
        << none << none << QByteArray("[General]\nworkers = 2\n") << K::UnknownKey
        << QStringList{s("unknown key \"workers\" outside any section")};
    QTest::newRow("unknown section")
        << none << none << QByteArray("[srv]\nlisten = 127.0.0.1:1\n") << K::UnknownSection
        << QStringList{s("unknown section [srv] in %INI%"), s("[server], [storage]")};
    QTest::newRow("unregistered dynamic section")
        << none << none << QByteArray("[tiers.pro]\nrpm = 1\n") << K::UnknownSection
        << QStringList{s("unknown section [tiers.pro]")};
    QTest::newRow("missing config file")
        << QStringList{s("--config"), s("/nonexistent/sluice.ini")} << none << noIni
        << K::UnreadableFile
        << QStringList{s("cannot read config file \"/nonexistent/sluice.ini\" given by --config "
                         "(from command line): no such file")};
    QTest::newRow("missing config file env")
        << none << QStringList{s("SLUICE_CONFIG=/nonexistent/x.ini")} << noIni << K::UnreadableFile
        << QStringList{s("given by SLUICE_CONFIG (from environment): no such file")};
    QTest::newRow("config is a directory")
        << QStringList{s("--config"), s("/")} << none << noIni << K::UnreadableFile
        << QStringList{s("not a regular file")};
    QTest::newRow("malformed ini") << none << none << QByteArray("[server\nlisten = 127.0.0.1:1\n")
                                   << K::UnreadableFile << QStringList{s("not a valid INI file")};
}

void TestConfig::errors()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QByteArray, ini);
    QFETCH(ConfigError::Kind, kind);
    QFETCH(QStringList, fragments);

    QString iniPath;
    if (!ini.isEmpty()) {
        iniPath = writeIni(ini);
        args.prepend(iniPath);
        args.prepend(QStringLiteral("--config"));
    }
    const auto r = ConfigLoader::load(args, envOf(env));
    QVERIFY(r.error);
    QCOMPARE(r.error->kind, kind);
    const QString message = r.error->message();
    QVERIFY2(!message.contains(u'\n'), qPrintable(message));
    for (QString fragment : fragments) {
        fragment.replace(QStringLiteral("%INI%"), iniPath);
        QVERIFY2(message.contains(fragment),
                 qPrintable(QStringLiteral("\"%1\" not in: %2").arg(fragment, message)));
    }
}

void TestConfig::secretsRedactedInErrors()
{
    const auto r = ConfigLoader::load(
        {QStringLiteral("--db"), QStringLiteral("postgres://app:s3cret@db:99999/sluice")}, {});
    QVERIFY(r.error);
    QVERIFY2(!r.error->message().contains(QStringLiteral("s3cret")),
             qPrintable(r.error->message()));
    QVERIFY(r.error->message().contains(QStringLiteral("postgres://app:***@db:99999/sluice")));
    QCOMPARE(ConfigError::redactSecrets(QStringLiteral("unix:///r.sock?db=1&password=pw")),
             QStringLiteral("unix:///r.sock?db=1&password=***"));
}

void TestConfig::commaLists()
{
    const QList<double> expected{0.1, 0.5, 1};
    {
        const auto r = ConfigLoader::load(
            {QStringLiteral("--config"), writeIni("[metrics]\nhistogram_buckets = 0.1, 0.5, 1\n")},
            {});
        QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
        QCOMPARE(r.config.histogramBuckets, expected);
    }
    {
        const auto r =
            ConfigLoader::load({QStringLiteral("--config"),
                                writeIni("[metrics]\nhistogram_buckets = \"0.1, 0.5, 1\"\n")},
                               {});
        QVERIFY(!r.error);
        QCOMPARE(r.config.histogramBuckets, expected);
    }
    {
        // One bucket: QSettings gives a plain string, not a list.
        const auto r = ConfigLoader::load(
            {QStringLiteral("--config"), writeIni("[metrics]\nhistogram_buckets = 0.25\n")}, {});
        QVERIFY(!r.error);
        QCOMPARE(r.config.histogramBuckets, QList<double>{0.25});
    }
    {
        const auto r =
            ConfigLoader::load({}, envOf({QStringLiteral("SLUICE_HISTOGRAM_BUCKETS=0.1,0.5,1")}));
        QVERIFY(!r.error);
        QCOMPARE(r.config.histogramBuckets, expected);
    }
    {
        // An empty value at a higher level restores the built-in buckets.
        const auto r = ConfigLoader::load(
            {QStringLiteral("--config"), writeIni("[metrics]\nhistogram_buckets = 1,2\n"),
             QStringLiteral("--histogram-buckets=")},
            {});
        QVERIFY(!r.error);
        QVERIFY(r.config.histogramBuckets.isEmpty());
    }
    {
        // A scalar whose text has a comma: quoted, or rejoined from QSettings' list.
        for (const QByteArray &line : {QByteArray("db = \"postgres://u:a,b@h/d\"\n"),
                                       QByteArray("db = postgres://u:a,b@h/d\n")}) {
            const auto r = ConfigLoader::load(
                {QStringLiteral("--config"), writeIni("[storage]\n" + line)}, {});
            QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
            QCOMPARE(r.config.db.password, QStringLiteral("a,b"));
            QCOMPARE(r.config.db.databaseName, QStringLiteral("d"));
        }
    }
}

void TestConfig::flagEqualsForm()
{
    const QString ini = writeIni("[server]\nworkers = 2\n");
    const auto r = ConfigLoader::load(
        {QStringLiteral("--config=") + ini, QStringLiteral("--listen=0.0.0.0:9000"),
         QStringLiteral("--admin-listen=[::1]:9001"), QStringLiteral("--max-body-size=1MiB"),
         QStringLiteral("--redis=redis://127.0.0.1:6380/1")},
        {});
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    QCOMPARE(r.config.configFile, ini);
    QCOMPARE(r.config.workers, 2);
    QCOMPARE(r.config.listen.toString(), QStringLiteral("0.0.0.0:9000"));
    QCOMPARE(r.config.adminListen.toString(), QStringLiteral("[::1]:9001"));
    QCOMPARE(r.config.maxBodySize, qint64(1024 * 1024));
    QVERIFY(r.config.redis);
    QCOMPARE(r.config.redis->port, 6380);
    QCOMPARE(r.config.redis->db, 1);
}

void TestConfig::repeatedFlagLastWins()
{
    const auto r = ConfigLoader::load(
        {QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--workers=3")}, {});
    QVERIFY(!r.error);
    QCOMPARE(r.config.workers, 3);
}

void TestConfig::bools()
{
    {
        const auto r = ConfigLoader::load({QStringLiteral("--headless")}, {});
        QVERIFY(!r.error);
        QVERIFY(r.config.headless);
        QVERIFY(r.positional.isEmpty());
    }
    {
        // A bare boolean flag does not swallow the next argument.
        const auto r =
            ConfigLoader::load({QStringLiteral("--headless"), QStringLiteral("keys")}, {});
        QVERIFY(!r.error);
        QVERIFY(r.config.headless);
        QCOMPARE(r.positional, QStringList{QStringLiteral("keys")});
    }
    {
        const auto r = ConfigLoader::load({QStringLiteral("--headless=false")},
                                          envOf({QStringLiteral("SLUICE_HEADLESS=yes")}));
        QVERIFY(!r.error);
        QVERIFY(!r.config.headless);
    }
    const struct
    {
        const char *text;
        bool value;
    } cases[] = {{"true", true},   {"TRUE", true}, {"1", true},   {"yes", true}, {"on", true},
                 {"false", false}, {"0", false},   {"no", false}, {"Off", false}};
    for (const auto &c : cases) {
        const auto env = ConfigLoader::load(
            {}, envOf({QStringLiteral("SLUICE_HEADLESS=") + QLatin1String(c.text)}));
        QVERIFY(!env.error);
        QCOMPARE(env.config.headless, c.value);
        const auto ini = ConfigLoader::load(
            {QStringLiteral("--config"), writeIni(QByteArray("[server]\nheadless = ") + c.text)},
            {});
        QVERIFY(!ini.error);
        QCOMPARE(ini.config.headless, c.value);
    }
}

void TestConfig::positionalAndHelp()
{
    {
        const auto r = ConfigLoader::load(
            {QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("keys"),
             QStringLiteral("create"), QStringLiteral("--name"), QStringLiteral("alice"),
             QStringLiteral("--db=sqlite:///tmp/k.db"), QStringLiteral("-h")},
            {});
        QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
        QVERIFY(!r.help);  // -h after the subcommand is the subcommand's
        QCOMPARE(r.config.workers, 2);
        QCOMPARE(r.config.db.path, QStringLiteral("/tmp/k.db"));  // known flags still apply
        QCOMPARE(r.positional, (QStringList{QStringLiteral("keys"), QStringLiteral("create"),
                                            QStringLiteral("--name"), QStringLiteral("alice"),
                                            QStringLiteral("-h")}));
    }
    {
        const auto r = ConfigLoader::load({QStringLiteral("x"), QStringLiteral("--"),
                                           QStringLiteral("--listen"), QStringLiteral("-")},
                                          {});
        QVERIFY(!r.error);
        QCOMPARE(r.positional, (QStringList{QStringLiteral("x"), QStringLiteral("--listen"),
                                            QStringLiteral("-")}));
    }
    for (const char *flag : {"-h", "--help"}) {
        // Help is shown even when the rest of the configuration is wrong.
        const auto r = ConfigLoader::load({QStringLiteral("--bogus"), QLatin1String(flag)},
                                          envOf({QStringLiteral("SLUICE_LISTEN=nope")}));
        QVERIFY(r.help);
        QVERIFY(!r.error);
    }
    for (const char *flag : {"-v", "--version"}) {
        const auto r = ConfigLoader::load({QLatin1String(flag)}, {});
        QVERIFY(r.version);
        QVERIFY(!r.error);
    }
    {
        // Unknown SLUICE_* variables belong to later modules.
        const auto r = ConfigLoader::load(
            {}, envOf({QStringLiteral("SLUICE_OPENAI_API_KEY=sk-x"), QStringLiteral("SLUICE_=1")}));
        QVERIFY(!r.error);
    }
}

void TestConfig::emptyMeansNone()
{
    const QString ini =
        writeIni("[redis]\nredis = redis://127.0.0.1\n[storage]\nledger_db = sqlite:///l.db\n");
    {
        const auto r = ConfigLoader::load({QStringLiteral("--config"), ini}, {});
        QVERIFY(!r.error);
        QVERIFY(r.config.redis);
        QVERIFY(r.config.ledgerDb);
        QCOMPARE(r.config.effectiveLedgerDb().path, QStringLiteral("/l.db"));
    }
    {
        const auto r =
            ConfigLoader::load({QStringLiteral("--config"), ini, QStringLiteral("--ledger-db=")},
                               envOf({QStringLiteral("SLUICE_REDIS=")}));
        QVERIFY(!r.error);
        QVERIFY(!r.config.redis);
        QVERIFY(!r.config.ledgerDb);
    }
    {
        const auto r = ConfigLoader::load({}, envOf({QStringLiteral("SLUICE_CONFIG=")}));
        QVERIFY(!r.error);
        QVERIFY(r.config.configFile.isEmpty());
    }
}

void TestConfig::sqliteRelativeToCwd()
{
    const QString previous = QDir::currentPath();
    QVERIFY(QDir::setCurrent(m_tmp->path()));
    const QString ini = writeIni("[storage]\nledger_db = sqlite://data/ledger.db\n");
    const auto r = ConfigLoader::load(
        {QStringLiteral("--db"), QStringLiteral("sqlite://rel.db"), QStringLiteral("--config"),
         QFileInfo(ini).fileName(), QStringLiteral("--data-dir"), QStringLiteral("state")},
        {});
    QDir::setCurrent(previous);
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    const QString base = QDir(m_tmp->path()).canonicalPath();
    QCOMPARE(QFileInfo(r.config.db.path).dir().canonicalPath(), base);
    QCOMPARE(QFileInfo(r.config.db.path).fileName(), QStringLiteral("rel.db"));
    QVERIFY(r.config.ledgerDb);
    QVERIFY(r.config.ledgerDb->path.endsWith(QStringLiteral("/data/ledger.db")));
    QVERIFY(QDir::isAbsolutePath(r.config.ledgerDb->path));
    QVERIFY(QDir::isAbsolutePath(r.config.dataDir));
    QVERIFY(r.config.dataDir.endsWith(QStringLiteral("/state")));
    QVERIFY(QDir::isAbsolutePath(r.config.configFile));
}

void TestConfig::postgresUrl()
{
    QString expected;
    const auto url = DatabaseUrl::parse(
        QStringLiteral("postgres://app:p%40ss@db.internal:6543/sluice"), &expected);
    QVERIFY(url);
    QCOMPARE(url->driver, DatabaseUrl::Driver::Postgres);
    QCOMPARE(url->host, QStringLiteral("db.internal"));
    QCOMPARE(url->port, 6543);
    QCOMPARE(url->user, QStringLiteral("app"));
    QCOMPARE(url->password, QStringLiteral("p@ss"));
    QCOMPARE(url->databaseName, QStringLiteral("sluice"));
    QCOMPARE(url->redacted(), QStringLiteral("postgres://app:***@db.internal:6543/sluice"));
    QCOMPARE(url->driverName(), QStringLiteral("postgres"));

    const auto plain = DatabaseUrl::parse(QStringLiteral("postgresql://h/d"), nullptr);
    QVERIFY(plain);
    QCOMPARE(plain->port, 5432);
    QCOMPARE(plain->redacted(), QStringLiteral("postgres://h:5432/d"));

    QVERIFY(!DatabaseUrl::parse(QStringLiteral("postgres://h"), &expected));
    QVERIFY(!DatabaseUrl::parse(QStringLiteral("postgres:///d"), &expected));

    const auto r = ConfigLoader::load(
        {}, envOf({QStringLiteral("SLUICE_LEDGER_DB=postgres://u:pw@10.0.0.5/ledger")}));
    QVERIFY(!r.error);
    QVERIFY(r.config.ledgerDb);
    QCOMPARE(r.config.effectiveLedgerDb().databaseName, QStringLiteral("ledger"));
    QCOMPARE(r.config.db.driver, DatabaseUrl::Driver::Sqlite);
}

void TestConfig::redisUrl_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("transport");
    QTest::addColumn<QString>("hostOrPath");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("password");
    QTest::addColumn<int>("db");
    QTest::addColumn<QString>("redacted");  // for invalid rows: a fragment of *expected

    const int tcp = int(RedisUrl::Transport::Tcp);
    const int uds = int(RedisUrl::Transport::Unix);
    QTest::newRow("host") << "redis://cache" << true << tcp << "cache" << 6379 << "" << 0
                          << "redis://cache:6379/0";
    QTest::newRow("port db") << "redis://10.0.0.1:6380/3" << true << tcp << "10.0.0.1" << 6380 << ""
                             << 3 << "redis://10.0.0.1:6380/3";
    QTest::newRow("password") << "redis://:s%40cret@cache:6379/1" << true << tcp << "cache" << 6379
                              << "s@cret" << 1 << "redis://:***@cache:6379/1";
    QTest::newRow("ipv6") << "redis://[::1]:7000/" << true << tcp << "::1" << 7000 << "" << 0
                          << "redis://[::1]:7000/0";
    QTest::newRow("unix") << "unix:///run/redis.sock" << true << uds << "/run/redis.sock" << 6379
                          << "" << 0 << "unix:///run/redis.sock?db=0";
    QTest::newRow("unix db") << "unix:///run/redis.sock?db=2&password=pw" << true << uds
                             << "/run/redis.sock" << 6379 << "pw" << 2
                             << "unix:///run/redis.sock?db=2&password=***";
    QTest::newRow("rediss") << "rediss://cache" << false << 0 << "" << 0 << "" << 0
                            << "TLS is not supported by hiredis 0.14";
    QTest::newRow("no host") << "redis://" << false << 0 << "" << 0 << "" << 0 << "redis://";
    QTest::newRow("port 0") << "redis://h:0" << false << 0 << "" << 0 << "" << 0 << "port";
    QTest::newRow("port big") << "redis://h:70000" << false << 0 << "" << 0 << "" << 0
                              << "redis://";
    QTest::newRow("bad db") << "redis://h/x" << false << 0 << "" << 0 << "" << 0
                            << "database number";
    QTest::newRow("user no pw") << "redis://secret@h" << false << 0 << "" << 0 << "" << 0
                                << "leading colon";
    QTest::newRow("unix relative")
        << "unix://rel/x.sock" << false << 0 << "" << 0 << "" << 0 << "unix:///absolute";
    QTest::newRow("unix bad param")
        << "unix:///x.sock?timeout=1" << false << 0 << "" << 0 << "" << 0 << "query parameters";
    QTest::newRow("http") << "http://h" << false << 0 << "" << 0 << "" << 0 << "unix://";
    QTest::newRow("bare host") << "cache:6379" << false << 0 << "" << 0 << "" << 0 << "redis://";
}

void TestConfig::redisUrl()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(int, transport);
    QFETCH(QString, hostOrPath);
    QFETCH(int, port);
    QFETCH(QString, password);
    QFETCH(int, db);
    QFETCH(QString, redacted);

    QString expected;
    const auto url = RedisUrl::parse(text, &expected);
    QCOMPARE(url.has_value(), valid);
    if (!valid) {
        QVERIFY2(expected.contains(redacted), qPrintable(expected));
        return;
    }
    QCOMPARE(int(url->transport), transport);
    QCOMPARE(url->transport == RedisUrl::Transport::Tcp ? url->host : url->socketPath, hostOrPath);
    if (url->transport == RedisUrl::Transport::Tcp)
        QCOMPARE(url->port, port);
    QCOMPARE(url->password, password);
    QCOMPARE(url->db, db);
    QCOMPARE(url->redacted(), redacted);
}

void TestConfig::hostPort_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("normalized");  // empty: invalid

    QTest::newRow("v4") << "127.0.0.1:8081"
                        << "127.0.0.1:8081";
    QTest::newRow("localhost") << "localhost:80"
                               << "127.0.0.1:80";
    QTest::newRow("any") << "*:0"
                         << "0.0.0.0:0";
    QTest::newRow("max port") << "10.1.2.3:65535"
                              << "10.1.2.3:65535";
    QTest::newRow("v6 loopback") << "[::1]:8081"
                                 << "[::1]:8081";
    QTest::newRow("v6 any") << "[::]:9000"
                            << "[::]:9000";
    QTest::newRow("v6 long") << "[FE80:0:0:0:0:0:0:1]:1"
                             << "[fe80::1]:1";
    QTest::newRow("spaces") << " 127.0.0.1:1 "
                            << "127.0.0.1:1";
    QTest::newRow("v6 unbracketed") << "::1:8081"
                                    << "";
    QTest::newRow("name") << "example.com:80"
                          << "";
    QTest::newRow("no port") << "127.0.0.1"
                             << "";
    QTest::newRow("empty port") << "127.0.0.1:"
                                << "";
    QTest::newRow("negative port") << "127.0.0.1:-1"
                                   << "";
    QTest::newRow("port 70000") << "127.0.0.1:70000"
                                << "";
    QTest::newRow("no colon after bracket") << "[::1]8081"
                                            << "";
    QTest::newRow("v4 in brackets") << "[127.0.0.1]:80"
                                    << "";
    QTest::newRow("octal-looking") << "010.0.0.1:80"
                                   << "";
    QTest::newRow("short v4") << "127.1:80"
                              << "";
    QTest::newRow("no host") << ":80"
                             << "";
    QTest::newRow("port only") << "8081"
                               << "";
}

void TestConfig::hostPort()
{
    QFETCH(QString, text);
    QFETCH(QString, normalized);

    QString expected;
    const auto hp = HostPort::parse(text, &expected);
    QCOMPARE(hp.has_value(), !normalized.isEmpty());
    if (!hp) {
        QVERIFY(expected.contains(QStringLiteral("PORT")));
        return;
    }
    QCOMPARE(hp->toString(), normalized);
    QVERIFY(!hp->address().isNull());
    // Round trip.
    QCOMPARE(HostPort::parse(hp->toString(), nullptr), hp);
    if (text.startsWith(QStringLiteral("[::1]")))
        QCOMPARE(hp->address(), QHostAddress(QHostAddress::LocalHostIPv6));
}

void TestConfig::byteSizes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("bytes");  // -1: invalid

    QTest::newRow("plain") << "1048576" << qint64(1048576);
    QTest::newRow("b") << "512B" << qint64(512);
    QTest::newRow("KiB") << "4KiB" << qint64(4096);
    QTest::newRow("MiB") << "10MiB" << qint64(10 << 20);
    QTest::newRow("space") << "10 MiB" << qint64(10 << 20);
    QTest::newRow("GiB fraction") << "1.5GiB" << qint64(1536) * 1024 * 1024;
    QTest::newRow("k") << "64k" << qint64(65536);
    QTest::newRow("M") << "2M" << qint64(2 << 20);
    QTest::newRow("G") << "1G" << (qint64(1) << 30);
    QTest::newRow("KB") << "1KB" << qint64(1000);
    QTest::newRow("mb lower") << "3mb" << qint64(3000000);
    QTest::newRow("GB") << "2GB" << qint64(2000000000);
    QTest::newRow("zero") << "0" << qint64(0);
    QTest::newRow("empty") << "" << qint64(-1);
    QTest::newRow("negative") << "-1" << qint64(-1);
    QTest::newRow("fraction of byte") << "1.5" << qint64(-1);
    QTest::newRow("unknown suffix") << "10 parsecs" << qint64(-1);
    QTest::newRow("exponent") << "1e3" << qint64(-1);
    QTest::newRow("suffix only") << "MiB" << qint64(-1);
    QTest::newRow("huge") << "99999999999GiB" << qint64(-1);
}

void TestConfig::byteSizes()
{
    QFETCH(QString, text);
    QFETCH(qint64, bytes);
    QString expected;
    const auto n = ConfigValues::parseByteSize(text, &expected);
    QCOMPARE(n.has_value(), bytes >= 0);
    if (n)
        QCOMPARE(*n, bytes);
    else
        QVERIFY(expected.contains(QStringLiteral("MiB")));
}

void TestConfig::seconds_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<double>("seconds");  // -1: invalid (with or without allowZero)

    QTest::newRow("int") << "30" << 30.0;
    QTest::newRow("fraction") << "0.5" << 0.5;
    QTest::newRow("leading dot") << ".25" << 0.25;
    QTest::newRow("s") << "2s" << 2.0;
    QTest::newRow("ms") << "250ms" << 0.25;
    QTest::newRow("spaced ms") << "250 ms" << 0.25;
    QTest::newRow("inf") << "inf" << -1.0;
    QTest::newRow("nan") << "nan" << -1.0;
    QTest::newRow("negative") << "-1" << -1.0;
    QTest::newRow("exponent") << "1e3" << -1.0;
    QTest::newRow("word") << "soon" << -1.0;
    QTest::newRow("minutes") << "5m" << -1.0;
}

void TestConfig::seconds()
{
    QFETCH(QString, text);
    QFETCH(double, seconds);
    const auto s = ConfigValues::parseSeconds(text, false, nullptr);
    QCOMPARE(s.has_value(), seconds >= 0);
    if (s)
        QCOMPARE(*s, seconds);
    QVERIFY(!ConfigValues::parseSeconds(QStringLiteral("0"), false, nullptr));
    QCOMPARE(ConfigValues::parseSeconds(QStringLiteral("0"), true, nullptr), 0.0);
}

void TestConfig::extraSections()
{
    ConfigLoader loader;
    loader.addExtraSection(QStringLiteral("tier."));
    loader.addExtraSection(QStringLiteral("cost"));
    const QString ini = writeIni(
        "[server]\nworkers = 2\n[tier.pro]\nrpm = 600\nmodels = a, b\n[cost]\n"
        "gpt-4o = \"5,15\"\n");
    const auto r = loader.run({QStringLiteral("--config"), ini}, {});
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    QCOMPARE(r.config.workers, 2);
    QCOMPARE(r.config.extraSections.keys(),
             (QStringList{QStringLiteral("cost"), QStringLiteral("tier.pro")}));
    QCOMPARE(r.config.extraSections[QStringLiteral("tier.pro")][QStringLiteral("rpm")],
             QVariant(QStringLiteral("600")));
    QCOMPARE(
        r.config.extraSections[QStringLiteral("tier.pro")][QStringLiteral("models")].toStringList(),
        (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(r.config.extraSections[QStringLiteral("cost")][QStringLiteral("gpt-4o")],
             QVariant(QStringLiteral("5,15")));

    for (const QByteArray &bad : {QByteArray("[tier.]\nx = 1\n"), QByteArray("[tiers]\nx = 1\n"),
                                  QByteArray("[costs]\nx = 1\n")}) {
        const auto e = loader.run({QStringLiteral("--config"), writeIni(bad)}, {});
        QVERIFY(e.error);
        QCOMPARE(e.error->kind, ConfigError::Kind::UnknownSection);
    }
    const auto slash =
        loader.run({QStringLiteral("--config"), writeIni("[tier.pro]\na/b = 1\n")}, {});
    QVERIFY(slash.error);
    QCOMPARE(slash.error->kind, ConfigError::Kind::UnknownKey);
}

void TestConfig::exampleIniLoads()
{
    const QString path = QStringLiteral(SLUICE_SOURCE_DIR "/resources/sluice.example.ini");
    QVERIFY2(QFileInfo::exists(path), qPrintable(path));
    const auto r = ConfigLoader::load({QStringLiteral("--config"), path}, {});
    QVERIFY2(!r.error, r.error ? qPrintable(r.error->message()) : "");
    const auto defaults = ConfigLoader::load({}, {});
    // Everything is commented out: the file changes nothing.
    GatewayConfig c = r.config;
    c.configFile.clear();
    QCOMPARE(c.listen, defaults.config.listen);
    QCOMPARE(c.db, defaults.config.db);
    QCOMPARE(c.summary(), defaults.config.summary());

    // Uncommenting every key at its shown default must also load and give the defaults.
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray uncommented;
    for (QByteArray line : f.readAll().split('\n')) {
        // Commented keys and commented sections ([upstream.NAME] examples) are switched on.
        static const QRegularExpression commentedKey(QStringLiteral("^;([a-z_]+ =|\\[)"));
        if (commentedKey.match(QString::fromUtf8(line)).hasMatch()) {
            line = line.mid(1);
            // Keys whose defaults depend on the machine stay commented.
            if (line.startsWith("workers ") || line.startsWith("data_dir ") ||
                line.startsWith("db "))
                continue;
        }
        uncommented += line + '\n';
    }
    const auto all = ConfigLoader::load({QStringLiteral("--config"), writeIni(uncommented)}, {});
    QVERIFY2(!all.error, all.error ? qPrintable(all.error->message()) : "");
    QCOMPARE(all.config.maxBodySize, defaults.config.maxBodySize);
    QCOMPARE(all.config.memoryLimit, defaults.config.memoryLimit);
    QCOMPARE(all.config.headerTimeout, defaults.config.headerTimeout);
    QCOMPARE(all.config.dbSlowThreshold, defaults.config.dbSlowThreshold);
    QCOMPARE(all.config.adminListen, defaults.config.adminListen);
}

void TestConfig::everyOptionDocumented()
{
    QFile example(QStringLiteral(SLUICE_SOURCE_DIR "/resources/sluice.example.ini"));
    QFile docs(QStringLiteral(SLUICE_SOURCE_DIR "/docs/configuration.md"));
    QVERIFY(example.open(QIODevice::ReadOnly));
    QVERIFY(docs.open(QIODevice::ReadOnly));
    const QString exampleText = QString::fromUtf8(example.readAll());
    const QString docsText = QString::fromUtf8(docs.readAll());
    for (const ConfigOption &opt : ConfigLoader::options()) {
        QVERIFY2(docsText.contains(u'`' + opt.flag), qPrintable(opt.flag));
        QVERIFY2(docsText.contains(u'`' + opt.envVar + u'`'), qPrintable(opt.envVar));
        if (opt.iniKey.isEmpty())
            continue;
        QVERIFY2(exampleText.contains(u';' + opt.iniKey + QStringLiteral(" =")),
                 qPrintable(opt.iniKey));
        const qsizetype sectionAt = exampleText.indexOf(u'[' + opt.section + u']');
        QVERIFY2(sectionAt >= 0 && sectionAt < exampleText.indexOf(u';' + opt.iniKey + u' '),
                 qPrintable(opt.iniKey));
    }
}

void TestConfig::helpText()
{
    const QString raw = ConfigLoader::helpText();
    for (const QString &line : raw.split(u'\n'))
        QVERIFY2(line.size() <= 100, qPrintable(line));
    const QString help = raw.simplified();  // a long default may wrap
    for (const ConfigOption &opt : ConfigLoader::options()) {
        QVERIFY2(help.contains(opt.flag), qPrintable(opt.flag));
        QVERIFY2(help.contains(opt.envVar), qPrintable(opt.envVar));
        QVERIFY2(help.contains(QStringLiteral("Default: ") + opt.defaultText),
                 qPrintable(opt.defaultText));
    }
    QVERIFY(help.contains(QStringLiteral("--help")));
    QVERIFY(help.contains(QStringLiteral("--version")));
}

void TestConfig::adminTls()
{
    // Loopback addresses need no TLS.
    for (const QString &loopback : {QStringLiteral("127.0.0.1:8082"), QStringLiteral("localhost:0"),
                                    QStringLiteral("[::1]:8082")}) {
        const auto r = ConfigLoader::load({QStringLiteral("--admin-listen"), loopback}, {});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message() : loopback));
        QVERIFY(r.config.adminTlsCertificate.isEmpty());
    }
    // Beyond loopback without TLS: refused, naming the setting where it was written.
    auto r = ConfigLoader::load({QStringLiteral("--admin-listen=*:8082")}, {});
    QVERIFY(r.error);
    QCOMPARE(r.error->kind, ConfigError::Kind::InvalidValue);
    QVERIFY2(r.error->message().contains(QLatin1String("--admin-listen")) &&
                 r.error->message().contains(QLatin1String("0.0.0.0:8082")) &&
                 r.error->message().contains(QLatin1String("admin_tls_certificate")),
             qPrintable(r.error->message()));
    QProcessEnvironment env;
    env.insert(QStringLiteral("SLUICE_ADMIN_LISTEN"), QStringLiteral("10.0.0.5:8082"));
    r = ConfigLoader::load({}, env);
    QVERIFY(r.error);
    QVERIFY2(r.error->message().contains(QLatin1String("SLUICE_ADMIN_LISTEN")),
             qPrintable(r.error->message()));
    // With both files it is accepted; paths become absolute.
    env.insert(QStringLiteral("SLUICE_ADMIN_TLS_CERTIFICATE"), QStringLiteral("cert.pem"));
    env.insert(QStringLiteral("SLUICE_ADMIN_TLS_KEY"), QStringLiteral("/etc/sluice/key.pem"));
    r = ConfigLoader::load({}, env);
    QVERIFY2(!r.error, qPrintable(r.error ? r.error->message() : QString()));
    QCOMPARE(r.config.adminTlsCertificate,
             QDir::current().absoluteFilePath(QStringLiteral("cert.pem")));
    QCOMPARE(r.config.adminTlsKey, QStringLiteral("/etc/sluice/key.pem"));
    QVERIFY(r.config.summary().contains(QLatin1String("10.0.0.5:8082 (https")));
    QVERIFY(!r.config.summary().contains(QLatin1String("key.pem")));
    // One file without the other is refused, naming the one that was set.
    r = ConfigLoader::load({QStringLiteral("--admin-tls-certificate=/x/cert.pem")}, {});
    QVERIFY(r.error);
    QVERIFY2(r.error->message().contains(QLatin1String("--admin-tls-certificate")) &&
                 r.error->message().contains(QLatin1String("admin_tls_key")),
             qPrintable(r.error->message()));
    r = ConfigLoader::load({QStringLiteral("--admin-tls-key=/x/key.pem")}, {});
    QVERIFY(r.error);
    QVERIFY2(r.error->message().contains(QLatin1String("--admin-tls-key")),
             qPrintable(r.error->message()));
    // An empty value means none, so the environment can switch the file's TLS off again...
    QProcessEnvironment off;
    off.insert(QStringLiteral("SLUICE_ADMIN_TLS_CERTIFICATE"), QString());
    off.insert(QStringLiteral("SLUICE_ADMIN_TLS_KEY"), QString());
    r = ConfigLoader::load({}, off);
    QVERIFY(!r.error);
    QVERIFY(r.config.adminTlsCertificate.isEmpty());
    // ... and --admin-ca is a path like the others.
    r = ConfigLoader::load({QStringLiteral("--admin-ca=~/ca.pem")}, {});
    QVERIFY(!r.error);
    QCOMPARE(r.config.adminCa, QDir::homePath() + QStringLiteral("/ca.pem"));
}

void TestConfig::connectUrl()
{
    // Not set: local mode.
    QVERIFY(ConfigLoader::load({}, {}).config.connect.isEmpty());
    // http and https URLs with a host, from the flag or the environment.
    auto r = ConfigLoader::load(
        {QStringLiteral("--connect"), QStringLiteral("http://10.0.0.5:8082")}, {});
    QVERIFY(!r.error);
    QCOMPARE(r.config.connect, QStringLiteral("http://10.0.0.5:8082"));
    r = ConfigLoader::load({QStringLiteral("--connect=https://gw.example.com")}, {});
    QVERIFY(!r.error);
    QCOMPARE(r.config.connect, QStringLiteral("https://gw.example.com"));
    QProcessEnvironment env;
    env.insert(QStringLiteral("SLUICE_CONNECT"), QStringLiteral("http://127.0.0.1:8082"));
    r = ConfigLoader::load({}, env);
    QVERIFY(!r.error);
    QCOMPARE(r.config.connect, QStringLiteral("http://127.0.0.1:8082"));
    // The flag wins over the environment.
    r = ConfigLoader::load({QStringLiteral("--connect=http://127.0.0.2:8082")}, env);
    QCOMPARE(r.config.connect, QStringLiteral("http://127.0.0.2:8082"));
    // Anything else is a usage error that names --connect.
    for (const QString &bad :
         {QStringLiteral("ftp://h:21"), QStringLiteral("127.0.0.1:8082"), QStringLiteral("http://"),
          QStringLiteral("http://h:8082/?a=b"), QStringLiteral("http://user:pw@h:8082")}) {
        r = ConfigLoader::load({QStringLiteral("--connect"), bad}, {});
        QVERIFY2(r.error, qPrintable(bad));
        QCOMPARE(r.error->kind, ConfigError::Kind::InvalidValue);
        QVERIFY2(r.error->message().contains(QLatin1String("--connect")),
                 qPrintable(r.error->message()));
        QVERIFY(!r.error->message().contains(QLatin1String(":pw@")));
    }
    r = ConfigLoader::load({QStringLiteral("--connect")}, {});
    QVERIFY(r.error);
    QCOMPARE(r.error->kind, ConfigError::Kind::MissingValue);
    // --conect is a typo of it.
    r = ConfigLoader::load({QStringLiteral("--conect=http://h")}, {});
    QVERIFY(r.error);
    QVERIFY2(r.error->message().contains(QLatin1String("--connect")),
             qPrintable(r.error->message()));
}

void TestConfig::summaryRedacts()
{
    const auto r = ConfigLoader::load({QStringLiteral("--redis=redis://:topsecret@127.0.0.1"),
                                       QStringLiteral("--db=postgres://u:alsosecret@h/d")},
                                      {});
    QVERIFY(!r.error);
    const QString summary = r.config.summary();
    QVERIFY(!summary.contains(QStringLiteral("secret")));
    QVERIFY(summary.contains(QStringLiteral("redis://:***@127.0.0.1:6379/0")));
    QVERIFY(summary.contains(QStringLiteral("listen 127.0.0.1:8081")));
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
