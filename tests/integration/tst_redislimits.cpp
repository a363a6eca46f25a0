// Limits shared through a real redis-server: three gateway processes on one PostgreSQL and one
// Redis let exactly `burst` requests of a concurrent flood through in total; Redis killed
// under load fails no request (memory decides, health says degraded) and the gateways return
// to Redis by themselves once it is back; with fail_closed they answer 503 meanwhile.
#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "PgTestDatabase.h"
#include "ProcessRun.h"
#include "RedisServer.h"
#include "TestFixtures.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>
#include <vector>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;
const QByteArray kChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":8})";

double metricValue(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).trimmed().toDouble();
    }
    return 0;
}

QByteArray chatRequest(const QByteArray &key, int delayMs)
{
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
           "\r\nContent-Type: application/json\r\nx-mock-delay-ms: " + QByteArray::number(delayMs) +
           "\r\nConnection: close\r\nContent-Length: " + QByteArray::number(kChat.size()) +
           "\r\n\r\n" + kChat;
}

}  // namespace

class TestRedisLimits : public QObject
{
    Q_OBJECT

    MockUpstream m_mock;
    RedisServer m_redis;
    QTemporaryDir m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
    QString m_ini;
    std::vector<std::unique_ptr<GatewayProcess>> m_gateways;

    QStringList siteArgs() const
    {
        return {QStringLiteral("--data-dir"), m_dir.path(), QStringLiteral("--db"), m_pg->url(),
                QStringLiteral("--config"),   m_ini};
    }

    QJsonObject cli(const QStringList &args) { return runCliJson(kBinary, args + siteArgs()); }

    QByteArray createKey(const QString &user, const QStringList &limits)
    {
        return cli(QStringList{QStringLiteral("keys"), QStringLiteral("create"),
                               QStringLiteral("--user"), user, QStringLiteral("--create-user")} +
                   limits)
            .value(QLatin1String("key"))
            .toString()
            .toUtf8();
    }

    GatewayProcess *startGateway(const QStringList &extra = {})
    {
        auto gw = std::make_unique<GatewayProcess>(kBinary);
        gw->setEnvironment(GatewayProcess::cleanEnvironment());
        const QStringList args{QStringLiteral("--headless"), QStringLiteral("--listen"),
                               QStringLiteral("127.0.0.1:0"), QStringLiteral("--admin-listen"),
                               QStringLiteral("127.0.0.1:0"), QStringLiteral("--workers"),
                               QStringLiteral("2"), QStringLiteral("--redis"), m_redis.url(),
                               // Generous for a loaded 2-CPU test machine; the default is 50 ms.
                               QStringLiteral("--redis-timeout"), QStringLiteral("0.5"),
                               QStringLiteral("--health-ttl"), QStringLiteral("0")};
        if (!gw->start(args + siteArgs() + extra) || !gw->waitForListening(kStartTimeoutMs) ||
            !gw->waitForStartupComplete(kStartTimeoutMs)) {
            qWarning().noquote() << gw->why();
            return nullptr;
        }
        m_gateways.push_back(std::move(gw));
        return m_gateways.back().get();
    }

    // `count` requests spread over the gateways, all sent before any answer is read.
    QList<int> flood(const QByteArray &key, int count, int delayMs,
                     const QList<GatewayProcess *> &targets)
    {
        std::vector<std::unique_ptr<HttpConnection>> conns;
        for (int i = 0; i < count; ++i) {
            auto c = std::make_unique<HttpConnection>();
            if (!c->connectTo(QStringLiteral("127.0.0.1"), targets.at(i % targets.size())->port()))
                return {};
            c->sendRaw(chatRequest(key, delayMs));
            conns.push_back(std::move(c));
        }
        QList<int> statuses;
        for (auto &c : conns)
            statuses << c->readReply(20000).status;
        return statuses;
    }

