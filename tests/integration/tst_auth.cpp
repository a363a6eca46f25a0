// Authentication of the client API through the real binary: 401 shapes of both API families,
// keys created, revoked and expired with the CLI while gateways run, the key cache of a second
// gateway on the same PostgreSQL following within a second, throttling of failed attempts per
// client address, last_used_at written in batches, and the plaintext key found nowhere.
#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "PgTestDatabase.h"
#include "TestFixtures.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;

struct CliRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QByteArray lastLine() const { return out.trimmed().split('\n').last().trimmed(); }
};

}  // namespace

class TestAuth : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
    std::unique_ptr<MockUpstream> m_mock;
    QString m_db;
    QString m_ini;             // upstream sections pointing at the mock
    QStringList m_plaintexts;  // every key created: searched for in files and logs at the end
    QList<GatewayProcess *> m_gateways;

    CliRun cli(QStringList args)
    {
        args << QStringLiteral("--db") << m_db << QStringLiteral("--data-dir") << m_dir->path()
             << QStringLiteral("--config") << m_ini;
        QProcess p;
        p.setProcessEnvironment(GatewayProcess::cleanEnvironment());
        p.start(kBinary, args);
        CliRun r;
        if (!p.waitForFinished(30000)) {
            p.kill();
            p.waitForFinished();
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }

    QByteArray createKey(const QStringList &extra)
    {
        const CliRun r = cli(QStringList{QStringLiteral("keys"), QStringLiteral("create")} + extra);
        if (r.exitCode != 0) {
            qWarning().noquote() << "keys create failed:" << r.err;
            return {};
        }
        m_plaintexts << QString::fromLatin1(r.lastLine());
        return r.lastLine();
    }

    bool backend(const QString &name)
    {
        if (name == QLatin1String("sqlite")) {
            m_db = QStringLiteral("sqlite://") + m_dir->path() + QStringLiteral("/sluice.db");
            return true;
        }
        QString why;
        const QString fixture = postgresUrl(&why);
        if (fixture.isEmpty()) {
            qWarning().noquote() << why;
            return false;
        }
        m_pg = std::make_unique<PgTestDatabase>(fixture, QStringLiteral("sluice_auth"));
        if (!m_pg->create(&why)) {
            qWarning().noquote() << why;
            return false;
        }
        m_db = m_pg->url();
        return true;
    }

    GatewayProcess *startGateway(QStringList extra = {})
    {
        auto *gw = new GatewayProcess(kBinary);
        m_gateways << gw;
        gw->setEnvironment(GatewayProcess::cleanEnvironment());
        QStringList args{QStringLiteral("--headless"),
                         QStringLiteral("--listen"),
                         QStringLiteral("127.0.0.1:0"),
                         QStringLiteral("--admin-listen"),
                         QStringLiteral("127.0.0.1:0"),
                         QStringLiteral("--data-dir"),
                         m_dir->path(),
                         QStringLiteral("--db"),
                         m_db,
                         QStringLiteral("--config"),
                         m_ini,
                         QStringLiteral("--workers"),
                         QStringLiteral("2"),
                         QStringLiteral("--drain-timeout"),
                         QStringLiteral("5")};
        if (!gw->start(args + extra) || !gw->waitForListening(kStartTimeoutMs) ||
            !gw->waitForStartupComplete(kStartTimeoutMs)) {
            qWarning().noquote() << gw->why();
            return nullptr;
        }
        return gw;
    }

    static HttpReply chat(GatewayProcess *gw, const QByteArray &key,
                          const HttpHeaderList &extra = {})
    {
        HttpHeaderList h = extra;
        if (!key.isNull())
            h.append(std::pair<QByteArray, QByteArray>("Authorization", "Bearer " + key));
        h.append(std::pair<QByteArray, QByteArray>("Content-Type", "application/json"));
        return httpRequest(
            gw->port(), "POST", "/v1/chat/completions", h,
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})");
    }
    static HttpReply messages(GatewayProcess *gw, const QByteArray &key)
    {
        HttpHeaderList h{{"anthropic-version", "2023-06-01"}, {"Content-Type", "application/json"}};
        if (!key.isNull())
            h.append(std::pair<QByteArray, QByteArray>("x-api-key", key));
        return httpRequest(gw->port(), "POST", "/v1/messages", h,
                           R"({"model":"claude-3-5-haiku-latest","max_tokens":10,"messages":[]})");
    }
    static void checkOpenAiError(const HttpReply &r, int status, const QString &code)
    {
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        const QJsonObject e = r.json().value(QLatin1String("error")).toObject();
        QVERIFY2(!e.isEmpty(), r.body.constData());
        QVERIFY(e.contains(QLatin1String("message")) && e.contains(QLatin1String("type")));
        QCOMPARE(e.value(QLatin1String("code")).toString(), code);
    }
    static void checkAnthropicError(const HttpReply &r, int status, const QString &type)
    {
        QCOMPARE(r.status, status);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QLatin1String("type")).toString(), QStringLiteral("error"));
        QCOMPARE(o.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 type);
        QVERIFY(!o.value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("message"))
                     .toString()
                     .isEmpty());
    }

    void backends()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_plaintexts.clear();
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->start(), m_mock->why());
        m_ini = m_dir->path() + QStringLiteral("/gateway.ini");
        QVERIFY(writeTextFile(
            m_ini, QStringLiteral("[upstream.openai]\nkind = openai\nbase_url = %1\n"
                                  "api_key = sk-upstream-openai\nmodels = \"gpt-*\"\n\n"
                                  "[upstream.anthropic]\nkind = anthropic\nbase_url = %2\n"
                                  "api_key = sk-upstream-anthropic\nmodels = \"claude-*\"\n")
                       .arg(m_mock->openAiBaseUrl(), m_mock->baseUrl())
                       .toUtf8()));
    }

    void cleanup()
    {
        // Nothing may ever store or log a plaintext key: logs of every gateway, and for SQLite
        // every byte of the database files.
        for (GatewayProcess *gw : std::as_const(m_gateways)) {
            if (gw->isRunning()) {
                gw->terminate();
                gw->waitForExit(10000);
            }
            const QString log = gw->log();
            for (const QString &key : std::as_const(m_plaintexts))
                QVERIFY2(!log.contains(key), "a plaintext key appears in the gateway log");
        }
        qDeleteAll(m_gateways);
        m_gateways.clear();
        QDirIterator files(m_dir->path(), QDir::Files, QDirIterator::Subdirectories);
        while (files.hasNext()) {
            QFile f(files.next());
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            for (const QString &key : std::as_const(m_plaintexts))
                QVERIFY2(!bytes.contains(key.toLatin1()),
                         qPrintable(f.fileName() + " holds a plaintext key"));
        }
        m_pg.reset();
        m_mock.reset();
        m_dir.reset();
    }

    void errorShapesOfBothFamilies_data() { backends(); }
    void errorShapesOfBothFamilies()
    {
        QFETCH(QString, backend);
        QVERIFY(this->backend(backend));
        const QByteArray key = createKey(
            {QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--create-user")});
        QVERIFY(key.startsWith("sk-sluice-"));
        GatewayProcess *gw = startGateway();
        QVERIFY(gw);

        // Missing, malformed, unknown: OpenAI shape on OpenAI routes...
        checkOpenAiError(chat(gw, QByteArray()), 401, QStringLiteral("missing_api_key"));
        checkOpenAiError(chat(gw, "not-a-key"), 401, QStringLiteral("invalid_api_key"));
        checkOpenAiError(chat(gw, "sk-sluice-" + QByteArray(40, 'A')), 401,
                         QStringLiteral("invalid_api_key"));
        // ... Anthropic's on /v1/messages, and on /v1/models when Anthropic's headers say so.
        checkAnthropicError(messages(gw, QByteArray()), 401,
                            QStringLiteral("authentication_error"));
        checkAnthropicError(messages(gw, "sk-sluice-" + QByteArray(40, 'B')), 401,
                            QStringLiteral("authentication_error"));
        checkAnthropicError(
            httpGet(gw->port(), "/v1/models", {{"anthropic-version", "2023-06-01"}}), 401,
            QStringLiteral("authentication_error"));
        checkOpenAiError(httpGet(gw->port(), "/v1/models"), 401, QStringLiteral("missing_api_key"));

        // A good key passes authentication and reaches the upstream (the mock) on every route.
        QCOMPARE(chat(gw, key).status, 200);
        QCOMPARE(messages(gw, key).status, 200);
        const QByteArray body = R"({"model":"gpt-4o-mini","prompt":"hi","input":"hi"})";
        for (const QByteArray &path : {QByteArray("/v1/completions"), QByteArray("/v1/embeddings"),
                                       QByteArray("/v1/responses")})
            QCOMPARE(
                httpRequest(gw->port(), "POST", path, {{"Authorization", "Bearer " + key}}, body)
                    .status,
                200);
        QCOMPARE(httpGet(gw->port(), "/v1/models", {{"Authorization", "Bearer " + key}}).status,
                 200);
        QCOMPARE(httpRequest(gw->port(), "POST", "/v1/messages/count_tokens", {{"x-api-key", key}},
                             R"({"model":"claude-3-5-haiku","messages":[]})")
                     .status,
                 200);
        // The client's key never travels upstream: the mock saw the operator's credentials.
        const QJsonArray seen = m_mock->requests();
        QVERIFY(!seen.isEmpty());
        for (const QJsonValue &r : seen) {
            const QJsonObject h = r.toObject().value(QLatin1String("headers")).toObject();
            QVERIFY(!QJsonDocument(h).toJson().contains(key));
            if (h.contains(QLatin1String("anthropic-version")))
                QCOMPARE(h.value(QLatin1String("x-api-key")).toString(),
                         QStringLiteral("sk-upstream-anthropic"));
            else
                QCOMPARE(h.value(QLatin1String("authorization")).toString(),
                         QStringLiteral("Bearer sk-upstream-openai"));
        }
        // Unknown /v1 route: authenticated first, then 404 in OpenAI's shape.
        checkOpenAiError(httpGet(gw->port(), "/v1/nope"), 401, QStringLiteral("missing_api_key"));
        checkOpenAiError(httpGet(gw->port(), "/v1/nope", {{"Authorization", "Bearer " + key}}), 404,
                         QStringLiteral("unknown_url"));
        // A key pasted into a URL is cut to its prefix in the access log (cleanup() greps the
        // log for every plaintext key).
        QCOMPARE(
            httpGet(gw->port(), "/v1/models/" + key, {{"Authorization", "Bearer " + key}}).status,
            404);
        QCOMPARE(httpGet(gw->port(), "/nowhere/" + key + "/x?key=" + key).status, 404);
        QVERIFY(gw->waitForLog(
            QRegularExpression(QStringLiteral("GET /nowhere/sk-sluice-\\w{4}\\.\\.\\./x 404"))));
        // Health and metrics stay open.
        QCOMPARE(httpGet(gw->port(), "/health/live").status, 200);
        const QByteArray metrics = httpGet(gw->port(), "/metrics").body;
        QVERIFY(metrics.contains(R"(gateway_auth_failures_total{reason="missing"})"));
        QVERIFY(metrics.contains(R"(gateway_auth_failures_total{reason="invalid"})"));
        QVERIFY(metrics.contains(R"(gateway_auth_failures_total{reason="malformed"})"));
        QVERIFY(metrics.contains(R"(gateway_api_key_requests_total{tier="free"})"));
        // The access log names the user and key by id, never by key material.
        QVERIFY(gw->waitForLog(
            QRegularExpression(QStringLiteral("POST /v1/chat/completions 200 .*key_id=\\d+"))));
    }

    void revokeDisableAndExpiryTakeEffectWhileRunning_data() { backends(); }
    void revokeDisableAndExpiryTakeEffectWhileRunning()
    {
        QFETCH(QString, backend);
        QVERIFY(this->backend(backend));
        const QByteArray revoked = createKey(
            {QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--create-user"),
             QStringLiteral("--name"), QStringLiteral("to-revoke")});
        const QByteArray bobs = createKey(
            {QStringLiteral("--user"), QStringLiteral("bob"), QStringLiteral("--create-user")});
        const QString soon = QDateTime::currentDateTimeUtc().addSecs(3).toString(Qt::ISODate);
        const QByteArray expiring = createKey(
            {QStringLiteral("--user"), QStringLiteral("alice"), QStringLiteral("--expires"), soon});
        QVERIFY(!revoked.isEmpty() && !bobs.isEmpty() && !expiring.isEmpty());
        GatewayProcess *gw = startGateway();
        QVERIFY(gw);
        QCOMPARE(chat(gw, revoked).status, 200);
        QCOMPARE(chat(gw, bobs).status, 200);
        QCOMPARE(chat(gw, expiring).status, 200);

        const QByteArray prefix = revoked.left(14);
        QCOMPARE(
            cli({QStringLiteral("keys"), QStringLiteral("revoke"), QString::fromLatin1(prefix)})
                .exitCode,
            0);
        QTRY_COMPARE_WITH_TIMEOUT(chat(gw, revoked).status, 401, 1500);
        QCOMPARE(cli({QStringLiteral("users"), QStringLiteral("disable"), QStringLiteral("bob")})
                     .exitCode,
                 0);
        QTRY_COMPARE_WITH_TIMEOUT(chat(gw, bobs).status, 401, 1500);
        checkOpenAiError(chat(gw, bobs), 401, QStringLiteral("user_disabled"));
        QTRY_COMPARE_WITH_TIMEOUT(chat(gw, expiring).status, 401, 6000);
        checkOpenAiError(chat(gw, expiring), 401, QStringLiteral("expired_api_key"));
    }

    void secondGatewayFollowsWithinASecond()
    {
        QVERIFY(backend(QStringLiteral("postgres")));
        const QByteArray key = createKey(
            {QStringLiteral("--user"), QStringLiteral("carol"), QStringLiteral("--create-user")});
        GatewayProcess *a = startGateway();
        GatewayProcess *b = startGateway();
        QVERIFY(a && b);
        QCOMPARE(chat(a, key).status, 200);
        QCOMPARE(chat(b, key).status, 200);
        // Revoked through gateway A's side of the database (the CLI here; the admin API goes
        // through the same AdminService): B refuses it within a second.
        QCOMPARE(cli({QStringLiteral("keys"), QStringLiteral("revoke"),
                      QString::fromLatin1(key.left(14))})
                     .exitCode,
                 0);
        QElapsedTimer t;
        t.start();
        while (chat(b, key).status != 401 && t.elapsed() < 3000)
            QTest::qWait(20);
        QVERIFY2(t.elapsed() < 1000, qPrintable(QStringLiteral("took %1 ms").arg(t.elapsed())));
        // A polls on its own 250 ms schedule, so it may follow a moment after B: it too must
        // refuse the key within a second of the revocation.
        while (chat(a, key).status != 401 && t.elapsed() < 3000)
            QTest::qWait(20);
        QVERIFY2(t.elapsed() < 1000,
                 qPrintable(QStringLiteral("gateway A took %1 ms").arg(t.elapsed())));
        QCOMPARE(chat(a, key).status, 401);
        // A new key works on both without a restart.
        const QByteArray fresh = createKey({QStringLiteral("--user"), QStringLiteral("carol")});
        QTRY_COMPARE_WITH_TIMEOUT(chat(b, fresh).status, 200, 1000);
        QTRY_COMPARE_WITH_TIMEOUT(chat(a, fresh).status, 200, 1000);
    }

    void failedAttemptsThrottledPerClient()
    {
        QVERIFY(backend(QStringLiteral("sqlite")));
        // A tiny anonymous budget keeps the test short: 5 failures per minute per address.
        QCOMPARE(cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("anonymous"),
                      QStringLiteral("--rpm"), QStringLiteral("5")})
                     .exitCode,
                 0);
        const QByteArray key = createKey(
            {QStringLiteral("--user"), QStringLiteral("dave"), QStringLiteral("--create-user")});
        GatewayProcess *gw =
            startGateway({QStringLiteral("--trusted-proxies"), QStringLiteral("127.0.0.1")});
        QVERIFY(gw);
        const QByteArray wrong = "sk-sluice-" + QByteArray(40, 'Z');
        const HttpHeaderList fromAttacker{{"X-Forwarded-For", "203.0.113.66"}};
        for (int i = 0; i < 5; ++i)
            QCOMPARE(chat(gw, wrong, fromAttacker).status, 401);
        const HttpReply throttled = chat(gw, wrong, fromAttacker);
        checkOpenAiError(throttled, 429, QStringLiteral("rate_limit_exceeded"));
        QVERIFY(throttled.header("Retry-After").toInt() > 0);
        QCOMPARE(chat(gw, key, fromAttacker).status, 429);  // no more guesses from there
        // Other clients (told apart by the trusted proxy's X-Forwarded-For) are unaffected.
        QCOMPARE(chat(gw, key, {{"X-Forwarded-For", "198.51.100.5"}}).status, 200);
        QVERIFY(httpGet(gw->port(), "/metrics")
                    .body.contains(R"(gateway_auth_failures_total{reason="throttled"})"));
    }

    void lastUsedIsWrittenInBatches()
    {
        QVERIFY(backend(QStringLiteral("sqlite")));
        const QByteArray key = createKey(
            {QStringLiteral("--user"), QStringLiteral("erin"), QStringLiteral("--create-user")});
        GatewayProcess *gw = startGateway();
        QVERIFY(gw);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(chat(gw, key).status, 200);
        const QByteArray metrics = httpGet(gw->port(), "/metrics").body;
        // 50 requests, no per-request write: at most a couple of update statements so far.
        const QRegularExpression updates(QStringLiteral(
            R"(gateway_db_queries_total\{db="identity",operation="update",outcome="ok"\} (\d+))"));
        const auto m = updates.match(QString::fromLatin1(metrics));
        QVERIFY(!m.hasMatch() || m.captured(1).toInt() < 10);
        gw->terminate();  // the last batch is written at shutdown
        QVERIFY(gw->waitForExit(10000));
        QVERIFY(gw->exitedWith(0));
        const CliRun list =
            cli({QStringLiteral("keys"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 0);
        const QJsonDocument doc = QJsonDocument::fromJson(list.out);
        const QJsonArray keys =
            doc.isArray() ? doc.array() : doc.object().value(QLatin1String("data")).toArray();
        QCOMPARE(keys.size(), 1);
        const QString lastUsed =
            keys.at(0).toObject().value(QLatin1String("last_used_at")).toString();
        QVERIFY2(!lastUsed.isEmpty(), list.out.constData());
        QVERIFY(QDateTime::fromString(lastUsed, Qt::ISODateWithMs)
                    .secsTo(QDateTime::currentDateTimeUtc()) < 60);
        QVERIFY(!list.out.contains(key));
    }
};

QTEST_GUILESS_MAIN(TestAuth)
#include "tst_auth.moc"
