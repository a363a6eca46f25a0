// Integration tests: the real sluice binary in a child process, against SQLite and PostgreSQL,
// checked through its HTTP endpoints, its exit codes and its log.

#include "GatewayProcess.h"
#include "PgTestDatabase.h"
#include "TestFixtures.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QRegularExpression>
#include <QSet>
#include <QSqlDatabase>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>
#include <cmath>
#include <memory>
#include <optional>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
const QByteArray kVersion = QByteArrayLiteral(SLUICE_VERSION);

// How long a gateway may take to come up; generous for a loaded CI machine.
constexpr int kStartTimeoutMs = 15000;

bool isRequestIdHex(const QByteArray &id)
{
    static const QRegularExpression re(QStringLiteral("^[0-9a-f]{32}$"));
    return re.match(QString::fromLatin1(id)).hasMatch();
}

// ---- Prometheus text format, just enough to look samples up --------------------------------

struct MetricSample
{
    QByteArray name;
    QMap<QByteArray, QByteArray> labels;
    double value = 0;
};

struct MetricsText
{
    QList<MetricSample> samples;
    QMap<QByteArray, QByteArray> types;  // family name -> counter, gauge, histogram, ...
    QString error;

    // Samples of that name whose labels include `labels`.
    QList<MetricSample> select(const QByteArray &name,
                               const QMap<QByteArray, QByteArray> &labels = {}) const
    {
        QList<MetricSample> out;
        for (const MetricSample &s : samples) {
            if (s.name != name)
                continue;
            bool match = true;
            for (auto it = labels.cbegin(); it != labels.cend() && match; ++it)
                match = s.labels.value(it.key(), QByteArray()) == it.value() &&
                        s.labels.contains(it.key());
            if (match)
                out.append(s);
        }
        return out;
    }
    // The value of the one sample that matches; nullopt when none or several do.
    std::optional<double> value(const QByteArray &name,
                                const QMap<QByteArray, QByteArray> &labels = {}) const
    {
        const QList<MetricSample> found = select(name, labels);
        if (found.size() != 1)
            return std::nullopt;
        return found.first().value;
    }
};

double parseMetricValue(const QByteArray &text, bool *ok)
{
    *ok = true;
    if (text == "+Inf")
        return INFINITY;
    if (text == "-Inf")
        return -INFINITY;
    if (text == "NaN")
        return NAN;
    return text.toDouble(ok);
}

MetricsText parseMetrics(const QByteArray &text)
{
    MetricsText m;
    const QList<QByteArray> lines = text.split('\n');
    for (const QByteArray &line : lines) {
        if (line.isEmpty())
            continue;
        if (line.startsWith('#')) {
            const QList<QByteArray> words = line.split(' ');
            if (words.size() >= 4 && words[1] == "TYPE")
                m.types.insert(words[2], words[3]);
            continue;
        }
        MetricSample s;
        qsizetype i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ')
            ++i;
        s.name = line.left(i);
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const qsizetype eq = line.indexOf('=', i);
                if (eq < 0 || eq + 1 >= line.size() || line[eq + 1] != '"') {
                    m.error = QStringLiteral("bad labels in: ") + QString::fromUtf8(line);
                    return m;
                }
                const QByteArray label = line.mid(i, eq - i);
                QByteArray value;
                qsizetype j = eq + 2;
                for (; j < line.size() && line[j] != '"'; ++j) {
                    if (line[j] == '\\' && j + 1 < line.size()) {
                        ++j;
                        value += line[j] == 'n' ? '\n' : line[j];
                    } else {
                        value += line[j];
                    }
                }
                s.labels.insert(label, value);
                i = j + 1;
                if (i < line.size() && line[i] == ',')
                    ++i;
            }
            ++i;  // '}'
        }
        const QList<QByteArray> rest = line.mid(i).trimmed().split(' ');
        bool ok = false;
        s.value = parseMetricValue(rest.first(), &ok);
        if (!ok || s.name.isEmpty()) {
            m.error = QStringLiteral("bad sample line: ") + QString::fromUtf8(line);
            return m;
        }
        m.samples.append(s);
    }
    return m;
}

using Labels = QMap<QByteArray, QByteArray>;

}  // namespace

class TestGateway : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void probes_data() { backends(); }
    void probes();
    void healthReport_data() { backends(); }
    void healthReport();
    void errorsAndRequestIds_data() { backends(); }
    void errorsAndRequestIds();
    void startupProbeBeforeFirstHealthRound_data() { backends(); }
    void startupProbeBeforeFirstHealthRound();
    void metrics_data() { backends(); }
    void metrics();
    void healthComponentNames_data();
    void healthComponentNames();
    void databaseGoesAway();
    void hungDatabaseCheck();

    void configErrorsExit2_data();
    void configErrorsExit2();
    void helpAndVersion_data();
    void helpAndVersion();
    void precedence_data();
    void precedence();

    void startFailuresExit1_data();
    void startFailuresExit1();
    void portInUseExit1();
    void secondInstanceOnSamePort();

    void sigtermDrainsAndExits0_data() { backends(); }
    void sigtermDrainsAndExits0();
    void drainAnswersInFlightRequest();
    void secondSigterm_data();
    void secondSigterm();

    void jsonLogs_data() { backends(); }
    void jsonLogs();

private:
    static void backends();
    QProcessEnvironment environment() const;
    QStringList baseArgs() const;
    // Appends --db for `backend` ("sqlite": the default file in the data dir; "postgres": a
    // fresh database). False (and the test failed) when PostgreSQL is not available.
    bool addBackend(const QString &backend, QStringList *args);
    bool createPgDatabase();
    // start + waitForListening + waitForStartupComplete; on false see gw.why().
    static bool launch(GatewayProcess &gw, const QStringList &args);
    QString subst(QString text) const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
};

// Adds the data row's backend to `args`; when that fails (addBackend() has already failed the
// test with the reason), returns from the test function.
#define BACKEND_ARGS(args)                 \
    do {                                   \
        QFETCH(QString, backend);          \
        if (!addBackend(backend, &(args))) \
            return;                        \
    } while (false)

void TestGateway::initTestCase()
{
    QVERIFY2(QFileInfo(kBinary).isExecutable(), qPrintable(kBinary + " is not executable"));
    QVERIFY2(QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")),
             "the QPSQL driver is missing (libqt6sql6-psql)");
}

void TestGateway::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestGateway::cleanup()
{
    m_pg.reset();  // drops the database
    m_dir.reset();
}

void TestGateway::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

QProcessEnvironment TestGateway::environment() const
{
    // Nothing of the user's home may be read or written: the default data dir lives under it.
    QProcessEnvironment env = GatewayProcess::cleanEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir->path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir->path() + QStringLiteral("/xdg"));
    // The admin listener takes a free port too, so tests never collide on 8082.
    env.insert(QStringLiteral("SLUICE_ADMIN_LISTEN"), QStringLiteral("127.0.0.1:0"));
    // The two default upstreams point at a closed local port: their health components answer
    // at once (unhealthy, not critical) instead of waiting on a network the tests do not have.
    env.insert(QStringLiteral("SLUICE_OPENAI_BASE_URL"), QStringLiteral("http://127.0.0.1:1/v1"));
    env.insert(QStringLiteral("SLUICE_ANTHROPIC_BASE_URL"), QStringLiteral("http://127.0.0.1:1"));
    return env;
}

