// KeyAuthenticator over a real IdentitySnapshot and KeyCache: the 401/429 answers in both API
// shapes, expiry, disabled users, throttling per client IP, and snapshot swaps across threads.
#include "ApiKeyCodec.h"
#include "IdentitySnapshot.h"
#include "KeyAuthenticator.h"
#include "KeyCache.h"
#include "MetricsRegistry.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QThread>

using namespace sluice;

namespace {

HttpRequest request(QByteArray path, QList<QPair<QByteArray, QByteArray>> headers,
                    QByteArray peer = "192.0.2.1")
{
    HttpRequest r;
    r.head.method = path.startsWith("/v1/models") ? "GET" : "POST";
    r.head.target = std::move(path);
    for (auto &[k, v] : headers)
        r.head.headers.add(k, v);
    r.peerAddress = std::move(peer);
    return r;
}

QJsonObject bodyOf(const HttpResponse &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

}  // namespace

class TestKeyAuthenticator : public QObject
{
    Q_OBJECT

    QString m_good, m_expired, m_disabledUsers, m_revoked;
    IdentitySnapshotData m_data;

    ApiKey key(qint64 id, qint64 user, const QString &plaintext,
               QString status = QStringLiteral("active"))
    {
        ApiKey k;
        k.id = id;
        k.userId = user;
        k.name = QStringLiteral("k%1").arg(id);
        k.prefix = ApiKeyCodec::displayPrefix(plaintext);
        k.hash = ApiKeyCodec::hash(plaintext.toLatin1()).toHex();  // as stored
        k.status = status;
        return k;
    }

private slots:
    void initTestCase()
    {
        m_good = ApiKeyCodec::generate();
        m_expired = ApiKeyCodec::generate();
        m_disabledUsers = ApiKeyCodec::generate();
        m_revoked = ApiKeyCodec::generate();
        m_data.revision = 7;
        Tier free;
        free.name = QStringLiteral("free");
        free.limits.requestsPerMinute = 100;
        Tier pro;
        pro.name = QStringLiteral("pro");
        pro.limits.requestsPerMinute = 1000;
        Tier anonymous;
        anonymous.name = QStringLiteral("anonymous");
        anonymous.limits.requestsPerMinute = 3;
        m_data.tiers = {free, pro, anonymous};
        m_data.defaults.key.requestsPerSecond = 50;
        m_data.defaults.key.burst = 100;
        User alice;
        alice.id = 1;
        alice.name = QStringLiteral("alice");
        User bob;
        bob.id = 2;
        bob.name = QStringLiteral("bob");
        bob.status = QStringLiteral("disabled");
        m_data.users = {alice, bob};
        ApiKey good = key(10, 1, m_good);
        good.tier = QStringLiteral("pro");
        good.models = {QStringLiteral("gpt-*")};
        ApiKey expired = key(11, 1, m_expired);
        expired.expiresAt = QDateTime::currentDateTimeUtc().addSecs(-1);
        m_data.keys = {good, expired, key(12, 2, m_disabledUsers),
                       key(13, 1, m_revoked, QStringLiteral("revoked"))};
    }

    void acceptsBearerAndXApiKey()
    {
        KeyCache cache;
        cache.publish(IdentitySnapshot::build(m_data));
        MetricsRegistry metrics;
        KeyAuthenticator auth(cache, {}, metrics);

        auto out = auth.authenticate(
            request("/v1/chat/completions", {{"Authorization", "Bearer " + m_good.toLatin1()}}),
            ApiFamily::OpenAI);
        QVERIFY(out.principal);
        QCOMPARE(out.principal->keyId, 10);
        QCOMPARE(out.principal->userName, QStringLiteral("alice"));
        QCOMPARE(out.principal->tier, QByteArray("pro"));
        QCOMPARE(out.principal->userTier, QByteArray("free"));
        QCOMPARE(out.principal->keyLimits.requestsPerMinute, 1000);
        QCOMPARE(out.principal->keyLimits.requestsPerSecond, 50.0);
        QCOMPARE(out.principal->models, QStringList{QStringLiteral("gpt-*")});
        QVERIFY(out.principal->lastUsedMs.load() > 0);

        out = auth.authenticate(request("/v1/messages", {{"x-api-key", m_good.toLatin1()}}),
                                ApiFamily::Anthropic);
        QVERIFY(out.principal);
        out = auth.authenticate(
            request("/v1/models", {{"authorization", "bearer " + m_good.toLatin1()}}),
            ApiFamily::OpenAI);
        QVERIFY(out.principal);
        QCOMPARE(metrics.counter("gateway_api_key_requests_total", "", {"tier"}).value({"pro"}),
                 3.0);
    }

