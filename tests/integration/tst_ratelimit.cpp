// The rate limiter through the real binary in front of the mock LLM upstream: exactly `burst`
// requests of a flood get through, the headers of allowed answers and the 429s in both API
// families, monthly quotas, token limits reserved and settled, per-route costs, limit edits
// applied to the running gateway within a second, the metrics, and a bad [cost] section.
#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "ProcessRun.h"
#include "TestFixtures.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QtTest>
#include <cmath>
#include <memory>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;

const QByteArray kChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}],"max_tokens":20})";
const QByteArray kMessages =
    R"({"model":"claude-3-5-haiku-latest","max_tokens":20,"messages":[{"role":"user","content":"hi"}]})";

double metricValue(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).trimmed().toDouble();
    }
    return std::nan("");
}

}  // namespace

class TestRateLimit : public QObject
{
    Q_OBJECT

    MockUpstream m_mock;
    QTemporaryDir m_dir;
    QString m_ini;
    std::unique_ptr<GatewayProcess> m_gw;
    QHash<QString, QByteArray> m_keys;  // by user name, one key each

    QStringList siteArgs() const
    {
        return {QStringLiteral("--data-dir"), m_dir.path(), QStringLiteral("--config"), m_ini};
    }

    QJsonObject cli(const QStringList &args) { return runCliJson(kBinary, args + siteArgs()); }

    // A new user with one key; `limits` are `keys create` flags (--rps 1 --burst 2 ...).
    QByteArray createKey(const QString &user, const QStringList &limits)
    {
        const QJsonObject o =
            cli(QStringList{QStringLiteral("keys"), QStringLiteral("create"),
                            QStringLiteral("--user"), user, QStringLiteral("--create-user")} +
                limits);
        return o.value(QLatin1String("key")).toString().toUtf8();
    }

    HttpReply post(const QByteArray &key, const QByteArray &path, const QByteArray &body,
                   HttpHeaderList extra = {})
    {
        HttpHeaderList h{{"Content-Type", "application/json"}};
        if (path.startsWith("/v1/messages")) {
            h << std::pair<QByteArray, QByteArray>("x-api-key", key)
              << std::pair<QByteArray, QByteArray>("anthropic-version", "2023-06-01");
        } else {
            h << std::pair<QByteArray, QByteArray>("Authorization", "Bearer " + key);
        }
        return httpRequest(m_gw->port(), "POST", path, h + extra, body);
    }