QStringList TestGateway::baseArgs() const
{
    return {QStringLiteral("--headless"),
            QStringLiteral("--listen"),
            QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--data-dir"),
            m_dir->path() + QStringLiteral("/data"),
            QStringLiteral("--workers"),
            QStringLiteral("2"),
            QStringLiteral("--drain-timeout"),
            QStringLiteral("5")};
}

bool TestGateway::createPgDatabase()
{
    m_pg = PgTestDatabase::createForTest(QStringLiteral("sluice_it"));
    return m_pg != nullptr;
}

bool TestGateway::addBackend(const QString &backend, QStringList *args)
{
    if (backend == QLatin1String("sqlite"))
        return true;
    if (!createPgDatabase())
        return false;
    *args << QStringLiteral("--db") << m_pg->url();
    return true;
}

bool TestGateway::launch(GatewayProcess &gw, const QStringList &args)
{
    return gw.start(args) && gw.waitForListening(kStartTimeoutMs) &&
           gw.waitForStartupComplete(kStartTimeoutMs);
}

QString TestGateway::subst(QString text) const
{
    return text.replace(QLatin1String("@DIR@"), m_dir->path())
        .replace(QLatin1String("@INI@"), m_dir->path() + QStringLiteral("/sluice.ini"));
}

// ---- endpoints -----------------------------------------------------------------------------

void TestGateway::probes()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());

    struct Probe
    {
        const char *path;
        const char *status;
    };
    for (const Probe &p : {Probe{"/health/live", "alive"}, Probe{"/health/startup", "started"},
                           Probe{"/health/ready", "ready"}}) {
        const HttpReply r = httpGet(gw.port(), p.path);
        QVERIFY2(r.status == 200, p.path + QByteArray(": ") + r.describe());
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.header("Cache-Control"), QByteArray("no-store"));
        QCOMPARE(r.json(), QJsonObject({{QStringLiteral("status"), QLatin1String(p.status)}}));
        QCOMPARE(r.headerCount("X-Request-Id"), 1);
        QVERIFY2(isRequestIdHex(r.header("X-Request-Id")), r.header("X-Request-Id"));
        QCOMPARE(r.header("Content-Length").toInt(), r.body.size());
        QVERIFY(!r.header("Date").isEmpty());
    }

    // HEAD: the GET's headers without its body.
    const HttpReply head = httpRequest(gw.port(), "HEAD", "/health/live");
    QCOMPARE(head.status, 200);
    QVERIFY(head.body.isEmpty());
    QCOMPARE(head.header("Content-Length"),
             QByteArray::number(QByteArray(R"({"status":"alive"})").size()));
    QVERIFY(isRequestIdHex(head.header("X-Request-Id")));

    // Query strings do not change the route.
    QCOMPARE(httpGet(gw.port(), "/health/live?probe=kubelet").status, 200);
}

void TestGateway::healthReport()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    QFETCH(QString, backend);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());

    const HttpReply r = httpGet(gw.port(), "/health");
    QVERIFY2(r.status == 200, r.describe());
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(r.header("Cache-Control"), QByteArray("no-store"));
    QVERIFY(isRequestIdHex(r.header("X-Request-Id")));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(r.body, &parseError);
    QVERIFY2(doc.isObject(), qPrintable(parseError.errorString() + ": " + r.body));
    const QJsonObject root = doc.object();

    QStringList keys = root.keys();
    keys.sort();
    QCOMPARE(keys, QStringList({"components", "status", "timestamp", "uptime_seconds", "version"}));
    QCOMPARE(root.value("version").toString(), QString::fromLatin1(kVersion));
    QVERIFY(root.value("uptime_seconds").isDouble());
    const double uptime = root.value("uptime_seconds").toDouble();
    QVERIFY2(uptime >= 0 && uptime < 120, qPrintable(QString::number(uptime)));
    const QDateTime timestamp =
        QDateTime::fromString(root.value("timestamp").toString(), Qt::ISODateWithMs);
    QVERIFY2(timestamp.isValid(), qPrintable(root.value("timestamp").toString()));
    QVERIFY(qAbs(timestamp.secsTo(QDateTime::currentDateTimeUtc())) < 120);

    const QJsonArray components = root.value("components").toArray();
    QStringList names;
    int worst = 0;  // 0 healthy, 1 degraded, 2 unhealthy, the overall status rule
    const QStringList statuses = {"healthy", "degraded", "unhealthy"};
    for (const QJsonValue &v : components) {
        const QJsonObject c = v.toObject();
        QStringList ckeys = c.keys();
        ckeys.sort();
        QCOMPARE(ckeys, QStringList({"checked_at", "critical", "latency_ms", "message", "name",
                                     "status", "type"}));
        QVERIFY(c.value("critical").isBool());
        QVERIFY(c.value("latency_ms").isDouble());
        QVERIFY(c.value("latency_ms").toDouble() >= 0);
        QVERIFY(c.value("message").isString());
        QVERIFY2(
            QDateTime::fromString(c.value("checked_at").toString(), Qt::ISODateWithMs).isValid(),
            qPrintable(c.value("checked_at").toString()));
        const int s = int(statuses.indexOf(c.value("status").toString()));
        QVERIFY2(s >= 0, qPrintable(c.value("status").toString()));
        worst = qMax(worst, (!c.value("critical").toBool() && s == 2) ? 1 : s);
        names << c.value("name").toString();
    }
    QCOMPARE(names,
             QStringList({"database", "disk", "memory", "upstream:openai", "upstream:anthropic"}));
    QCOMPARE(root.value("status").toString(), statuses.at(worst));

    const QJsonObject database = components.at(0).toObject();
    QCOMPARE(database.value("type").toString(), QStringLiteral("database"));
    QCOMPARE(database.value("status").toString(), QStringLiteral("healthy"));
    QCOMPARE(database.value("critical").toBool(), true);
    const QString dbMessage = database.value("message").toString();
    if (backend == QLatin1String("sqlite"))
        QCOMPARE(dbMessage, QStringLiteral("sqlite ok"));
    else
        QVERIFY2(dbMessage.startsWith(QLatin1String("postgres 127.0.0.1:")) &&
                     dbMessage.endsWith(QLatin1String(" ok")),
                 qPrintable(dbMessage));

    const QJsonObject disk = components.at(1).toObject();
    QCOMPARE(disk.value("type").toString(), QStringLiteral("disk"));
    QCOMPARE(disk.value("critical").toBool(), true);
    QVERIFY2(disk.value("message").toString().contains(QLatin1String("free")),
             qPrintable(disk.value("message").toString()));

    const QJsonObject memory = components.at(2).toObject();
    QCOMPARE(memory.value("type").toString(), QStringLiteral("memory"));
    QCOMPARE(memory.value("critical").toBool(), false);
    QCOMPARE(memory.value("status").toString(), QStringLiteral("healthy"));
    QVERIFY2(memory.value("message").toString().contains(QLatin1String("of 2048 MiB limit")),
             qPrintable(memory.value("message").toString()));

    // The overall status decides the code: 200 for healthy and degraded.
    QCOMPARE(httpGet(gw.port(), "/health").status, worst == 2 ? 503 : 200);
}