    static int post(GatewayProcess *gw, const QByteArray &key)
    {
        return httpRequest(
                   gw->port(), "POST", "/v1/chat/completions",
                   {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}},
                   kChat)
            .status;
    }

    static QJsonObject redisComponent(GatewayProcess *gw)
    {
        const QJsonArray components =
            httpGet(gw->port(), "/health").json().value(QLatin1String("components")).toArray();
        for (const QJsonValue &c : components) {
            if (c.toObject().value(QLatin1String("name")).toString() == QLatin1String("redis"))
                return c.toObject();
        }
        return {};
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_redis.start(), m_redis.why().constData());
        QVERIFY2(m_mock.start(), m_mock.why().constData());
        QString why;
        const QString fixture = postgresUrl(&why);
        QVERIFY2(!fixture.isEmpty(), qPrintable("no PostgreSQL fixture: " + why));
        m_pg = std::make_unique<PgTestDatabase>(fixture, QStringLiteral("sluice_redis"));
        QVERIFY2(m_pg->create(&why), qPrintable(why));
        m_ini = m_dir.filePath(QStringLiteral("gateway.ini"));
        // "capped" (gpt-capped-*) is a provider key with 4 requests a minute, shared by all.
        QVERIFY(writeTextFile(
            m_ini, QStringLiteral("[upstream.openai]\nkind = openai\nbase_url = %1\n"
                                  "models = gpt-4o*\n\n"
                                  "[upstream.capped]\nbase_url = %1\napi_key = sk-capped\n"
                                  "models = gpt-capped-*\nrequests_per_minute = 4\n")
                       .arg(m_mock.openAiBaseUrl())
                       .toUtf8()));
        // Roomy user limits, so that the keys' own limits are the ones under test.
        QVERIFY(!cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("free"),
                      QStringLiteral("--rps"), QStringLiteral("1000"), QStringLiteral("--burst"),
                      QStringLiteral("1000"), QStringLiteral("--rpm"), QStringLiteral("0"),
                      QStringLiteral("--monthly-requests"), QStringLiteral("0")})
                     .isEmpty());
        // Three requests a minute without a valid key per client address, over all gateways.
        QVERIFY(!cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("anonymous"),
                      QStringLiteral("--rpm"), QStringLiteral("3")})
                     .isEmpty());
    }

    // Three instances, one Redis: with burst 9 and negligible refill, a flood of 90 concurrent
    // requests spread over them lets exactly 9 through in total.
    void exactlyBurstAcrossThreeGateways()
    {
        const QByteArray key =
            createKey(QStringLiteral("shared"), {QStringLiteral("--rps"), QStringLiteral("0.001"),
                                                 QStringLiteral("--burst"), QStringLiteral("9")});
        QVERIFY(!key.isEmpty());
        QList<GatewayProcess *> gws;
        for (int i = 0; i < 3; ++i) {
            GatewayProcess *gw = startGateway();
            QVERIFY(gw);
            gws << gw;
        }
        const QList<int> statuses = flood(key, 90, 200, gws);
        QCOMPARE(statuses.size(), 90);
        QCOMPARE(statuses.count(200), 9);
        QCOMPARE(statuses.count(429), 81);
        for (GatewayProcess *gw : gws) {
            const QByteArray m = httpGet(gw->port(), "/metrics").body;
            QVERIFY2(metricValue(m, "gateway_rate_limit_checks_total{store=\"redis\"}") > 0, m);
            QCOMPARE(metricValue(m, "gateway_rate_limit_fallback_active"), 0.0);
            QVERIFY(metricValue(m, "gateway_redis_commands_total{command=\"evalsha\"}") +
                        metricValue(m, "gateway_redis_commands_total{command=\"eval\"}") >
                    0);
        }
        QCOMPARE(redisComponent(gws.first()).value(QLatin1String("status")).toString(),
                 QStringLiteral("healthy"));
    }

    // concurrent_requests shared too: of twelve requests in flight over three gateways, three
    // run; their slots come back when they end.
    void concurrencyAcrossGateways()
    {
        QCOMPARE(int(m_gateways.size()), 3);
        const QByteArray key = createKey(
            QStringLiteral("conc"), {QStringLiteral("--concurrent-requests"), QStringLiteral("3")});
        QVERIFY(!key.isEmpty());
        QTest::qWait(600);  // the new key reaches the running gateways
        QList<GatewayProcess *> gws;
        for (auto &gw : m_gateways)
            gws << gw.get();
        const QList<int> statuses = flood(key, 12, 400, gws);
        QCOMPARE(statuses.count(200), 3);
        QCOMPARE(statuses.count(429), 9);
        QTest::qWait(1100);  // past the denials each worker remembers for a second
        QCOMPARE(flood(key, 3, 100, gws).count(200), 3);
    }

    // An upstream's own quota is counted in Redis too: of nine requests for it over three
    // gateways, four are sent; the others are answered 429 without reaching it.
    void upstreamQuotaAcrossGateways()
    {
        QCOMPARE(int(m_gateways.size()), 3);
        const QByteArray key = createKey(QStringLiteral("capped"), {});
        QVERIFY(!key.isEmpty());
        QTest::qWait(600);  // the new key reaches the running gateways
        const QByteArray body = R"({"model":"gpt-capped-1","messages":[]})";
        QVERIFY(m_mock.reset());
        QList<int> statuses;
        for (int i = 0; i < 9; ++i) {
            statuses << httpRequest(m_gateways.at(size_t(i % 3))->port(), "POST",
                                    "/v1/chat/completions",
                                    {{"Authorization", "Bearer " + key},
                                     {"Content-Type", "application/json"}},
                                    body)
                            .status;
        }
        QCOMPARE(statuses.count(200), 4);
        QCOMPARE(statuses.count(429), 5);
        QCOMPARE(m_mock.stats().value(QLatin1String("total")).toInt(), 4);
    }

    // Requests without a valid key share one budget per client address across gateways: one
    // refused by each, then the next one is over the anonymous tier's 3 a minute, although the
    // gateway it reaches saw a single failure before (its own throttle would still let it in).
    void anonymousBudgetAcrossGateways()
    {
        QCOMPARE(int(m_gateways.size()), 3);
        const auto bad = [](GatewayProcess *gw) {
            return httpRequest(gw->port(), "POST", "/v1/chat/completions",
                               {{"Authorization", "Bearer sk-sluice-no-such-key-000000000000000"},
                                {"Content-Type", "application/json"}},
                               kChat);
        };
        for (int i = 0; i < 3; ++i) {
            const HttpReply r = bad(m_gateways.at(size_t(i)).get());
            QVERIFY2(r.status == 401, r.describe().constData());
        }
        const HttpReply r = bad(m_gateways.front().get());
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("ip"));
        QCOMPARE(r.header("X-Quota-Tier"), QByteArray("anonymous"));
        QVERIFY(r.header("Retry-After").toInt() >= 1);
        QVERIFY(r.body.contains("ip-rpm"));
    }

    // Redis killed while requests flow: none fails because of it (memory decides), health
    // degrades, and the gateway returns to Redis by itself once it is back.
    void redisLossFailsNoRequest()
    {
        QVERIFY(!m_gateways.empty());
        GatewayProcess *gw = m_gateways.front().get();
        const QByteArray key = createKey(QStringLiteral("loss"), {});
        QVERIFY(!key.isEmpty());
        QTest::qWait(600);  // the new key reaches the running gateways
        QCOMPARE(post(gw, key), 200);

        m_redis.stop();
        for (int i = 0; i < 40; ++i)
            QCOMPARE(post(gw, key), 200);
        QByteArray m = httpGet(gw->port(), "/metrics").body;
        QCOMPARE(metricValue(m, "gateway_rate_limit_fallback_active"), 1.0);
        QVERIFY(metricValue(m, "gateway_rate_limit_checks_total{store=\"memory\"}") >= 39);
        QVERIFY(metricValue(m, "gateway_redis_command_errors_total{command=\"evalsha\"}") >= 1);
        const QJsonObject component = redisComponent(gw);
        QCOMPARE(component.value(QLatin1String("status")).toString(), QStringLiteral("degraded"));
        QCOMPARE(component.value(QLatin1String("critical")).toBool(), false);
        QCOMPARE(httpGet(gw->port(), "/health/ready").status, 200);  // not critical

        QVERIFY2(m_redis.start(), m_redis.why().constData());
        QElapsedTimer t;
        t.start();
        double redisChecks = metricValue(m, "gateway_rate_limit_checks_total{store=\"redis\"}");
        bool back = false;
        while (t.elapsed() < 15000 && !back) {
            QCOMPARE(post(gw, key), 200);
            m = httpGet(gw->port(), "/metrics").body;
            back = metricValue(m, "gateway_rate_limit_fallback_active") == 0 &&
                   metricValue(m, "gateway_rate_limit_checks_total{store=\"redis\"}") > redisChecks;
            if (!back)
                QTest::qWait(200);
        }
        QVERIFY2(back, m);
        QTRY_COMPARE_WITH_TIMEOUT(redisComponent(gw).value(QLatin1String("status")).toString(),
                                  QStringLiteral("healthy"), 5000);
    }

    // fail_closed: while Redis is away, limited requests are refused with 503 in the API's
    // shape, never let through unchecked.
    void failClosedAnswers503()
    {
        GatewayProcess *gw = startGateway({QStringLiteral("--fail-closed")});
        QVERIFY(gw);
        const QByteArray key = createKey(QStringLiteral("closed"), {});
        QVERIFY(!key.isEmpty());
        QTest::qWait(600);
        QCOMPARE(post(gw, key), 200);
        m_redis.stop();
        const HttpReply r = httpRequest(
            gw->port(), "POST", "/v1/chat/completions",
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}}, kChat);
        QVERIFY2(r.status == 503, r.describe().constData());
        QCOMPARE(r.json()
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("code"))
                     .toString(),
                 QStringLiteral("rate_limiter_unavailable"));
        QCOMPARE(post(gw, key), 503);
        QVERIFY2(m_redis.start(), m_redis.why().constData());
        QTRY_COMPARE_WITH_TIMEOUT(post(gw, key), 200, 15000);
    }

    void cleanupTestCase()
    {
        for (auto &gw : m_gateways) {
            gw->terminate();
            QVERIFY(gw->waitForExit(15000));
        }
    }
};

QTEST_GUILESS_MAIN(TestRedisLimits)
#include "tst_redislimits.moc"