    // Sends `count` requests on separate connections before reading any answer, so they are
    // all in flight at once (the mock holds each for `delayMs`). Returns the statuses.
    QList<int> flood(const QByteArray &key, int count, int delayMs)
    {
        std::vector<std::unique_ptr<HttpConnection>> conns;
        for (int i = 0; i < count; ++i) {
            auto c = std::make_unique<HttpConnection>();
            if (!c->connectTo(QStringLiteral("127.0.0.1"), m_gw->port()))
                return {};
            c->sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                       key + "\r\nContent-Type: application/json\r\nx-mock-delay-ms: " +
                       QByteArray::number(delayMs) + "\r\nConnection: close\r\nContent-Length: " +
                       QByteArray::number(kChat.size()) + "\r\n\r\n" + kChat);
            conns.push_back(std::move(c));
        }
        QList<int> statuses;
        for (auto &c : conns)
            statuses << c->readReply(15000).status;
        return statuses;
    }

    // Starts the gateway on this site; false (with the log printed) when it does not come up.
    bool startGateway()
    {
        m_gw = std::make_unique<GatewayProcess>(kBinary);
        m_gw->setEnvironment(GatewayProcess::cleanEnvironment());
        const QStringList args{QStringLiteral("--headless"),
                               QStringLiteral("--listen"),
                               QStringLiteral("127.0.0.1:0"),
                               QStringLiteral("--admin-listen"),
                               QStringLiteral("127.0.0.1:0"),
                               QStringLiteral("--workers"),
                               QStringLiteral("2")};
        if (!m_gw->start(args + siteArgs()) || !m_gw->waitForListening(kStartTimeoutMs) ||
            !m_gw->waitForStartupComplete(kStartTimeoutMs)) {
            qWarning().noquote() << m_gw->why();
            return false;
        }
        return true;
    }

    // How many requests the mock got with each provider key since its last reset.
    QHash<QByteArray, int> upstreamRequestsByKey()
    {
        QHash<QByteArray, int> out;
        for (const QJsonValue &r : m_mock.requests()) {
            const QString auth = r.toObject()
                                     .value(QLatin1String("headers"))
                                     .toObject()
                                     .value(QLatin1String("authorization"))
                                     .toString();
            ++out[auth.mid(7).toUtf8()];  // "Bearer "
        }
        return out;
    }

    static QByteArray chatFor(const char *model)
    {
        return QByteArray("{\"model\":\"") + model +
               "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5}";
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_mock.start(), m_mock.why().constData());
        m_ini = m_dir.filePath(QStringLiteral("gateway.ini"));
        // Upstream protection: "capped" may take 3 requests a minute; "primary" and "backup"
        // (same mock, told apart by their provider keys) serve gpt-rest-*, "lone" gpt-lone-*.
        QVERIFY(writeTextFile(
            m_ini, QStringLiteral("[upstream.openai]\nkind = openai\nbase_url = %1\n"
                                  "models = gpt-4o*, text-*\n\n"
                                  "[upstream.anthropic]\nkind = anthropic\nbase_url = %2\n\n"
                                  "[upstream.capped]\nbase_url = %1\napi_key = sk-capped\n"
                                  "models = gpt-capped-*\nrequests_per_minute = 3\n\n"
                                  "[upstream.primary]\nbase_url = %1\napi_key = sk-primary\n"
                                  "models = gpt-rest-*\npriority = 1\n\n"
                                  "[upstream.backup]\nbase_url = %1\napi_key = sk-backup\n"
                                  "models = gpt-rest-*\npriority = 2\n\n"
                                  "[upstream.lone]\nbase_url = %1\napi_key = sk-lone\n"
                                  "models = gpt-lone-*\n\n"
                                  "[cost]\nembeddings = 0.5\ncount_tokens = 0\n")
                       .arg(m_mock.openAiBaseUrl(), m_mock.baseUrl())
                       .toUtf8()));
        // The built-in tiers limit users too (free: 100 requests/min): make the user side
        // roomy so that the key's limits are the ones under test, unless a test says otherwise.
        const QJsonObject tier =
            cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("free"),
                 QStringLiteral("--rps"), QStringLiteral("1000"), QStringLiteral("--burst"),
                 QStringLiteral("1000"), QStringLiteral("--rpm"), QStringLiteral("0"),
                 QStringLiteral("--monthly-requests"), QStringLiteral("0")});
        QVERIFY(!tier.isEmpty());
        // "permodel": 2 requests a minute on gpt-4o-mini per key, nothing else on top of the
        // key defaults. "shadowed": 1 request a minute, in shadow mode.
        QVERIFY(!cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("permodel"),
                      QStringLiteral("--model"), QStringLiteral("gpt-4o-mini"),
                      QStringLiteral("--rpm"), QStringLiteral("2")})
                     .isEmpty());
        QVERIFY(!cli({QStringLiteral("tiers"), QStringLiteral("set"), QStringLiteral("shadowed"),
                      QStringLiteral("--rpm"), QStringLiteral("1"), QStringLiteral("--shadow")})
                     .isEmpty());
        // Keys are made before the gateway starts, so every one is known from its first request.
        const QList<std::pair<QString, QStringList>> keys{
            {QStringLiteral("flood"),
             {QStringLiteral("--rps"), QStringLiteral("0.001"), QStringLiteral("--burst"),
              QStringLiteral("7")}},
            {QStringLiteral("hdr"),
             {QStringLiteral("--rps"), QStringLiteral("10"), QStringLiteral("--burst"),
              QStringLiteral("4"), QStringLiteral("--tpm"), QStringLiteral("100000")}},
            {QStringLiteral("hdr-a"),
             {QStringLiteral("--rps"), QStringLiteral("10"), QStringLiteral("--burst"),
              QStringLiteral("4"), QStringLiteral("--tpm"), QStringLiteral("5000")}},
            {QStringLiteral("deny"),
             {QStringLiteral("--rps"), QStringLiteral("0.5"), QStringLiteral("--burst"),
              QStringLiteral("1")}},
            {QStringLiteral("deny-a"),
             {QStringLiteral("--rps"), QStringLiteral("0.01"), QStringLiteral("--burst"),
              QStringLiteral("1")}},
            {QStringLiteral("monthly"),
             {QStringLiteral("--monthly-requests"), QStringLiteral("2")}},
            {QStringLiteral("tpm"), {QStringLiteral("--tpm"), QStringLiteral("300")}},
            {QStringLiteral("cost"),
             {QStringLiteral("--rps"), QStringLiteral("0.001"), QStringLiteral("--burst"),
              QStringLiteral("2")}},
            {QStringLiteral("edit"), {}},
            {QStringLiteral("up"), {}},
            {QStringLiteral("permodel"), {QStringLiteral("--tier"), QStringLiteral("permodel")}},
            {QStringLiteral("shadow"), {QStringLiteral("--tier"), QStringLiteral("shadowed")}},
            {QStringLiteral("conc"),
             {QStringLiteral("--concurrent-requests"), QStringLiteral("2")}}};
        for (const auto &[user, limits] : keys) {
            m_keys.insert(user, createKey(user, limits));
            QVERIFY2(!m_keys.value(user).isEmpty(), qPrintable(user));
        }

        QVERIFY(startGateway());
    }

    // With burst B and (almost) no refill, a flood of concurrent requests lets exactly B pass,
    // however the two workers interleave.
    void exactlyBurstPassUnderConcurrency()
    {
        const QByteArray key = m_keys.value(QStringLiteral("flood"));
        QVERIFY(!key.isEmpty());
        const QList<int> statuses = flood(key, 60, 300);
        QCOMPARE(statuses.size(), 60);
        QCOMPARE(statuses.count(200), 7);
        QCOMPARE(statuses.count(429), 53);
    }

    // Allowed answers carry every convention's headers, describing the limit closest to
    // exhaustion; the upstream's own rate-limit headers are replaced.
    void allowedHeadersOpenAi()
    {
        const QByteArray key = m_keys.value(QStringLiteral("hdr"));
        const qint64 before = QDateTime::currentSecsSinceEpoch();
        const HttpReply r = post(key, "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 200, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Limit"), QByteArray("4"));
        QCOMPARE(r.header("X-RateLimit-Remaining"), QByteArray("3"));
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("key"));
        QCOMPARE(r.header("X-Quota-Tier"), QByteArray("free"));
        const qint64 reset = r.header("X-RateLimit-Reset").toLongLong();
        QVERIFY2(reset >= before && reset <= before + 2, r.header("X-RateLimit-Reset"));
        QCOMPARE(r.header("RateLimit"), QByteArray("\"key-rps\";r=3;t=1"));
        const QByteArray policy = r.header("RateLimit-Policy");
        QVERIFY2(policy.contains("\"key-rps\";q=4;w=1"), policy);
        QVERIFY2(policy.contains("\"key-tpm\";q=100000;w=60"), policy);
        QVERIFY2(policy.contains("\"user-rps\";q=1000;w=1"), policy);
        // OpenAI's own names; exactly one of each (the mock's were dropped).
        QCOMPARE(r.headerCount("x-ratelimit-limit-requests"), 1);
        QCOMPARE(r.header("x-ratelimit-limit-requests"), QByteArray("4"));
        QCOMPARE(r.header("x-ratelimit-remaining-requests"), QByteArray("3"));
        QVERIFY2(r.header("x-ratelimit-reset-requests").endsWith("ms"),
                 r.header("x-ratelimit-reset-requests"));
        QCOMPARE(r.header("x-ratelimit-limit-tokens"), QByteArray("100000"));
        // The reservation (prompt + max_tokens) was settled with the mock's real usage.
        const QJsonObject usage = r.json().value(QLatin1String("usage")).toObject();
        const qint64 used = usage.value(QLatin1String("total_tokens")).toInteger();
        QVERIFY(used > 0);
        const HttpReply again = post(key, "/v1/chat/completions", kChat);
        QCOMPARE(again.status, 200);
        const qint64 remaining = again.header("x-ratelimit-remaining-tokens").toLongLong();
        // After the second request's reservation: 100000 - used - (its estimate) or better.
        QVERIFY2(remaining < 100000 - used && remaining > 100000 - used - 200,
                 again.header("x-ratelimit-remaining-tokens"));
        QCOMPARE(again.headerCount("anthropic-ratelimit-requests-limit"), 0);
        QCOMPARE(again.headerCount("Retry-After"), 0);
    }

    void allowedHeadersAnthropic()
    {
        const QByteArray key = m_keys.value(QStringLiteral("hdr-a"));
        const HttpReply r = post(key, "/v1/messages", kMessages);
        QVERIFY2(r.status == 200, r.describe().constData());
        QCOMPARE(r.header("anthropic-ratelimit-requests-limit"), QByteArray("4"));
        QCOMPARE(r.header("anthropic-ratelimit-requests-remaining"), QByteArray("3"));
        const QDateTime reset = QDateTime::fromString(
            QString::fromLatin1(r.header("anthropic-ratelimit-requests-reset")), Qt::ISODate);
        QVERIFY2(reset.isValid() && reset.timeSpec() == Qt::UTC,
                 r.header("anthropic-ratelimit-requests-reset"));
        QVERIFY(qAbs(reset.secsTo(QDateTime::currentDateTimeUtc())) <= 2);
        QCOMPARE(r.header("anthropic-ratelimit-tokens-limit"), QByteArray("5000"));
        QCOMPARE(r.headerCount("anthropic-ratelimit-tokens-remaining"), 1);
        QCOMPARE(r.headerCount("x-ratelimit-limit-requests"), 0);
        QCOMPARE(r.header("X-RateLimit-Limit"), QByteArray("4"));
    }

    // A short wait: the SDKs may retry, so no x-should-retry; Retry-After in whole seconds.
    void denialRetryableOpenAi()
    {
        const QByteArray key = m_keys.value(QStringLiteral("deny"));
        QCOMPARE(post(key, "/v1/chat/completions", kChat).status, 200);
        const int upstreamBefore = m_mock.stats().value(QLatin1String("total")).toInt();
        const HttpReply r = post(key, "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 429, r.describe().constData());
        // The denied request never reached the upstream.
        QCOMPARE(m_mock.stats().value(QLatin1String("total")).toInt(), upstreamBefore);
        QCOMPARE(r.header("Retry-After"), QByteArray("2"));
        const int ms = r.header("retry-after-ms").toInt();
        QVERIFY2(ms > 1500 && ms <= 2000, r.header("retry-after-ms"));
        QCOMPARE(r.headerCount("x-should-retry"), 0);
        QCOMPARE(r.header("X-RateLimit-Remaining"), QByteArray("0"));
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("key"));
        QCOMPARE(r.header("RateLimit"), QByteArray("\"key-rps\";r=0;t=2"));
        const QJsonObject e = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(e.value(QLatin1String("code")).toString(), QStringLiteral("rate_limit_exceeded"));
        QCOMPARE(e.value(QLatin1String("type")).toString(), QStringLiteral("requests"));
        QVERIFY2(e.value(QLatin1String("message")).toString().contains(QLatin1String("key-rps")),
                 r.body.constData());
    }

    // A wait of minutes: x-should-retry: false, so the SDKs give up at once.
    void denialLongWaitAnthropic()
    {
        const QByteArray key = m_keys.value(QStringLiteral("deny-a"));
        QCOMPARE(post(key, "/v1/messages", kMessages).status, 200);
        const HttpReply r = post(key, "/v1/messages", kMessages);
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.header("x-should-retry"), QByteArray("false"));
        QVERIFY(r.header("Retry-After").toInt() >= 99);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QLatin1String("type")).toString(), QStringLiteral("error"));
        QCOMPARE(o.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("rate_limit_error"));
        QCOMPARE(r.header("anthropic-ratelimit-requests-remaining"), QByteArray("0"));
    }

    // Monthly quota: the third request of a two-request month is refused for good.
    void monthlyQuota()
    {
        const QByteArray key = m_keys.value(QStringLiteral("monthly"));
        const HttpReply first = post(key, "/v1/chat/completions", kChat);
        QCOMPARE(first.status, 200);
        QCOMPARE(first.header("X-Quota-Monthly-Remaining"), QByteArray("1"));
        QCOMPARE(post(key, "/v1/chat/completions", kChat).status, 200);
        const HttpReply r = post(key, "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("monthly"));
        QCOMPARE(r.header("X-Quota-Monthly-Remaining"), QByteArray("0"));
        QCOMPARE(r.header("x-should-retry"), QByteArray("false"));
        const QJsonObject e = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(e.value(QLatin1String("code")).toString(), QStringLiteral("insufficient_quota"));
        QCOMPARE(e.value(QLatin1String("type")).toString(), QStringLiteral("insufficient_quota"));
        // Retry-After points at the first second of next month (UTC).
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QDateTime next(QDate(now.date().year(), now.date().month(), 1).addMonths(1),
                             QTime(0, 0), Qt::UTC);
        QVERIFY(qAbs(now.secsTo(next) - r.header("Retry-After").toLongLong()) <= 2);
    }

    // Tokens per minute: a request whose estimate alone exceeds the limit is refused without
    // a retry; smaller ones pass while the reservations fit.
    void tokensPerMinute()
    {
        const QByteArray key = m_keys.value(QStringLiteral("tpm"));
        const QByteArray big =
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000})";
        const HttpReply tooBig = post(key, "/v1/chat/completions", big);
        QVERIFY2(tooBig.status == 429, tooBig.describe().constData());
        QCOMPARE(tooBig.header("X-RateLimit-Type"), QByteArray("tokens"));
        QCOMPARE(tooBig.header("x-should-retry"), QByteArray("false"));
        QCOMPARE(tooBig.json()
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("type"))
                     .toString(),
                 QStringLiteral("tokens"));
        // Each reserves about 100 (prompt + max_tokens 80) and really uses 10: settling gives
        // the rest back, so far more than three fit in the minute.
        const QByteArray small =
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":80})";
        for (int i = 0; i < 10; ++i) {
            const HttpReply r =
                post(key, "/v1/chat/completions", small,
                     {{"x-mock-prompt-tokens", "5"}, {"x-mock-completion-tokens", "5"}});
            QVERIFY2(r.status == 200, r.describe().constData());
        }
        // Without settling, usage 10 x 10 = 100 would show as 10 reservations of ~100.
        const HttpReply last =
            post(key, "/v1/chat/completions", small,
                 {{"x-mock-prompt-tokens", "5"}, {"x-mock-completion-tokens", "5"}});
        QCOMPARE(last.status, 200);
        const qint64 remaining = last.header("x-ratelimit-remaining-tokens").toLongLong();
        QVERIFY2(remaining >= 300 - 110 - 100 && remaining < 300 - 100,
                 last.header("x-ratelimit-remaining-tokens"));
    }

    // [cost] embeddings = 0.5: four embeddings calls fit a burst of two; count_tokens is free.
    void routeCost()
    {
        const QByteArray key = m_keys.value(QStringLiteral("cost"));
        const QByteArray body = R"({"model":"text-embedding-3-small","input":"hello"})";
        for (int i = 0; i < 4; ++i)
            QCOMPARE(post(key, "/v1/embeddings", body).status, 200);
        QCOMPARE(post(key, "/v1/embeddings", body).status, 429);
        const HttpReply counted = post(key, "/v1/messages/count_tokens", kMessages);
        QVERIFY2(counted.status == 200, counted.describe().constData());
    }

    // An edit through the CLI reaches the running gateway within a second.
    void limitEditAppliesWithinOneSecond()
    {
        const QByteArray key = m_keys.value(QStringLiteral("edit"));
        QVERIFY(!cli({QStringLiteral("users"), QStringLiteral("set"), QStringLiteral("edit"),
                      QStringLiteral("--rps"), QStringLiteral("0.001"), QStringLiteral("--burst"),
                      QStringLiteral("1")})
                     .isEmpty());
        QElapsedTimer t;
        t.start();
        // Wait for the tight user limit to be in force (it denies the second request).
        int status = 0;
        while (t.elapsed() < 1500) {
            status = post(key, "/v1/chat/completions", kChat).status;
            if (status == 429)
                break;
        }
        QCOMPARE(status, 429);
        const HttpReply denied = post(key, "/v1/chat/completions", kChat);
        QCOMPARE(denied.header("X-RateLimit-Type"), QByteArray("user"));
        QVERIFY(!cli({QStringLiteral("users"), QStringLiteral("set"), QStringLiteral("edit"),
                      QStringLiteral("--burst"), QStringLiteral("100")})
                     .isEmpty());
        t.restart();
        while (t.elapsed() < 1500) {
            status = post(key, "/v1/chat/completions", kChat).status;
            if (status == 200)
                break;
            QTest::qWait(50);
        }
        QCOMPARE(status, 200);
        QVERIFY2(t.elapsed() < 1500, QByteArray::number(t.elapsed()));
    }

    // concurrent_requests: of six requests in flight at once, two run; once they end their
    // slots are free again.
    void concurrentRequests()
    {
        const QByteArray key = m_keys.value(QStringLiteral("conc"));
        const QList<int> statuses = flood(key, 6, 400);
        QCOMPARE(statuses.count(200), 2);
        QCOMPARE(statuses.count(429), 4);
        for (int i = 0; i < 3; ++i) {
            const HttpReply r = post(key, "/v1/chat/completions", kChat);
            QVERIFY2(r.status == 200, r.describe().constData());
        }
        QCOMPARE(flood(key, 2, 100).count(200), 2);
    }

    void metricsCountDecisionsAndHits()
    {
        const HttpReply m = httpGet(m_gw->port(), "/metrics");
        QCOMPARE(m.status, 200);
        QVERIFY(metricValue(m.body, "gateway_rate_limit_checks_total{store=\"memory\"}") > 60);
        QVERIFY(metricValue(m.body, "gateway_rate_limit_hits_total{type=\"key\",tier=\"free\"}") >=
                53);
        QVERIFY(metricValue(m.body,
                            "gateway_rate_limit_hits_total{type=\"monthly\",tier=\"free\"}") >= 1);
        QVERIFY(metricValue(m.body, "gateway_rate_limit_keys_active") > 0);
    }

    // /health and /metrics are never limited.
    void opsRoutesAreExempt()
    {
        for (int i = 0; i < 50; ++i)
            QCOMPARE(httpGet(m_gw->port(), "/health/live").status, 200);
    }

    // [upstream.capped] requests_per_minute = 3: the fourth request in the minute is never
    // sent; the client hears when the upstream takes requests again.
    void upstreamOwnQuota()
    {
        QVERIFY(m_mock.reset());
        const QByteArray key = m_keys.value(QStringLiteral("up"));
        for (int i = 0; i < 3; ++i) {
            const HttpReply r = post(key, "/v1/chat/completions", chatFor("gpt-capped-1"));
            QVERIFY2(r.status == 200, r.describe().constData());
        }
        const HttpReply r = post(key, "/v1/chat/completions", chatFor("gpt-capped-1"));
        QVERIFY2(r.status == 429, r.describe().constData());
        const QJsonObject error = r.json().value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toString(),
                 QStringLiteral("upstream_rate_limited"));
        // A sliding minute frees room within two minutes at most; past one minute the SDKs are
        // told not to retry on their own.
        const int retryAfter = r.header("Retry-After").toInt();
        QVERIFY2(retryAfter >= 1 && retryAfter <= 120, r.header("Retry-After").constData());
        QCOMPARE(r.header("x-should-retry").isNull(), retryAfter <= 60);
        // The client's own limits were not the reason: its headers still show room.
        QVERIFY(r.header("X-RateLimit-Remaining").toDouble() > 0);
        QCOMPARE(upstreamRequestsByKey().value("sk-capped"), 3);
        const HttpReply m = httpGet(m_gw->port(), "/metrics");
        QCOMPARE(
            metricValue(m.body,
                        R"(gateway_upstream_throttled_total{upstream="capped",reason="limit"})"),
            1.0);
    }

    // An upstream answering 429 rests as long as it asked: the request falls over to the next
    // upstream serving the model, and later requests skip it until the wait is over.
    void upstream429FallsOverAndRests()
    {
        QVERIFY(m_mock.reset());
        const QByteArray key = m_keys.value(QStringLiteral("up"));
        const HttpHeaderList primary429{{"x-mock-status", "429"},
                                        {"x-mock-status-key", "sk-primary"},
                                        {"x-mock-retry-after", "30"}};
        HttpReply r = post(key, "/v1/chat/completions", chatFor("gpt-rest-1"), primary429);
        QVERIFY2(r.status == 200, r.describe().constData());
        QVERIFY(r.header("Retry-After").isNull());
        QHash<QByteArray, int> seen = upstreamRequestsByKey();
        QCOMPARE(seen.value("sk-primary"), 1);
        QCOMPARE(seen.value("sk-backup"), 1);
        QVERIFY(m_gw->waitForLog(QRegularExpression(
            QStringLiteral("upstream primary answered 429; resting it for 30000 ms"))));
        // Within the 30 s the primary is not asked again.
        for (int i = 0; i < 3; ++i) {
            r = post(key, "/v1/chat/completions", chatFor("gpt-rest-2"));
            QVERIFY2(r.status == 200, r.describe().constData());
        }
        seen = upstreamRequestsByKey();
        QCOMPARE(seen.value("sk-primary"), 1);
        QCOMPARE(seen.value("sk-backup"), 4);
        const HttpReply m = httpGet(m_gw->port(), "/metrics");
        QCOMPARE(metricValue(
                     m.body,
                     R"(gateway_upstream_throttled_total{upstream="primary",reason="cooldown"})"),
                 3.0);
    }

    // [tier.permodel.model.gpt-4o-mini] requests_per_minute = 2: counted per key on that model
    // only; the 429 names the model limit.
    void perModelLimits()
    {
        const QByteArray key = m_keys.value(QStringLiteral("permodel"));
        for (int i = 0; i < 2; ++i) {
            const HttpReply r = post(key, "/v1/chat/completions", kChat);
            QVERIFY2(r.status == 200, r.describe().constData());
            QVERIFY2(r.header("RateLimit-Policy").contains("\"model-rpm\";q=2;w=60"),
                     r.header("RateLimit-Policy").constData());
        }
        HttpReply r = post(key, "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("model"));
        QCOMPARE(r.header("X-RateLimit-Limit"), QByteArray("2"));
        QVERIFY2(r.body.contains("model-rpm"), r.body.constData());
        // Another model is not under that limit.
        r = post(key, "/v1/chat/completions", chatFor("gpt-4o"));
        QVERIFY2(r.status == 200, r.describe().constData());
        QVERIFY(!r.header("RateLimit-Policy").contains("model-"));
    }

    // Tier "shadowed" (1 request a minute, shadow mode): nothing is denied and clients see no
    // rate-limit headers, but the would-be denials are counted.
    void shadowModeDeniesNothing()
    {
        const QByteArray key = m_keys.value(QStringLiteral("shadow"));
        for (int i = 0; i < 4; ++i) {
            const HttpReply r = post(key, "/v1/chat/completions", kChat);
            QVERIFY2(r.status == 200, r.describe().constData());
            QVERIFY(r.header("X-RateLimit-Limit").isNull());
            QVERIFY(r.header("Retry-After").isNull());
        }
        const HttpReply m = httpGet(m_gw->port(), "/metrics");
        QCOMPARE(metricValue(m.body,
                             R"(gateway_rate_limit_shadow_hits_total{type="key",tier="shadowed"})"),
                 3.0);
        QVERIFY(std::isnan(
            metricValue(m.body, R"(gateway_rate_limit_hits_total{type="key",tier="shadowed"})")));
    }

    // Requests without a valid key count against the client address in the anonymous tier:
    // within its budget the 401 carries the address's rate-limit headers.
    void anonymousRequestsCountPerAddress()
    {
        const HttpReply r =
            post("sk-sluice-not-a-real-key-at-all-0000000000000000", "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 401, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("ip"));
        QCOMPARE(r.header("X-Quota-Tier"), QByteArray("anonymous"));
        QVERIFY2(r.header("RateLimit-Policy").contains("\"ip-rpm\";q=100;w=60"),
                 r.header("RateLimit-Policy").constData());
    }

    // No other upstream serves the model: the client gets a 429 with the upstream's wait (not
    // the provider's body, which describes the operator's account), and no retry advice when
    // the wait is long; later requests are answered without bothering the upstream.
    void upstream429WithoutFailover()
    {
        QVERIFY(m_mock.reset());
        const QByteArray key = m_keys.value(QStringLiteral("up"));
        HttpReply r = post(key, "/v1/chat/completions", chatFor("gpt-lone-1"),
                           {{"x-mock-status", "429"}, {"x-mock-retry-after", "120"}});
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.json()
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("code"))
                     .toString(),
                 QStringLiteral("upstream_rate_limited"));
        QVERIFY(!r.body.contains("Mock error"));
        QCOMPARE(r.header("Retry-After"), QByteArray("120"));
        QCOMPARE(r.header("x-should-retry"), QByteArray("false"));
        r = post(key, "/v1/chat/completions", chatFor("gpt-lone-2"));
        QVERIFY2(r.status == 429, r.describe().constData());
        const int retryAfter = r.header("Retry-After").toInt();
        QVERIFY2(retryAfter > 100 && retryAfter <= 120, r.header("Retry-After").constData());
        QCOMPARE(upstreamRequestsByKey().value("sk-lone"), 1);
    }

    // A [cost] key that names no route is a configuration error: exit 2 naming it.
    void badCostSectionExits2()
    {
        QTemporaryDir dir;
        const QString ini = dir.filePath(QStringLiteral("bad.ini"));
        QFile f(ini);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[cost]\nchat = 2\n");
        f.close();
        GatewayProcess gw(kBinary);
        gw.setEnvironment(GatewayProcess::cleanEnvironment());
        QVERIFY(gw.start({QStringLiteral("--headless"), QStringLiteral("--config"), ini,
                          QStringLiteral("--data-dir"), dir.path()}));
        QVERIFY(gw.waitForExit(10000));
        QVERIFY(gw.exitedWith(2));
        QVERIFY2(gw.log().contains(QLatin1String("unknown key \"chat\" in [cost]")),
                 gw.log().toUtf8().constData());
    }

    // Every denial is in the violations table, aggregated per minute: the flood's 53 denials of
    // key-rps. The gateway restarts with an admin token first (SIGTERM writes what the
    // violations log still holds), and the admin API reads them back.
    void violationsAreRecorded()
    {
        QVERIFY(
            writeTextFile(m_ini, "\n[admin]\nadmin_token = ratelimit-test-admin-token\n", true));
        m_gw->terminate();
        QVERIFY(m_gw->waitForExit(10000));
        QVERIFY(m_gw->exitedWith(0));
        QVERIFY(startGateway());
        const QRegularExpression adminLine(
            QStringLiteral(R"(admin API listening on 127\.0\.0\.1:(\d+))"));
        QVERIFY(m_gw->waitForLog(adminLine, 5000));
        const quint16 adminPort = quint16(adminLine.match(m_gw->log()).captured(1).toUInt());
        auto admin = [adminPort](const QByteArray &target) {
            return httpGet(adminPort, target,
                           {{"Authorization", "Bearer ratelimit-test-admin-token"}});
        };

        const HttpReply keys = admin("/admin/v1/keys?user=flood");
        QVERIFY2(keys.status == 200, keys.describe().constData());
        const QJsonObject key =
            keys.json().value(QLatin1String("data")).toArray().first().toObject();
        const qint64 keyId = key.value(QLatin1String("id")).toInteger();
        const qint64 userId = key.value(QLatin1String("user_id")).toInteger();
        QVERIFY(keyId > 0 && userId > 0);

        const HttpReply r = admin("/admin/v1/violations?key_id=" + QByteArray::number(keyId) +
                                  "&limit_name=key-rps");
        QVERIFY2(r.status == 200, r.describe().constData());
        const QJsonArray rows = r.json().value(QLatin1String("data")).toArray();
        // One row per minute: one, or two when the flood straddled a minute.
        QVERIFY2(rows.size() == 1 || rows.size() == 2, r.body.constData());
        qint64 count = 0;
        for (const QJsonValue &v : rows) {
            const QJsonObject row = v.toObject();
            count += row.value(QLatin1String("count")).toInteger();
            QCOMPARE(row.value(QLatin1String("user_id")).toInteger(), userId);
            QCOMPARE(row.value(QLatin1String("key_id")).toInteger(), keyId);
            QCOMPARE(row.value(QLatin1String("limit_name")).toString(), QStringLiteral("key-rps"));
            QCOMPARE(row.value(QLatin1String("limit_type")).toString(), QStringLiteral("key"));
            QCOMPARE(row.value(QLatin1String("tier")).toString(), QStringLiteral("free"));
            QCOMPARE(row.value(QLatin1String("route")).toString(),
                     QStringLiteral("/v1/chat/completions"));
            QCOMPARE(row.value(QLatin1String("shadow")).toBool(), false);
            const QDateTime minute = QDateTime::fromString(
                row.value(QLatin1String("minute")).toString(), Qt::ISODateWithMs);
            QVERIFY(minute.isValid() && minute.time().second() == 0);
            QVERIFY(qAbs(minute.secsTo(QDateTime::currentDateTimeUtc())) < 600);
        }
        QCOMPARE(count, 53);
        QVERIFY(r.json().value(QLatin1String("next_after")).isNull());

        // The other denials of this run are there too, under their own limits; a filter that
        // matches nothing answers an empty page.
        const HttpReply monthly = admin("/admin/v1/violations?limit_name=key-monthly-requests");
        QCOMPARE(monthly.status, 200);
        QVERIFY(!monthly.json().value(QLatin1String("data")).toArray().isEmpty());
        QCOMPARE(monthly.json()
                     .value(QLatin1String("data"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QLatin1String("limit_type"))
                     .toString(),
                 QStringLiteral("monthly"));
        const HttpReply none =
            admin("/admin/v1/violations?user_id=" + QByteArray::number(userId) + "&shadow=true");
        QCOMPARE(none.status, 200);
        QVERIFY(none.json().value(QLatin1String("data")).toArray().isEmpty());

        // Shadow mode's would-be denials (shadowModeDeniesNothing) are there, marked shadow.
        const HttpReply shadow = admin("/admin/v1/violations?shadow=true");
        QCOMPARE(shadow.status, 200);
        qint64 shadowCount = 0;
        for (const QJsonValue &v : shadow.json().value(QLatin1String("data")).toArray()) {
            const QJsonObject row = v.toObject();
            QCOMPARE(row.value(QLatin1String("shadow")).toBool(), true);
            QCOMPARE(row.value(QLatin1String("tier")).toString(), QStringLiteral("shadowed"));
            QCOMPARE(row.value(QLatin1String("limit_name")).toString(), QStringLiteral("key-rpm"));
            shadowCount += row.value(QLatin1String("count")).toInteger();
        }
        QCOMPARE(shadowCount, 3);
    }

    // Monthly quotas raise an alert at 80 % and one at 100 %, once each: a row in `alerts`
    // (GET /admin/v1/alerts) and a warning in the log. Runs after violationsAreRecorded(), which
    // restarted the gateway with an admin token.
    void monthlyQuotaAlerts()
    {
        const QRegularExpression adminLine(
            QStringLiteral(R"(admin API listening on 127\.0\.0\.1:(\d+))"));
        QVERIFY(m_gw->waitForLog(adminLine, 5000));
        const quint16 adminPort = quint16(adminLine.match(m_gw->log()).captured(1).toUInt());
        auto admin = [adminPort](const QByteArray &target) {
            return httpGet(adminPort, target,
                           {{"Authorization", "Bearer ratelimit-test-admin-token"}});
        };
        auto keyOf = [&admin](const char *user) {
            const HttpReply keys = admin(QByteArray("/admin/v1/keys?user=") + user);
            return keys.json().value(QLatin1String("data")).toArray().first().toObject();
        };
        // Waits until the alerts of `userId` are `count` rows (they are written at once).
        auto alertsOf = [&admin](qint64 userId, int count) {
            QJsonArray rows;
            QElapsedTimer t;
            t.start();
            while (t.elapsed() < 5000) {
                rows = admin("/admin/v1/alerts?user_id=" + QByteArray::number(userId))
                           .json()
                           .value(QLatin1String("data"))
                           .toArray();
                if (rows.size() >= count)
                    break;
                QTest::qWait(100);
            }
            return rows;
        };
        const QString month = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM"));

        // "monthly" (2 a month) reached 80 % and 100 % with its second request, before the
        // restart; being refused again after it raises nothing new.
        const QJsonObject monthlyKey = keyOf("monthly");
        const qint64 monthlyUser = monthlyKey.value(QLatin1String("user_id")).toInteger();
        QJsonArray rows = alertsOf(monthlyUser, 2);
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows[0].toObject().value(QLatin1String("threshold_percent")).toInt(), 100);
        QCOMPARE(rows[1].toObject().value(QLatin1String("threshold_percent")).toInt(), 80);
        for (const QJsonValue &v : rows) {
            const QJsonObject a = v.toObject();
            QCOMPARE(a.value(QLatin1String("scope")).toString(), QStringLiteral("key"));
            QCOMPARE(a.value(QLatin1String("key_id")).toInteger(),
                     monthlyKey.value(QLatin1String("id")).toInteger());
            QCOMPARE(a.value(QLatin1String("limit_name")).toString(),
                     QStringLiteral("key-monthly-requests"));
            QCOMPARE(a.value(QLatin1String("used")).toDouble(), 2.0);
            QCOMPARE(a.value(QLatin1String("limit")).toDouble(), 2.0);
            QCOMPARE(a.value(QLatin1String("month")).toString(), month);
        }
        QCOMPARE(
            post(m_keys.value(QStringLiteral("monthly")), "/v1/chat/completions", kChat).status,
            429);

        // A key of 5 requests a month, made while the gateway runs: the 4th request crosses
        // 80 %, the 5th reaches 100 %, the refused 6th and 7th raise nothing more.
        const QByteArray key = createKey(
            QStringLiteral("alerts"), {QStringLiteral("--monthly-requests"), QStringLiteral("5")});
        QVERIFY(!key.isEmpty());
        QElapsedTimer known;
        known.start();
        int status = 401;
        while (status == 401 && known.elapsed() < 5000) {
            status = post(key, "/v1/chat/completions", kChat).status;
            if (status == 401)
                QTest::qWait(50);
        }
        QCOMPARE(status, 200);  // the first of five
        for (int i = 2; i <= 5; ++i)
            QCOMPARE(post(key, "/v1/chat/completions", kChat).status, 200);
        for (int i = 6; i <= 7; ++i)
            QCOMPARE(post(key, "/v1/chat/completions", kChat).status, 429);
        const QJsonObject alertsKey = keyOf("alerts");
        const qint64 alertsKeyId = alertsKey.value(QLatin1String("id")).toInteger();
        rows = alertsOf(alertsKey.value(QLatin1String("user_id")).toInteger(), 2);
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows[0].toObject().value(QLatin1String("threshold_percent")).toInt(), 100);
        QCOMPARE(rows[0].toObject().value(QLatin1String("used")).toDouble(), 5.0);
        QCOMPARE(rows[1].toObject().value(QLatin1String("threshold_percent")).toInt(), 80);
        QCOMPARE(rows[1].toObject().value(QLatin1String("used")).toDouble(), 4.0);
        QCOMPARE(rows[1].toObject().value(QLatin1String("limit")).toDouble(), 5.0);
        QCOMPARE(rows[1].toObject().value(QLatin1String("key_id")).toInteger(), alertsKeyId);

        // One warning per alert, none for "monthly" after the restart.
        const QStringList alertLines =
            m_gw->logLines().filter(QStringLiteral("quota alert:"), Qt::CaseInsensitive);
        const QByteArray shown = alertLines.join(u'\n').toUtf8();
        QCOMPARE(alertLines.size(), 2);
        const QString prefix = QStringLiteral("quota alert: key %1 (user %2) ")
                                   .arg(alertsKeyId)
                                   .arg(alertsKey.value(QLatin1String("user_id")).toInteger());
        QVERIFY2(alertLines[0].endsWith(prefix +
                                        QStringLiteral("crossed 80% of key-monthly-requests in ") +
                                        month + QStringLiteral(": 4 of 5 used")),
                 shown.constData());
        QVERIFY2(
            alertLines[1].contains(prefix + QStringLiteral("reached 100% of key-monthly-requests")),
            shown.constData());
        QCOMPARE(alertsOf(monthlyUser, 0).size(), 2);
    }

    // A monthly token quota is looked at with the real count when the answer ends: 40 tokens
    // a request against 100 a month cross 80 % with the second request; the third no longer fits
    // its reservation (about 42), which past 80 % counts as reaching 100 %.
    void monthlyTokenQuotaAlerts()
    {
        const QRegularExpression adminLine(
            QStringLiteral(R"(admin API listening on 127\.0\.0\.1:(\d+))"));
        QVERIFY(m_gw->waitForLog(adminLine, 5000));
        const quint16 adminPort = quint16(adminLine.match(m_gw->log()).captured(1).toUInt());
        const QByteArray key =
            createKey(QStringLiteral("alerts-tokens"),
                      {QStringLiteral("--monthly-tokens"), QStringLiteral("100")});
        QVERIFY(!key.isEmpty());
        const HttpHeaderList usage{{"x-mock-prompt-tokens", "20"},
                                   {"x-mock-completion-tokens", "20"}};
        QElapsedTimer known;
        known.start();
        int status = 401;
        while (status == 401 && known.elapsed() < 5000) {
            status = post(key, "/v1/chat/completions", kChat, usage).status;
            if (status == 401)
                QTest::qWait(50);
        }
        QCOMPARE(status, 200);                                                  // 40 of 100
        QCOMPARE(post(key, "/v1/chat/completions", kChat, usage).status, 200);  // 80 of 100
        const HttpReply refused = post(key, "/v1/chat/completions", kChat, usage);
        QVERIFY2(refused.status == 429, refused.describe().constData());
        QCOMPARE(refused.header("X-RateLimit-Type"), QByteArray("monthly"));

        const HttpReply keys = httpGet(adminPort, "/admin/v1/keys?user=alerts-tokens",
                                       {{"Authorization", "Bearer ratelimit-test-admin-token"}});
        const QJsonObject k = keys.json().value(QLatin1String("data")).toArray().first().toObject();
        QJsonArray rows;
        QElapsedTimer t;
        t.start();
        while (rows.size() < 2 && t.elapsed() < 5000) {
            rows = httpGet(adminPort,
                           "/admin/v1/alerts?user_id=" +
                               QByteArray::number(k.value(QLatin1String("user_id")).toInteger()),
                           {{"Authorization", "Bearer ratelimit-test-admin-token"}})
                       .json()
                       .value(QLatin1String("data"))
                       .toArray();
            if (rows.size() < 2)
                QTest::qWait(100);
        }
        QCOMPARE(rows.size(), 2);
        const QJsonObject at100 = rows[0].toObject();
        const QJsonObject at80 = rows[1].toObject();
        QCOMPARE(at80.value(QLatin1String("threshold_percent")).toInt(), 80);
        QCOMPARE(at80.value(QLatin1String("limit_name")).toString(),
                 QStringLiteral("key-monthly-tokens"));
        QCOMPARE(at80.value(QLatin1String("limit")).toDouble(), 100.0);
        QCOMPARE(at100.value(QLatin1String("threshold_percent")).toInt(), 100);
        // 80 after the second request's settlement; up to its reservation (82) when the third
        // was decided on the other worker before that settlement ran.
        for (const QJsonObject &a : {at80, at100}) {
            const double used = a.value(QLatin1String("used")).toDouble();
            QVERIFY2(used >= 80 && used <= 82, QByteArray::number(used));
        }
    }

    // Monthly counters are rebuilt from the ledger at start: a restart hands out no fresh month.
    void monthlyQuotaSurvivesRestart()
    {
        // "monthly" spent its two-request month in monthlyQuota().
        const QByteArray key = m_keys.value(QStringLiteral("monthly"));
        m_gw->terminate();  // SIGTERM flushes the ledger
        QVERIFY(m_gw->waitForExit(10000));
        QVERIFY(m_gw->exitedWith(0));
        QVERIFY(startGateway());
        QVERIFY2(m_gw->log().contains(QLatin1String("month-to-date usage")),
                 m_gw->log().toUtf8().constData());
        const HttpReply r = post(key, "/v1/chat/completions", kChat);
        QVERIFY2(r.status == 429, r.describe().constData());
        QCOMPARE(r.header("X-RateLimit-Type"), QByteArray("monthly"));
    }

    void cleanupTestCase()
    {
        if (m_gw) {
            m_gw->terminate();
            QVERIFY(m_gw->waitForExit(10000));
        }
    }
};

QTEST_GUILESS_MAIN(TestRateLimit)
#include "tst_ratelimit.moc"