void TestGateway::errorsAndRequestIds()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const quint16 port = gw.port();

    // Unknown path: 404 in the OpenAI error shape; the query string is not echoed.
    HttpReply r = httpGet(port, "/nope?x=1");
    QVERIFY2(r.status == 404, r.describe());
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    QJsonObject error = r.json().value("error").toObject();
    QCOMPARE(error.value("code").toString(), QStringLiteral("not_found"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
    QVERIFY(error.contains("param"));
    QCOMPARE(error.value("message").toString(), QStringLiteral("no route for /nope"));
    QVERIFY(isRequestIdHex(r.header("X-Request-Id")));

    // Wrong method: 405 with Allow.
    struct WrongMethod
    {
        const char *method;
        const char *path;
    };
    for (const WrongMethod &w : {WrongMethod{"POST", "/health"}, WrongMethod{"DELETE", "/metrics"},
                                 WrongMethod{"PUT", "/health/ready"}}) {
        r = httpRequest(port, w.method, w.path, {}, "{}");
        QVERIFY2(r.status == 405, w.method + QByteArray(" ") + w.path + ": " + r.describe());
        QCOMPARE(r.header("Allow"), QByteArray("GET, HEAD"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        error = r.json().value("error").toObject();
        QCOMPARE(error.value("code").toString(), QStringLiteral("method_not_allowed"));
        QVERIFY(error.value("message").toString().contains(QLatin1String(w.method)));
        QVERIFY(isRequestIdHex(r.header("X-Request-Id")));
    }

    // X-Request-Id: kept when sane, on every kind of answer; replaced otherwise.
    const QByteArray sane = "Client-req_42.7:a";
    const QByteArray longest(128, 'a');
    for (const QByteArray &path : {QByteArray("/health/live"), QByteArray("/nope"),
                                   QByteArray("/health"), QByteArray("/metrics")}) {
        r = httpGet(port, path, {{"X-Request-Id", sane}});
        QVERIFY2(r.ok(), r.describe());
        QCOMPARE(r.headerCount("X-Request-Id"), 1);
        QCOMPARE(r.header("X-Request-Id"), sane);
    }
    QCOMPARE(httpGet(port, "/health/live", {{"X-Request-Id", longest}}).header("X-Request-Id"),
             longest);
    r = httpRequest(port, "POST", "/health", {{"X-Request-Id", sane}});
    QCOMPARE(r.status, 405);
    QCOMPARE(r.header("X-Request-Id"), sane);
    for (const QByteArray &insane :
         {QByteArray("has space"), QByteArray(129, 'a'), QByteArray("semi;colon"),
          QByteArray("quote\"d"), QByteArray("slash/")}) {
        r = httpGet(port, "/health/live", {{"X-Request-Id", insane}});
        QCOMPARE(r.status, 200);
        QVERIFY2(isRequestIdHex(r.header("X-Request-Id")),
                 insane + " -> " + r.header("X-Request-Id"));
    }
    // Generated ids differ between requests.
    QSet<QByteArray> ids;
    for (int i = 0; i < 5; ++i)
        ids.insert(httpGet(port, "/health/live").header("X-Request-Id"));
    QCOMPARE(ids.size(), 5);

    // Every id shows up in the access log with the request it belongs to.
    QVERIFY2(gw.waitForLog(QRegularExpression(
                 QStringLiteral("sluice.access: POST /health 405 .*request_id=Client-req_42.7:a"))),
             gw.why());
    QVERIFY2(!gw.log().contains(QLatin1String("x=1")), gw.why());  // paths only, no query strings
}

void TestGateway::startupProbeBeforeFirstHealthRound()
{
    // The port is known beforehand, so the probe is polled from before the socket exists; the
    // first answers may come before the first health round (most likely with PostgreSQL, whose
    // health check opens a new connection). Whatever the timing: never 503 after the first 200.
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    const quint16 port = freeTcpPort();
    QVERIFY(port != 0);
    args[args.indexOf(QStringLiteral("--listen")) + 1] = QStringLiteral("127.0.0.1:%1").arg(port);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start(args), gw.why());

    QElapsedTimer timer;
    timer.start();
    int starting = 0;
    bool started = false;
    while (!started && timer.elapsed() < kStartTimeoutMs && gw.isRunning()) {
        const HttpReply r = httpGet(port, "/health/startup", {}, 2000);
        if (!r.ok())
            continue;  // not listening yet
        if (r.status == 503) {
            QCOMPARE(r.json().value("status").toString(), QStringLiteral("starting"));
            // The round may finish between the two requests.
            const HttpReply ready = httpGet(port, "/health/ready");
            QVERIFY2(ready.status == 200 || (ready.status == 503 && ready.json().value("status") ==
                                                                        QStringLiteral("starting")),
                     ready.describe());
            ++starting;
        } else {
            QVERIFY2(r.status == 200, r.describe());
            QCOMPARE(r.json().value("status").toString(), QStringLiteral("started"));
            started = true;
        }
    }
    QVERIFY2(started, gw.why());
    for (int i = 0; i < 5; ++i)
        QCOMPARE(httpGet(port, "/health/startup").status, 200);
    QCOMPARE(httpGet(port, "/health/ready").status, 200);
    QVERIFY2(gw.waitForStartupComplete(), gw.why());
    qInfo("%d answer(s) \"starting\" before the first health round", starting);
}

void TestGateway::metrics()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const quint16 port = gw.port();

    for (int i = 0; i < 3; ++i)
        QCOMPARE(httpGet(port, "/health/live?probe=" + QByteArray::number(i)).status, 200);
    QCOMPARE(httpGet(port, "/health").status, 200);
    QCOMPARE(httpGet(port, "/nope?x=1").status, 404);
    QCOMPARE(httpGet(port, "/nope/deeper/path").status, 404);
    QCOMPARE(httpRequest(port, "POST", "/health").status, 405);
    QCOMPARE(httpRequest(port, "HEAD", "/health/live").status, 200);

    const HttpReply r = httpGet(port, "/metrics");
    QVERIFY2(r.status == 200, r.describe());
    QCOMPARE(r.header("Content-Type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    QVERIFY(isRequestIdHex(r.header("X-Request-Id")));
    QVERIFY(!r.body.contains("# EOF"));
    const MetricsText m = parseMetrics(r.body);
    QVERIFY2(m.error.isEmpty(), qPrintable(m.error));

    const QMap<QByteArray, QByteArray> expectedTypes = {
        {"gateway_build_info", "gauge"},
        {"gateway_uptime_seconds", "gauge"},
        {"process_cpu_seconds_total", "counter"},
        {"process_resident_memory_bytes", "gauge"},
        {"process_virtual_memory_bytes", "gauge"},
        {"process_open_fds", "gauge"},
        {"process_max_fds", "gauge"},
        {"process_start_time_seconds", "gauge"},
        {"gateway_requests_total", "counter"},
        {"gateway_request_duration_seconds", "histogram"},
        {"gateway_requests_in_progress", "gauge"},
        {"gateway_health_status", "gauge"},
        {"gateway_db_queries_total", "counter"},
        {"gateway_db_query_duration_seconds", "histogram"},
    };
    for (auto it = expectedTypes.cbegin(); it != expectedTypes.cend(); ++it)
        QVERIFY2(m.types.value(it.key()) == it.value(),
                 it.key() + " has type \"" + m.types.value(it.key()) + "\"");

    QCOMPARE(m.value("gateway_build_info", {{"version", kVersion}}).value_or(-1), 1.0);
    QVERIFY(m.value("gateway_uptime_seconds").value_or(-1) > 0);
    QVERIFY(m.value("process_cpu_seconds_total").value_or(-1) >= 0);  // 0 below one clock tick
    QVERIFY(m.value("process_resident_memory_bytes").value_or(-1) > 1e6);
    QVERIFY(m.value("process_virtual_memory_bytes").value_or(-1) >=
            m.value("process_resident_memory_bytes").value_or(0));
    QVERIFY(m.value("process_open_fds").value_or(-1) >= 3);
    QVERIFY(m.value("process_max_fds").value_or(-1) >= m.value("process_open_fds").value_or(0));
    const double startTime = m.value("process_start_time_seconds").value_or(0);
    QVERIFY2(qAbs(startTime - double(QDateTime::currentSecsSinceEpoch())) < 120,
             qPrintable(QString::number(startTime, 'f')));

    // Requests by route template, method and code; raw paths and query strings never appear.
    QVERIFY(m.value("gateway_requests_total",
                    {{"route", "/health/live"}, {"method", "GET"}, {"code", "200"}})
                .value_or(0) >= 3);
    QCOMPARE(m.value("gateway_requests_total",
                     {{"route", "/health/live"}, {"method", "HEAD"}, {"code", "200"}})
                 .value_or(-1),
             1.0);
    QCOMPARE(m.value("gateway_requests_total",
                     {{"route", "/health"}, {"method", "GET"}, {"code", "200"}})
                 .value_or(-1),
             1.0);
    QCOMPARE(
        m.value("gateway_requests_total", {{"route", "none"}, {"method", "GET"}, {"code", "404"}})
            .value_or(-1),
        2.0);
    QCOMPARE(
        m.value("gateway_requests_total", {{"route", "none"}, {"method", "POST"}, {"code", "405"}})
            .value_or(-1),
        1.0);
    QVERIFY2(!r.body.contains("/nope") && !r.body.contains("x=1") && !r.body.contains("probe="),
             r.body);
    for (const MetricSample &s : m.select("gateway_requests_total")) {
        QVERIFY2(s.labels.keys() == QList<QByteArray>({"code", "method", "route"}),
                 s.labels.keys().join(','));
    }

    // The histogram: cumulative buckets ending in +Inf == _count.
    const QList<MetricSample> buckets =
        m.select("gateway_request_duration_seconds_bucket", {{"route", "/health/live"}});
    QVERIFY(buckets.size() >= 2);
    QCOMPARE(buckets.last().labels.value("le"), QByteArray("+Inf"));
    for (qsizetype i = 1; i < buckets.size(); ++i)
        QVERIFY(buckets[i].value >= buckets[i - 1].value);
    const auto count =
        m.value("gateway_request_duration_seconds_count", {{"route", "/health/live"}});
    QVERIFY(count.has_value());
    QCOMPARE(buckets.last().value, *count);
    QVERIFY(*count >= 4);
    QVERIFY(
        m.value("gateway_request_duration_seconds_sum", {{"route", "/health/live"}}).value_or(-1) >=
        0);
    QVERIFY(m.value("gateway_request_duration_seconds_count", {{"route", "none"}}).value_or(0) >=
            3);

    // In progress: the scrape itself, nothing else.
    QCOMPARE(m.value("gateway_requests_in_progress", {{"route", "/metrics"}}).value_or(-1), 1.0);
    QCOMPARE(m.value("gateway_requests_in_progress", {{"route", "/health/live"}}).value_or(-1),
             0.0);

    // Health per component: 1 healthy, 0.5 degraded, 0 unhealthy.
    QCOMPARE(m.value("gateway_health_status", {{"component", "database"}}).value_or(-1), 1.0);
    QCOMPARE(m.value("gateway_health_status", {{"component", "memory"}}).value_or(-1), 1.0);
    QVERIFY(m.value("gateway_health_status", {{"component", "disk"}}).has_value());
    QCOMPARE(m.select("gateway_health_status").size(), 5);
    // The default upstreams point at a closed port: not critical, so only degraded overall.
    QCOMPARE(m.value("gateway_health_status", {{"component", "upstream:openai"}}).value_or(-1),
             0.0);

    // Database statements: migrations and health checks ran, all successfully.
    double queries = 0;
    for (const MetricSample &s : m.select("gateway_db_queries_total")) {
        QVERIFY2(s.labels.keys() == QList<QByteArray>({"db", "operation", "outcome"}),
                 s.labels.keys().join(','));
        QCOMPARE(s.labels.value("outcome"), QByteArray("ok"));
        queries += s.value;
    }
    QVERIFY(queries > 0);
    for (const QByteArray &db :
         {QByteArray("identity"), QByteArray("ledger"), QByteArray("health")}) {
        QVERIFY2(m.value("gateway_db_query_duration_seconds_count", {{"db", db}}).value_or(0) > 0,
                 db);
        QVERIFY2(
            m.value("gateway_db_query_duration_seconds_bucket", {{"db", db}, {"le", "+Inf"}}) ==
                m.value("gateway_db_query_duration_seconds_count", {{"db", db}}),
            db);
    }

    // promtool: not a single complaint about the live output.
    QProcess promtool;
    promtool.start(QStringLiteral("/usr/bin/promtool"),
                   {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY2(promtool.waitForStarted(5000), qPrintable(promtool.errorString()));
    promtool.write(r.body);
    promtool.closeWriteChannel();
    QVERIFY(promtool.waitForFinished(20000));
    const QByteArray complaints =
        promtool.readAllStandardOutput() + promtool.readAllStandardError();
    QVERIFY2(promtool.exitStatus() == QProcess::NormalExit && promtool.exitCode() == 0 &&
                 complaints.trimmed().isEmpty(),
             "promtool exit " + QByteArray::number(promtool.exitCode()) + ": " + complaints);

    // OpenMetrics when asked for, as Prometheus does.
    const HttpReply om = httpGet(
        port, "/metrics",
        {{"Accept",
          "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}});
    QVERIFY2(om.status == 200, om.describe());
    QCOMPARE(om.header("Content-Type"),
             QByteArray("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    QVERIFY2(om.body.endsWith("# EOF\n"), om.body.right(200));
    QCOMPARE(om.body.count("# EOF"), 1);
    QVERIFY2(om.body.contains("# TYPE gateway_requests counter\n"), om.body.left(3000));
    QVERIFY(om.body.contains("gateway_requests_total{"));
    QVERIFY(om.body.contains("gateway_build_info{version=\"" + kVersion + "\"} 1"));

    // Plain text for a plain Accept.
    const HttpReply text = httpGet(port, "/metrics", {{"Accept", "text/plain"}});
    QCOMPARE(text.header("Content-Type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    QVERIFY(!text.body.contains("# EOF"));
}

void TestGateway::healthComponentNames_data()
{
    QTest::addColumn<QString>("db");      // sqlite, postgres
    QTest::addColumn<QString>("ledger");  // "", "same", "sqlite"
    QTest::addColumn<QStringList>("expected");
    const QStringList single = {"database", "disk", "memory", "upstream:openai",
                                "upstream:anthropic"};
    const QStringList split = {"identity_db", "ledger_db",       "disk",
                               "memory",      "upstream:openai", "upstream:anthropic"};
    QTest::newRow("sqlite") << "sqlite"
                            << "" << single;
    QTest::newRow("sqlite, ledger same as db") << "sqlite"
                                               << "same" << single;
    QTest::newRow("sqlite, ledger in another file") << "sqlite"
                                                    << "sqlite" << split;
    QTest::newRow("postgres, ledger in sqlite") << "postgres"
                                                << "sqlite" << split;
}

void TestGateway::healthComponentNames()
{
    QFETCH(QString, db);
    QFETCH(QString, ledger);
    QFETCH(QStringList, expected);
    const QString dataDir = m_dir->path() + QStringLiteral("/data");
    QStringList args = baseArgs();
    if (db == QLatin1String("postgres")) {
        if (!createPgDatabase())
            return;
        args << QStringLiteral("--db") << m_pg->url();
    }
    const QString ledgerFile = dataDir + QStringLiteral("/ledger.db");
    if (ledger == QLatin1String("same"))
        args << QStringLiteral("--ledger-db")
             << QStringLiteral("sqlite://") + dataDir + QStringLiteral("/sluice.db");
    else if (ledger == QLatin1String("sqlite"))
        args << QStringLiteral("--ledger-db") << QStringLiteral("sqlite://") + ledgerFile;

    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const HttpReply r = httpGet(gw.port(), "/health");
    QVERIFY2(r.status == 200, r.describe());
    QStringList names;
    QMap<QString, QJsonObject> byName;
    for (const QJsonValue &v : r.json().value("components").toArray()) {
        names << v.toObject().value("name").toString();
        byName.insert(names.last(), v.toObject());
    }
    QCOMPARE(names, expected);
    for (const QString &name : expected) {
        if (byName[name].value("type").toString() == QLatin1String("database")) {
            QCOMPARE(byName[name].value("status").toString(), QStringLiteral("healthy"));
            QCOMPARE(byName[name].value("critical").toBool(), true);
        }
    }
    if (db == QLatin1String("postgres")) {
        QVERIFY2(byName["identity_db"].value("message").toString().startsWith(
                     QLatin1String("postgres ")),
                 r.body);
        QCOMPARE(byName["ledger_db"].value("message").toString(), QStringLiteral("sqlite ok"));
    }
    QCOMPARE(QFileInfo::exists(ledgerFile), ledger == QLatin1String("sqlite"));

    const MetricsText m = parseMetrics(httpGet(gw.port(), "/metrics").body);
    QStringList metricComponents;
    for (const MetricSample &s : m.select("gateway_health_status"))
        metricComponents << QString::fromUtf8(s.labels.value("component"));
    metricComponents.sort();
    expected.sort();
    QCOMPARE(metricComponents, expected);
}

void TestGateway::databaseGoesAway()
{
    if (!createPgDatabase())
        return;
    QStringList args = baseArgs();
    args << QStringLiteral("--db") << m_pg->url() << QStringLiteral("--health-ttl")
         << QStringLiteral("0.2") << QStringLiteral("--health-timeout") << QStringLiteral("1");
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const quint16 port = gw.port();
    QCOMPARE(httpGet(port, "/health").status, 200);
    QCOMPARE(httpGet(port, "/health/ready").status, 200);

    QString why;
    QVERIFY2(m_pg->drop(&why), qPrintable(why));

    QElapsedTimer timer;
    timer.start();
    HttpReply health;
    while (timer.elapsed() < 5000) {
        health = httpGet(port, "/health");
        if (health.status == 503)
            break;
        QTest::qWait(50);
    }
    QVERIFY2(health.status == 503, "after " + QByteArray::number(timer.elapsed()) +
                                       " ms: " + health.describe() + "\n" + gw.why());
    qInfo("/health answered 503 %lld ms after the database was dropped", timer.elapsed());
    const QJsonObject root = health.json();
    QCOMPARE(root.value("status").toString(), QStringLiteral("unhealthy"));
    const QJsonObject db = root.value("components").toArray().at(0).toObject();
    QCOMPARE(db.value("name").toString(), QStringLiteral("database"));
    QCOMPARE(db.value("status").toString(), QStringLiteral("unhealthy"));
    QCOMPARE(db.value("critical").toBool(), true);
    QVERIFY2(!db.value("message").toString().isEmpty(), health.body);
    QCOMPARE(root.value("components").toArray().at(1).toObject().value("status").toString(),
             QStringLiteral("healthy"));  // disk: not affected

    const HttpReply ready = httpGet(port, "/health/ready");
    QCOMPARE(ready.status, 503);
    QCOMPARE(ready.json(), QJsonObject({{QStringLiteral("status"), QStringLiteral("unhealthy")}}));
    const HttpReply live = httpGet(port, "/health/live");
    QCOMPARE(live.status, 200);
    QCOMPARE(live.json(), QJsonObject({{QStringLiteral("status"), QStringLiteral("alive")}}));
    QCOMPARE(httpGet(port, "/health/startup").status, 200);  // started once, stays started

    const MetricsText m = parseMetrics(httpGet(port, "/metrics").body);
    QCOMPARE(m.value("gateway_health_status", {{"component", "database"}}).value_or(-1), 0.0);
    double failedQueries = 0;
    for (const MetricSample &s :
         m.select("gateway_db_queries_total", {{"db", "health"}, {"outcome", "error"}}))
        failedQueries += s.value;
    QVERIFY(failedQueries > 0);
    QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("component database is unhealthy"))),
             gw.why());

    // A gateway without its database still shuts down cleanly.
    gw.terminate();
    QVERIFY2(gw.waitForExit(5000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());
}

void TestGateway::hungDatabaseCheck()
{
    // A database that hangs rather than fails: the test holds an exclusive lock on the table the
    // health check reads, so the check blocks in its thread.
    if (!createPgDatabase())
        return;
    QStringList args = baseArgs();
    args << QStringLiteral("--db") << m_pg->url() << QStringLiteral("--health-ttl")
         << QStringLiteral("0") << QStringLiteral("--health-timeout") << QStringLiteral("0.5");
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const quint16 port = gw.port();
    QCOMPARE(httpGet(port, "/health").status, 200);

    auto locker = std::make_unique<PgSession>(m_pg->qurl());
    QString why;
    QVERIFY2(locker->exec(QStringLiteral("BEGIN"), &why), qPrintable(why));
    QVERIFY2(
        locker->exec(QStringLiteral("LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE"), &why),
        qPrintable(why));

    // /health answers once --health-timeout is up, instead of hanging with the database.
    QElapsedTimer timer;
    timer.start();
    const HttpReply health = httpGet(port, "/health", {}, 5000);
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(health.status == 503, health.describe());
    QVERIFY2(elapsed >= 400 && elapsed < 2500, qPrintable(QString::number(elapsed)));
    const QJsonObject db = health.json().value("components").toArray().at(0).toObject();
    QCOMPARE(db.value("name").toString(), QStringLiteral("database"));
    QCOMPARE(db.value("status").toString(), QStringLiteral("unhealthy"));
    QVERIFY2(db.value("message").toString().contains(QLatin1String("timed out")), health.body);

    // The next rounds do not pile up probes behind the hung one. (The pause: even with
    // --health-ttl 0 a report is reused within the millisecond it was made.)
    QTest::qWait(20);
    const HttpReply again = httpGet(port, "/health");
    QCOMPARE(again.status, 503);
    QVERIFY2(again.body.contains("previous check still running"), again.body);
    QCOMPARE(httpGet(port, "/health/ready").status, 503);
    QCOMPARE(httpGet(port, "/health/live").status, 200);

    // SIGTERM while the probe still hangs: the gateway drains, then waits for the probe thread
    // (up to 3 s) when it tears the health checker down. The lock goes away meanwhile.
    gw.terminate();
    QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("stopped after"))), gw.why());
    QTest::qWait(1000);
    QVERIFY2(gw.isRunning(), "exited while the health probe was still blocked");
    locker.reset();  // ends the transaction and its lock

    QVERIFY2(gw.waitForExit(5000), gw.why());
    const bool clean = gw.exitedWith(0);
    if (!clean)
        qInfo("exit status %d, log ends with: %s", gw.exitCode(), qPrintable(gw.logLines().last()));
    QVERIFY2(clean, gw.why());
}

// ---- configuration -------------------------------------------------------------------------

void TestGateway::configErrorsExit2_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");  // NAME=VALUE
    QTest::addColumn<QByteArray>("ini");   // written to @INI@ when not empty
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QStringList>("forbidden");

    const QStringList none;
    QTest::newRow("unknown flag") << QStringList{"--lisen", "127.0.0.1:0"} << none << QByteArray()
                                  << QStringList{"unknown flag \"--lisen\"", "(from command line)",
                                                 "expected --listen"}
                                  << none;
    QTest::newRow("listen port out of range")
        << QStringList{"--listen", "127.0.0.1:70000"} << none << QByteArray()
        << QStringList{"invalid value \"127.0.0.1:70000\" for --listen (from command line)",
                       "port 0-65535"}
        << none;
    QTest::newRow("listen host name")
        << QStringList{"--listen", "example.com:80"} << none << QByteArray()
        << QStringList{"\"example.com:80\"", "--listen"} << none;
    QTest::newRow("db scheme") << QStringList{"--db", "mysql://x"} << none << QByteArray()
                               << QStringList{"invalid value \"mysql://x\" for --db", "sqlite://",
                                              "postgres://"}
                               << none;
    QTest::newRow("db password is redacted")
        << QStringList{"--db", "postgres://u:secretpw@/x"} << none << QByteArray()
        << QStringList{"for --db", "***"} << QStringList{"secretpw"};
    QTest::newRow("workers 0") << QStringList{"--workers", "0"} << none << QByteArray()
                               << QStringList{"invalid value \"0\" for --workers", "1-256"} << none;
    QTest::newRow("log level") << QStringList{"--log-level", "loud"} << none << QByteArray()
                               << QStringList{"invalid value \"loud\" for --log-level",
                                              "debug, info, warning, error"}
                               << none;
    QTest::newRow("bool flag value") << QStringList{"--headless=maybe"} << none << QByteArray()
                                     << QStringList{"\"maybe\"", "--headless"} << none;
    QTest::newRow("missing value") << QStringList{"--db"} << none << QByteArray()
                                   << QStringList{"missing value for --db"} << none;
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << none << QByteArray()
                                     << QStringList{"unknown command \"frobnicate\""} << none;
    QTest::newRow("ini unknown key")
        << QStringList{"--config", "@INI@"} << none
        << QByteArray("[server]\nlisten = 127.0.0.1:0\nlisen = 127.0.0.1:1\n")
        << QStringList{"unknown key \"lisen\" in [server] of @INI@", "listen"} << none;
    QTest::newRow("ini unknown section")
        << QStringList{"--config", "@INI@"} << none << QByteArray("[srv]\nlisten = 127.0.0.1:0\n")
        << QStringList{"unknown section [srv] in @INI@", "[server]"} << none;
    QTest::newRow("ini key outside a section")
        << QStringList{"--config", "@INI@"} << none << QByteArray("listen = 127.0.0.1:0\n")
        << QStringList{"unknown key \"listen\"", "@INI@"} << none;
    QTest::newRow("ini bad value")
        << QStringList{"--config", "@INI@"} << none
        << QByteArray("[server]\nlisten = 127.0.0.1:0\nworkers = many\n")
        << QStringList{"invalid value \"many\" for workers in [server] of @INI@"} << none;
    QTest::newRow("missing config file")
        << QStringList{"--config", "@DIR@/missing.ini"} << none << QByteArray()
        << QStringList{"cannot read config file \"@DIR@/missing.ini\" given by --config",
                       "no such file"}
        << none;
    QTest::newRow("missing config file from env")
        << none << QStringList{"SLUICE_CONFIG=@DIR@/missing.ini"} << QByteArray()
        << QStringList{"\"@DIR@/missing.ini\"", "SLUICE_CONFIG", "(from environment)",
                       "no such file"}
        << none;
    QTest::newRow("env listen")
        << none << QStringList{"SLUICE_LISTEN=bad"} << QByteArray()
        << QStringList{"invalid value \"bad\" for SLUICE_LISTEN (from environment)"} << none;
    QTest::newRow("env value overridden by the command line is still checked")
        << QStringList{"--workers", "2"} << QStringList{"SLUICE_WORKERS=0"} << QByteArray()
        << QStringList{"invalid value \"0\" for SLUICE_WORKERS"} << none;
}

void TestGateway::configErrorsExit2()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QByteArray, ini);
    QFETCH(QStringList, expected);
    QFETCH(QStringList, forbidden);

    if (!ini.isEmpty()) {
        QFile f(subst(QStringLiteral("@INI@")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(ini);
    }
    QProcessEnvironment processEnv = environment();
    for (const QString &e : std::as_const(env))
        processEnv.insert(e.section(u'=', 0, 0), subst(e.section(u'=', 1)));
    // Every row also gets a data dir and, unless it is about the address, a free port, so a
    // row that does not fail as it should starts harmlessly (and is killed).
    QStringList fullArgs = {QStringLiteral("--data-dir"), m_dir->path() + QStringLiteral("/data")};
    const bool aboutListen = (args.join(u' ') + env.join(u' ') + QString::fromUtf8(ini))
                                 .contains(QLatin1String("listen"));
    if (!aboutListen)
        fullArgs << QStringLiteral("--listen") << QStringLiteral("127.0.0.1:0");
    for (const QString &a : std::as_const(args))
        fullArgs << subst(a);

    GatewayProcess gw(kBinary);
    gw.setEnvironment(processEnv);
    QVERIFY2(gw.start(fullArgs), gw.why());
    QVERIFY2(gw.waitForExit(10000), gw.why());
    QVERIFY2(gw.exitedWith(2), gw.why());
    QCOMPARE(gw.output(), QString());
    const QString err = gw.log();
    QVERIFY2(err.endsWith(u'\n') && err.count(u'\n') == 1, qPrintable("not one line: " + err));
    QVERIFY2(err.startsWith(QLatin1String("sluice: ")), qPrintable(err));
    for (const QString &e : std::as_const(expected))
        QVERIFY2(err.contains(subst(e)),
                 qPrintable(QStringLiteral("\"%1\" not in: %2").arg(subst(e), err)));
    for (const QString &f : std::as_const(forbidden))
        QVERIFY2(!err.contains(f), qPrintable(err));
}

void TestGateway::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expected");
    const QStringList help = {"Usage: sluice", "--listen HOST:PORT", "SLUICE_LISTEN",
                              "--db URL",      "--ledger-db URL",    "--health-ttl",
                              "--log-format",  "--config FILE",      "--drain-timeout",
                              "Exit status"};
    const QStringList version = {QStringLiteral("sluice %1\n").arg(QString::fromLatin1(kVersion))};
    QTest::newRow("--help") << QStringList{"--help"} << help;
    QTest::newRow("-h") << QStringList{"-h"} << help;
    QTest::newRow("--help despite a bad setting")
        << QStringList{"--workers", "0", "--help"} << help;
    QTest::newRow("--version") << QStringList{"--version"} << version;
    QTest::newRow("-v") << QStringList{"-v"} << version;
}

void TestGateway::helpAndVersion()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, expected);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start(args), gw.why());
    QVERIFY2(gw.waitForExit(10000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());
    QCOMPARE(gw.log(), QString());
    const QString out = gw.output();
    if (expected.size() == 1)
        QCOMPARE(out, expected.first());  // --version: exactly one line
    for (const QString &e : std::as_const(expected))
        QVERIFY2(out.contains(e), qPrintable(e + " not in:\n" + out));
}

void TestGateway::precedence_data()
{
    QTest::addColumn<bool>("ini");
    QTest::addColumn<bool>("env");
    QTest::addColumn<int>("cli");  // how many --listen flags
    QTest::addColumn<QString>("winner");
    QTest::newRow("cli over env over ini") << true << true << 1 << "cli";
    QTest::newRow("env over ini") << true << true << 0 << "env";
    QTest::newRow("ini alone") << true << false << 0 << "ini";
    QTest::newRow("last of two flags") << false << false << 2 << "cli";
}

void TestGateway::precedence()
{
    QFETCH(bool, ini);
    QFETCH(bool, env);
    QFETCH(int, cli);
    QFETCH(QString, winner);

    QMap<QString, quint16> ports;
    QSet<quint16> used;
    for (const char *layer : {"ini", "env", "cli0", "cli"}) {
        quint16 p = 0;
        while (p == 0 || used.contains(p))
            p = freeTcpPort();
        used.insert(p);
        ports.insert(QLatin1String(layer), p);
    }
    auto address = [&](const QString &layer) {
        return QStringLiteral("127.0.0.1:%1").arg(ports.value(layer));
    };

    QStringList args = {QStringLiteral("--headless"), QStringLiteral("--data-dir"),
                        m_dir->path() + QStringLiteral("/data"), QStringLiteral("--workers"),
                        QStringLiteral("1")};
    QProcessEnvironment processEnv = environment();
    if (ini) {
        const QString file = subst(QStringLiteral("@INI@"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[server]\nlisten = " + address(QStringLiteral("ini")).toLatin1() +
                "\nworkers = 1\n");
        f.close();
        args << QStringLiteral("--config") << file;
    }
    if (env)
        processEnv.insert(QStringLiteral("SLUICE_LISTEN"), address(QStringLiteral("env")));
    if (cli == 2)
        args << QStringLiteral("--listen") << address(QStringLiteral("cli0"));
    if (cli >= 1)
        args << QStringLiteral("--listen=") + address(QStringLiteral("cli"));

    GatewayProcess gw(kBinary);
    gw.setEnvironment(processEnv);
    QVERIFY2(launch(gw, args), gw.why());
    QCOMPARE(gw.port(), ports.value(winner));
    QVERIFY2(gw.log().contains(QStringLiteral("listen %1,").arg(address(winner))), gw.why());
    QCOMPARE(httpGet(gw.port(), "/health/live").status, 200);
    gw.terminate();
    QVERIFY2(gw.waitForExit(5000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());
}

// ---- start failures ------------------------------------------------------------------------

void TestGateway::startFailuresExit1_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QStringList>("forbidden");
    QTest::newRow("postgres refused")
        << QStringList{"--db", "postgres://u:secretpw@127.0.0.1:1/x"}
        << QStringList{"cannot start", "identity database", "127.0.0.1:1"}
        << QStringList{"secretpw", "listening on"};
    QTest::newRow("ledger postgres refused")
        << QStringList{"--ledger-db", "postgres://u:secretpw@127.0.0.1:1/x"}
        << QStringList{"cannot start", "ledger database", "127.0.0.1:1"}
        << QStringList{"secretpw", "listening on"};
    QTest::newRow("json log, postgres refused")
        << QStringList{"--log-format", "json", "--db", "postgres://u:secretpw@127.0.0.1:1/x"}
        << QStringList{"\"level\":\"error\"", "cannot start"} << QStringList{"secretpw"};
    QTest::newRow("data dir cannot be created")
        << QStringList{"--data-dir", "/proc/sluice-it/data"}
        << QStringList{"cannot start", "/proc/sluice-it/data"} << QStringList{"listening on"};
}

void TestGateway::startFailuresExit1()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, expected);
    QFETCH(QStringList, forbidden);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start(baseArgs() + args), gw.why());
    QVERIFY2(gw.waitForExit(10000), gw.why());
    QVERIFY2(gw.exitedWith(1), gw.why());
    const QString log = gw.log();
    for (const QString &e : std::as_const(expected))
        QVERIFY2(log.contains(e), qPrintable(e + " not in:\n" + log));
    for (const QString &f : std::as_const(forbidden))
        QVERIFY2(!log.contains(f), qPrintable(f + " in:\n" + log));
}

void TestGateway::portInUseExit1()
{
    // A listener without SO_REUSEPORT makes the gateway's bind fail.
    QTcpServer blocker;
    QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
    const QString address = QStringLiteral("127.0.0.1:%1").arg(blocker.serverPort());
    QStringList args = baseArgs();
    args[args.indexOf(QStringLiteral("--listen")) + 1] = address;
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start(args), gw.why());
    QVERIFY2(gw.waitForExit(10000), gw.why());
    QVERIFY2(gw.exitedWith(1), gw.why());
    const QString log = gw.log();
    QVERIFY2(log.contains(QStringLiteral("cannot start: cannot listen on %1").arg(address)),
             qPrintable(log));
    QVERIFY2(!log.contains(QLatin1String("listening on")), qPrintable(log));
    QVERIFY(blocker.isListening());
}