    void rejections_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("headerName");
        QTest::addColumn<QByteArray>("headerValue");
        QTest::addColumn<QByteArray>("reason");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("missing") << QByteArray("/v1/chat/completions") << QByteArray("X-Other")
                                 << QByteArray("1") << QByteArray("missing")
                                 << QByteArray("missing_api_key");
        QTest::newRow("not bearer")
            << QByteArray("/v1/chat/completions") << QByteArray("Authorization")
            << QByteArray("Basic abc") << QByteArray("missing") << QByteArray("missing_api_key");
        QTest::newRow("malformed") << QByteArray("/v1/chat/completions")
                                   << QByteArray("Authorization") << QByteArray("Bearer sk-nope")
                                   << QByteArray("malformed") << QByteArray("invalid_api_key");
        QTest::newRow("unknown") << QByteArray("/v1/embeddings") << QByteArray("Authorization")
                                 << ("Bearer " + ApiKeyCodec::generate().toLatin1())
                                 << QByteArray("invalid") << QByteArray("invalid_api_key");
        QTest::newRow("revoked") << QByteArray("/v1/embeddings") << QByteArray("Authorization")
                                 << ("Bearer " + m_revoked.toLatin1()) << QByteArray("invalid")
                                 << QByteArray("invalid_api_key");
        QTest::newRow("expired") << QByteArray("/v1/responses") << QByteArray("Authorization")
                                 << ("Bearer " + m_expired.toLatin1()) << QByteArray("expired")
                                 << QByteArray("expired_api_key");
        QTest::newRow("disabled user")
            << QByteArray("/v1/completions") << QByteArray("Authorization")
            << ("Bearer " + m_disabledUsers.toLatin1()) << QByteArray("user_disabled")
            << QByteArray("user_disabled");
    }
    void rejections()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, headerName);
        QFETCH(QByteArray, headerValue);
        QFETCH(QByteArray, reason);
        QFETCH(QByteArray, code);
        KeyCache cache;
        cache.publish(IdentitySnapshot::build(m_data));
        MetricsRegistry metrics;
        KeyAuthenticator auth(cache, {}, metrics);
        for (ApiFamily family : {ApiFamily::OpenAI, ApiFamily::Anthropic}) {
            auto out = auth.authenticate(request(path, {{headerName, headerValue}}), family);
            QVERIFY(!out.principal);
            QVERIFY(out.rejection);
            QCOMPARE(out.rejection->status, 401);
            const QJsonObject body = bodyOf(*out.rejection);
            if (family == ApiFamily::OpenAI) {
                const QJsonObject e = body.value(QLatin1String("error")).toObject();
                QCOMPARE(e.value(QLatin1String("code")).toString(), QString::fromLatin1(code));
                QCOMPARE(e.value(QLatin1String("type")).toString(),
                         QStringLiteral("invalid_request_error"));
                QVERIFY(!e.value(QLatin1String("message")).toString().isEmpty());
            } else {
                QCOMPARE(body.value(QLatin1String("type")).toString(), QStringLiteral("error"));
                QCOMPARE(body.value(QLatin1String("error"))
                             .toObject()
                             .value(QLatin1String("type"))
                             .toString(),
                         QStringLiteral("authentication_error"));
            }
            // The presented key never comes back, not even in part.
            const QByteArray presented = headerValue.mid(headerValue.indexOf(' ') + 1);
            if (presented.size() > 12)
                QVERIFY(!out.rejection->body.contains(presented.mid(10, 8)));
        }
        QCOMPARE(metrics.counter("gateway_auth_failures_total", "", {"reason"}).value({reason}),
                 2.0);
    }

    void failuresThrottledPerClientAddress()
    {
        KeyCache cache;
        cache.publish(IdentitySnapshot::build(m_data));  // anonymous: 3 per minute
        MetricsRegistry metrics;
        QString error;
        KeyAuthenticator auth(cache, *TrustedProxies::parse({"10.0.0.0/8"}, &error), metrics);
        const QByteArray bad = "Bearer " + ApiKeyCodec::generate().toLatin1();
        for (int i = 0; i < 3; ++i)
            QCOMPARE(auth.authenticate(request("/v1/chat/completions", {{"Authorization", bad}}),
                                       ApiFamily::OpenAI)
                         .rejection->status,
                     401);
        // Over the budget: 429 with Retry-After, even for a valid key from that address.
        auto out = auth.authenticate(
            request("/v1/chat/completions", {{"Authorization", "Bearer " + m_good.toLatin1()}}),
            ApiFamily::OpenAI);
        QVERIFY(!out.principal);
        QCOMPARE(out.rejection->status, 429);
        QVERIFY(out.rejection->headers.value("Retry-After").toInt() > 0);
        out = auth.authenticate(request("/v1/messages", {{"x-api-key", bad.mid(7)}}),
                                ApiFamily::Anthropic);
        QCOMPARE(out.rejection->status, 429);
        QCOMPARE(bodyOf(*out.rejection)
                     .value(QLatin1String("error"))
                     .toObject()
                     .value(QLatin1String("type"))
                     .toString(),
                 QStringLiteral("rate_limit_error"));
        // Another client is unaffected; one behind a trusted proxy is told apart by XFF, while
        // an untrusted peer cannot dodge the throttle by sending XFF.
        QVERIFY(auth.authenticate(
                        request("/v1/chat/completions",
                                {{"Authorization", "Bearer " + m_good.toLatin1()}}, "192.0.2.2"),
                        ApiFamily::OpenAI)
                    .principal);
        QVERIFY(auth.authenticate(request("/v1/chat/completions",
                                          {{"Authorization", "Bearer " + m_good.toLatin1()},
                                           {"X-Forwarded-For", "198.51.100.1"}},
                                          "10.0.0.7"),
                                  ApiFamily::OpenAI)
                    .principal);
        QCOMPARE(auth.authenticate(request("/v1/chat/completions",
                                           {{"Authorization", "Bearer " + m_good.toLatin1()},
                                            {"X-Forwarded-For", "198.51.100.1"}}),
                                   ApiFamily::OpenAI)
                     .rejection->status,
                 429);
    }

    void snapshotSwapReachesEveryThread()
    {
        KeyCache cache;
        cache.publish(IdentitySnapshot::build(m_data));
        MetricsRegistry metrics;
        KeyAuthenticator auth(cache, {}, metrics);
        const HttpRequest req =
            request("/v1/chat/completions", {{"Authorization", "Bearer " + m_good.toLatin1()}});
        std::atomic<int> state{0};
        QThread *worker = QThread::create([&] {
            state = auth.authenticate(req, ApiFamily::OpenAI).principal ? 1 : -1;
            while (state.load() != 2)
                QThread::msleep(1);
            state = auth.authenticate(req, ApiFamily::OpenAI).principal ? 3 : 4;
        });
        worker->start();
        QTRY_COMPARE(state.load(), 1);
        IdentitySnapshotData revoked = m_data;
        revoked.revision = 8;
        revoked.keys[0].status = QStringLiteral("revoked");
        cache.publish(IdentitySnapshot::build(revoked));
        state = 2;
        QTRY_VERIFY(state.load() >= 3);
        QCOMPARE(state.load(), 4);  // the worker saw the revocation
        worker->wait();
        delete worker;
        QCOMPARE(cache.revision(), 8);
    }

    void lastUseSurvivesSwap()
    {
        auto first = IdentitySnapshot::build(m_data);
        first->principals().front()->lastUsedMs.store(123456789);
        auto second = IdentitySnapshot::build(m_data);
        second->inheritUsage(*first);
        QCOMPARE(second->principals().front()->lastUsedMs.load(), 123456789);
    }

    void apiFamilyDetection()
    {
        QCOMPARE(apiFamilyOf(request("/v1/messages", {})), ApiFamily::Anthropic);
        QCOMPARE(apiFamilyOf(request("/v1/messages/count_tokens", {})), ApiFamily::Anthropic);
        QCOMPARE(apiFamilyOf(request("/v1/chat/completions", {})), ApiFamily::OpenAI);
        QCOMPARE(apiFamilyOf(request("/v1/models", {})), ApiFamily::OpenAI);
        QCOMPARE(apiFamilyOf(request("/v1/models", {{"anthropic-version", "2023-06-01"}})),
                 ApiFamily::Anthropic);
        QCOMPARE(apiFamilyOf(request("/v1/models", {{"x-api-key", "k"}})), ApiFamily::Anthropic);
    }
};

QTEST_GUILESS_MAIN(TestKeyAuthenticator)
#include "tst_keyauthenticator.moc"