void TestGateway::secondInstanceOnSamePort()
{
    // Two gateways on one address: the second must not start, or the kernel would silently
    // share the clients between them (SO_REUSEPORT), whatever their configurations.
    GatewayProcess first(kBinary);
    first.setEnvironment(environment());
    QVERIFY2(launch(first, baseArgs()), first.why());
    QStringList args = baseArgs();
    args[args.indexOf(QStringLiteral("--listen")) + 1] =
        QStringLiteral("127.0.0.1:%1").arg(first.port());
    args[args.indexOf(QStringLiteral("--data-dir")) + 1] = m_dir->path() + QStringLiteral("/data2");

    GatewayProcess second(kBinary);
    second.setEnvironment(environment());
    QVERIFY2(second.start(args), second.why());
    const bool listening = second.waitForListening(kStartTimeoutMs);
    if (listening) {
        second.terminate();
        second.waitForExit(5000);
    }
    QVERIFY2(!listening && second.exitedWith(1), second.why());
}

// ---- shutdown ------------------------------------------------------------------------------

void TestGateway::sigtermDrainsAndExits0()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    QCOMPARE(httpGet(gw.port(), "/health/live").status, 200);

    QElapsedTimer timer;
    timer.start();
    gw.terminate();
    QVERIFY2(gw.waitForExit(5000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());
    QVERIFY2(timer.elapsed() < 3000, qPrintable(QString::number(timer.elapsed())));
    const QString log = gw.log();
    for (const char *line :
         {"signal 15 received: draining", "draining: 0 requests in flight", "stopped after"})
        QVERIFY2(log.contains(QLatin1String(line)),
                 qPrintable(QLatin1String(line) + " not in:\n" + log));
    QVERIFY2(!log.contains(QLatin1String("drain timeout reached")), qPrintable(log));
}

void TestGateway::drainAnswersInFlightRequest()
{
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, baseArgs()), gw.why());
    const quint16 port = gw.port();

    // An idle keep-alive connection and one with half a request on it.
    HttpConnection idle;
    QVERIFY(idle.connectTo(QStringLiteral("127.0.0.1"), port));
    idle.sendRaw("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    const HttpReply first = idle.readReply();
    QCOMPARE(first.status, 200);
    QVERIFY(first.header("Connection").isNull());

    HttpConnection busy;
    QVERIFY(busy.connectTo(QStringLiteral("127.0.0.1"), port));
    busy.sendRaw("GET /health/ready HTTP/1.1\r\nHost: x\r\n");
    QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("GET /health/live 200"))), gw.why());
    QTest::qWait(250);  // let the worker read the half request

    QElapsedTimer timer;
    timer.start();
    gw.terminate();
    QVERIFY2(gw.waitForLog(QRegularExpression(
                 QStringLiteral("draining: \\d+ requests in flight, 2 connections"))),
             gw.why());

    // The idle connection is closed at once; new connections are refused.
    QVERIFY2(idle.waitForClose(2000), "the idle keep-alive connection stayed open");
    bool refused = false;
    for (int i = 0; i < 40 && !refused; ++i) {
        HttpConnection late;
        refused = !late.connectTo(QStringLiteral("127.0.0.1"), port, 1000);
        if (!refused)
            QTest::qWait(50);
    }
    QVERIFY2(refused, "still accepting connections while draining");
    QVERIFY(gw.isRunning());  // waits for the half request

    // The request in flight completes, learns about the drain and closes its connection.
    busy.sendRaw("\r\n");
    const HttpReply r = busy.readReply();
    QVERIFY2(r.status == 503, r.describe());
    QCOMPARE(r.json(), QJsonObject({{QStringLiteral("status"), QStringLiteral("draining")}}));
    QCOMPARE(r.header("Connection"), QByteArray("close"));
    QVERIFY(busy.waitForClose(2000));

    QVERIFY2(gw.waitForExit(5000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());
    QVERIFY2(timer.elapsed() < 4000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY2(!gw.log().contains(QLatin1String("drain timeout reached")), gw.why());
}

void TestGateway::secondSigterm_data()
{
    QTest::addColumn<bool>("holdDrain");
    QTest::newRow("back to back") << false;
    QTest::newRow("during a drain") << true;
}

void TestGateway::secondSigterm()
{
    // The second signal ends the process at once with _exit(1). Sent back to back, the kernel
    // may merge it with the first (one delivery: a normal drain, exit 0), or the first drain may
    // already be complete: 0 and 1 are both accepted then. During a drain held open by a half
    // request, the answer must be 1, long before --drain-timeout.
    QFETCH(bool, holdDrain);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, baseArgs()), gw.why());

    HttpConnection busy;
    if (holdDrain) {
        QVERIFY(busy.connectTo(QStringLiteral("127.0.0.1"), gw.port()));
        busy.sendRaw("GET /health/live HTTP/1.1\r\n");
        QTest::qWait(250);
    }
    QElapsedTimer timer;
    timer.start();
    gw.terminate();
    if (holdDrain)
        QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("draining: "))), gw.why());
    gw.terminate();
    QVERIFY2(gw.waitForExit(3000), gw.why());
    QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
    if (holdDrain) {
        QVERIFY2(gw.exitedWith(1), gw.why());
        QVERIFY2(!gw.log().contains(QLatin1String("stopped after")), gw.why());
    } else {
        QVERIFY2(gw.exitedWith(0) || gw.exitedWith(1), gw.why());
        qInfo("back-to-back SIGTERMs: exit code %d", gw.exitCode());
    }
}

// ---- logs ----------------------------------------------------------------------------------

void TestGateway::jsonLogs()
{
    QStringList args = baseArgs();
    BACKEND_ARGS(args);
    args << QStringLiteral("--log-format") << QStringLiteral("json");
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(launch(gw, args), gw.why());
    const quint16 port = gw.port();
    QCOMPARE(httpGet(port, "/health/live?token=secret123", {{"X-Request-Id", "it-json-1"}}).status,
             200);
    QCOMPARE(httpGet(port, "/nope?x=supersecret", {{"X-Request-Id", "it-json-2"}}).status, 404);
    QCOMPARE(
        httpRequest(port, "POST", "/health?key=hushhush", {{"X-Request-Id", "it-json-3"}}).status,
        405);
    const HttpReply generated = httpGet(port, "/health");
    QCOMPARE(generated.status, 200);
    QVERIFY2(gw.waitForLog(QRegularExpression(
                 QStringLiteral("\"request_id\":\"%1\"")
                     .arg(QString::fromLatin1(generated.header("X-Request-Id"))))),
             gw.why());
    gw.terminate();
    QVERIFY2(gw.waitForExit(5000), gw.why());
    QVERIFY2(gw.exitedWith(0), gw.why());

    const QStringList lines = gw.logLines();
    QVERIFY(lines.size() >= 10);
    QVERIFY2(gw.log().endsWith(u'\n'), gw.why());
    const QStringList levels = {"debug", "info", "warning", "error", "fatal"};
    QMap<QString, QJsonObject> access;  // by request id
    QSet<QString> loggers;
    for (const QString &line : lines) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
        QVERIFY2(doc.isObject(), qPrintable(error.errorString() + ": " + line));
        const QJsonObject o = doc.object();
        for (const char *key : {"ts", "level", "logger", "msg"})
            QVERIFY2(o.value(QLatin1String(key)).isString(),
                     qPrintable(QLatin1String(key) + " in " + line));
        QVERIFY2(QDateTime::fromString(o.value("ts").toString(), Qt::ISODateWithMs).isValid(),
                 qPrintable(line));
        QVERIFY2(levels.contains(o.value("level").toString()), qPrintable(line));
        QVERIFY2(!o.value("logger").toString().isEmpty(), qPrintable(line));
        for (const char *secret : {"secret123", "supersecret", "hushhush"})
            QVERIFY2(!line.contains(QLatin1String(secret)), qPrintable(line));
        loggers.insert(o.value("logger").toString());
        if (o.value("logger").toString() == QLatin1String("sluice.access")) {
            for (const char *key : {"method", "route", "status", "request_id", "path"})
                QVERIFY2(o.contains(QLatin1String(key)),
                         qPrintable(QLatin1String(key) + " missing: " + line));
            QVERIFY2(!o.value("path").toString().contains(u'?'), qPrintable(line));
            QVERIFY2(!o.value("msg").toString().contains(u'?'), qPrintable(line));
            access.insert(o.value("request_id").toString(), o);
        }
    }
    for (const char *logger : {"sluice.gateway", "sluice.server", "sluice.config", "sluice.health",
                               "sluice.storage", "sluice.access"})
        QVERIFY2(loggers.contains(QLatin1String(logger)), logger);

    struct Expected
    {
        const char *id;
        const char *method;
        const char *route;
        const char *path;
        const char *status;
    };
    for (const Expected &e : {Expected{"it-json-1", "GET", "/health/live", "/health/live", "200"},
                              Expected{"it-json-2", "GET", "none", "/nope", "404"},
                              Expected{"it-json-3", "POST", "none", "/health", "405"}}) {
        QVERIFY2(access.contains(QLatin1String(e.id)), e.id);
        const QJsonObject o = access.value(QLatin1String(e.id));
        QCOMPARE(o.value("method").toString(), QLatin1String(e.method));
        QCOMPARE(o.value("route").toString(), QLatin1String(e.route));
        QCOMPARE(o.value("path").toString(), QLatin1String(e.path));
        QCOMPARE(o.value("status").toVariant().toString(), QLatin1String(e.status));
        QCOMPARE(o.value("level").toString(), QStringLiteral("info"));
    }
    QVERIFY(access.contains(QString::fromLatin1(generated.header("X-Request-Id"))));
}

QTEST_GUILESS_MAIN(TestGateway)
#include "tst_gateway.moc"
