// Redis, against a real redis-server of each test's own (tests/common/RedisServer): the hiredis
// connection on the Qt event loop (round trips, AUTH with a password and with an ACL user,
// SELECT, command deadlines, a server killed under pending commands, a restart), the Redis
// limit store decision by decision against the in-memory store (same Redis TIME for both), its
// keys, its script cache and its local denial memory, the fallback store that decides from
// memory while Redis is away, and the Redis health check.
#include "CalendarMonth.h"
#include "FallbackLimitStore.h"
#include "HealthCheck.h"
#include "LimitScripts.h"
#include "LimitTestRules.h"
#include "MemoryLimitStore.h"
#include "MetricsRegistry.h"
#include "RedisCheck.h"
#include "RedisConnection.h"
#include "RedisLimitStore.h"
#include "RedisMetrics.h"
#include "RedisServer.h"

#include <hiredis/hiredis.h>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <atomic>
#include <memory>

using namespace sluice;
using namespace sluice::test;
using sluice::test::RedisServer;

namespace {

constexpr qint64 kSecond = 1'000'000;
constexpr qint64 kMinute = 60 * kSecond;
constexpr qint64 kDayMs = 86'400'000;

RedisUrl urlOf(const QString &text)
{
    QString expected;
    const std::optional<RedisUrl> url = RedisUrl::parse(text, &expected);
    if (!url)
        qFatal("bad test URL %s: expected %s", qPrintable(text), qPrintable(expected));
    return *url;
}

// What a command's callback saw (the reply itself only lives during the callback).
struct Outcome
{
    int calls = 0;
    bool ok = false;
    int type = 0;
    QByteArray text;  // status, string or error reply
    long long integer = 0;
    QByteArray error;
    qint64 elapsedMs = -1;  // from command() to the callback
};

std::shared_ptr<Outcome> send(RedisConnection &c, const QList<QByteArray> &argv,
                              const char *name = "test")
{
    auto out = std::make_shared<Outcome>();
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    c.command(argv, name, [out, timer](const redisReply *reply, const QByteArray &error) {
        ++out->calls;
        out->elapsedMs = timer->elapsed();
        out->ok = reply != nullptr;
        out->error = error;
        if (reply) {
            out->type = reply->type;
            if (reply->str)
                out->text = QByteArray(reply->str, qsizetype(reply->len));
            out->integer = reply->integer;
        }
    });
    return out;
}

// Sends `argv` and runs the event loop until its callback ran (at most 5 s).
std::shared_ptr<Outcome> call(RedisConnection &c, const QList<QByteArray> &argv,
                              const char *name = "test")
{
    std::shared_ptr<Outcome> out = send(c, argv, name);
    (void)QTest::qWaitFor([&] { return out->calls > 0; }, 5000);  // the caller checks calls
    return out;
}

// One decision through `store`, waited for on the event loop. A store that does not answer
// within 5 s gives a failed decision saying so.
LimitDecision decideNow(LimitStore &store, const LimitRequest &request)
{
    auto calls = std::make_shared<int>(0);
    auto out = std::make_shared<LimitDecision>();
    store.decide(request, [calls, out](LimitDecision d) {
        ++*calls;
        *out = std::move(d);
    });
    if (!QTest::qWaitFor([&] { return *calls > 0; }, 5000)) {
        out->failed = true;
        out->error = "test: no decision within 5 s";
    }
    return *out;
}

// A series' value in the registry's Prometheus text, 0 when absent.
double metric(const MetricsRegistry &registry, const QByteArray &series)
{
    for (const QByteArray &line : registry.exposeText().split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).toDouble();
    }
    return 0;
}

double commands(const MetricsRegistry &registry, const QByteArray &command)
{
    return metric(registry, "gateway_redis_commands_total{command=\"" + command + "\"}");
}

// A bucket of `burst` that refills at `perSecond` (by default one request per 1000 s: no
// refill within a test).
LimitRule rps(const QByteArray &key, double burst, double perSecond = 0.001)
{
    return makeRule(key, LimitKind::RequestRate, perSecond, burst);
}

LimitSettlement settlement(std::vector<LimitRule> rules, double delta, const char *store)
{
    LimitSettlement s;
    s.rules = std::move(rules);
    s.tokenDelta = delta;
    s.store = store;
    return s;
}

// How a Redis decision differs from the in-memory store's for the same request at the same
// time (empty when they agree on everything an answer is made of).
QString differences(const LimitDecision &redis, const LimitDecision &memory)
{
    QStringList out;
    if (redis.failed)
        return QStringLiteral("redis failed: ") + QString::fromUtf8(redis.error);
    if (redis.allowed != memory.allowed)
        out << QStringLiteral("allowed %1 vs %2").arg(redis.allowed).arg(memory.allowed);
    if (redis.denied != memory.denied)
        out << QStringLiteral("denied %1 vs %2").arg(redis.denied).arg(memory.denied);
    if (redis.statuses.size() != memory.statuses.size())
        return QStringLiteral("%1 vs %2 statuses")
            .arg(redis.statuses.size())
            .arg(memory.statuses.size());
    for (size_t i = 0; i < redis.statuses.size(); ++i) {
        const LimitStatus &a = redis.statuses[i];
        const LimitStatus &b = memory.statuses[i];
        const auto field = [&](const char *name, auto x, auto y) {
            if (x != y)
                out << QStringLiteral("rule %1 %2: %3 vs %4")
                           .arg(i)
                           .arg(QLatin1String(name))
                           .arg(double(x), 0, 'g', 17)
                           .arg(double(y), 0, 'g', 17);
        };
        field("allowed", a.allowed, b.allowed);
        field("remaining", a.remaining, b.remaining);
        field("resetUs", a.resetUs, b.resetUs);
        field("retryAfterUs", a.retryAfterUs, b.retryAfterUs);
        field("neverFits", a.neverFits, b.neverFits);
    }
    return out.join(QStringLiteral("; "));
}

// Decides on Redis, then on `memory` at the time Redis decided: both must agree.
#define DECIDE_BOTH(decision, redisStore, memoryStore, req)                                      \
    const LimitDecision decision = decideNow(redisStore, req);                                   \
    do {                                                                                         \
        QVERIFY2(!decision.failed, decision.error.constData());                                  \
        QCOMPARE(decision.store, "redis");                                                       \
        const QString diff = differences(decision, (memoryStore).decideAt(req, decision.nowUs)); \
        QVERIFY2(diff.isEmpty(), qPrintable(diff));                                              \
    } while (false)

// Loads the limit scripts into the server's cache ahead of the test. Settlements and seeds are
// fire-and-forget: when their EVALSHA finds no script, the EVAL that follows comes after a
// decision pipelined behind it, which then does not see them yet.
bool loadScripts(RedisServer &redis)
{
    for (const QByteArray &script :
         {LimitScripts::decide(), LimitScripts::settle(), LimitScripts::seedMonthly()}) {
        if (redis.cli({QStringLiteral("SCRIPT"), QStringLiteral("LOAD"),
                       QString::fromUtf8(script)}) != LimitScripts::sha1(script))
            return false;
    }
    return true;
}

// Sliding windows and settlements at a time the test does not control: keep clear of the end
// of a minute, so a settlement lands in the window its decision was counted in.
void keepClearOfTheMinuteEnd()
{
    const qint64 intoMinute = MemoryLimitStore::nowUs() % kMinute;
    if (intoMinute > 55 * kSecond)
        QTest::qWait(int((kMinute - intoMinute) / 1000) + 100);
}

}  // namespace

class TestRedisLimitStore : public QObject
{
    Q_OBJECT

private slots:
    // RedisConnection
    void connectionRoundTrip();
    void connectionOverUnixSocket();
    void connectionAuthWithPassword();
    void connectionAuthWithAclUser();
    void connectionWrongPassword_data();
    void connectionWrongPassword();
    void connectionSelectsTheDatabase();
    void connectionDeadline_data();
    void connectionDeadline();
    void connectionServerKilledWithPendingCommands();
    void connectionDestroyedWithPendingCommands();

    // RedisLimitStore
    void gcraAgreesWithMemory_data();
    void gcraAgreesWithMemory();
    void requestsPerMinuteAgreesWithMemory();
    void tokensPerMinuteSettledLikeMemory();
    void tokenSettlementAcrossTheMinute();
    void monthlyRequestsAndSeeds();
    void monthlyTokensSettled();
    void fractionalCostsAgreeWithMemory();
    void neverFittingRuleIsNamed();
    void denialByOneRuleCommitsNothing();
    void keysArePrefixedAndExpire();
    void scriptCacheFlushed();
    void denialsAnsweredLocally();
    void settledTokensLiftALocalDenial();
    void threadsShareTheLimit();

    // FallbackLimitStore
    void fallbackWhileRedisIsDown();
    void fallbackFailClosed();
    void fallbackSeedsAfterFlush();

    // RedisCheck
    void healthCheck();
};

// --- RedisConnection ----------------------------------------------------------------------

void TestRedisLimitStore::connectionRoundTrip()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisConnection conn({urlOf(redis.url())}, &metrics);
    QVERIFY(!conn.isConnected());

    std::shared_ptr<Outcome> ping = send(conn, {"PING"}, "ping");
    QCOMPARE(ping->calls, 0);  // never before command() returns
    QTRY_COMPARE(ping->calls, 1);
    QVERIFY2(ping->ok, ping->error.constData());
    QCOMPARE(ping->type, REDIS_REPLY_STATUS);
    QCOMPARE(ping->text, "PONG");
    QVERIFY(conn.isConnected());
    QCOMPARE(conn.pending(), 0);

    // Replies of every type, pipelined: answered in order, each callback once.
    std::vector<std::shared_ptr<Outcome>> outs{
        send(conn, {"SET", "greeting", QByteArray("hello\0world", 11)}, "set"),
        send(conn, {"GET", "greeting"}, "get"),
        send(conn, {"INCRBY", "n", "41"}, "incrby"),
        send(conn, {"GET", "missing"}, "get"),
        send(conn, {"LPUSH", "list", "a", "b"}, "lpush"),
        send(conn, {"NOSUCHCOMMAND"}, "bogus")};
    QCOMPARE(conn.pending(), 6);
    QTRY_VERIFY(std::all_of(outs.begin(), outs.end(), [](auto &o) { return o->calls > 0; }));
    for (const auto &o : outs)
        QCOMPARE(o->calls, 1);
    QCOMPARE(outs[0]->text, "OK");
    QCOMPARE(outs[1]->type, REDIS_REPLY_STRING);
    QCOMPARE(outs[1]->text, QByteArray("hello\0world", 11));  // binary safe
    QCOMPARE(outs[2]->type, REDIS_REPLY_INTEGER);
    QCOMPARE(outs[2]->integer, 41LL);
    QCOMPARE(outs[3]->type, REDIS_REPLY_NIL);
    QCOMPARE(outs[4]->integer, 2LL);
    // An error reply is a failure whose error is the reply's text; the connection stays.
    QVERIFY(!outs[5]->ok);
    QVERIFY2(outs[5]->error.startsWith("ERR unknown command"), outs[5]->error.constData());
    QVERIFY(conn.isConnected());
    QCOMPARE(redis.cli({"GET", "n"}), "41");

    QCOMPARE(commands(registry, "ping"), 1.0);
    QCOMPARE(commands(registry, "get"), 2.0);
    QCOMPARE(metric(registry, "gateway_redis_command_errors_total{command=\"bogus\"}"), 1.0);
    QCOMPARE(metric(registry, "gateway_redis_command_errors_total{command=\"get\"}"), 0.0);
    QCOMPARE(metric(registry, "gateway_redis_command_duration_seconds_count"), 6.0);
}

void TestRedisLimitStore::connectionOverUnixSocket()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString socket = dir.filePath(QStringLiteral("redis.sock"));
    RedisServer redis;
    QVERIFY2(redis.start({QStringLiteral("--unixsocket"), socket,
                          QStringLiteral("--unixsocketperm"), QStringLiteral("700")}),
             redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisConnection conn({urlOf(QStringLiteral("unix://") + socket + QStringLiteral("?db=2"))},
                         &metrics);
    std::shared_ptr<Outcome> set = call(conn, {"SET", "over", "unix"});
    QVERIFY2(set->ok, set->error.constData());
    QCOMPARE(redis.cli({"GET", "over"}, {QStringLiteral("-n"), QStringLiteral("2")}), "unix");
}

void TestRedisLimitStore::connectionAuthWithPassword()
{
    RedisServer redis;
    QVERIFY2(redis.start({QStringLiteral("--requirepass"), QStringLiteral("s3cret")}),
             redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    const QString url = QStringLiteral("redis://:s3cret@127.0.0.1:%1").arg(redis.port());
    RedisConnection conn({urlOf(url)}, &metrics);
    std::shared_ptr<Outcome> ping = call(conn, {"PING"});
    QCOMPARE(ping->calls, 1);
    QVERIFY2(ping->ok, ping->error.constData());
    QCOMPARE(ping->text, "PONG");
    QCOMPARE(commands(registry, "auth"), 1.0);
    QCOMPARE(metric(registry, "gateway_redis_command_errors_total{command=\"auth\"}"), 0.0);

    // Without the password the server refuses.
    RedisConnection anonymous({urlOf(redis.url())}, &metrics);
    std::shared_ptr<Outcome> refused = call(anonymous, {"PING"});
    QCOMPARE(refused->calls, 1);
    QVERIFY(!refused->ok);
    QVERIFY2(refused->error.startsWith("NOAUTH"), refused->error.constData());
}

void TestRedisLimitStore::connectionAuthWithAclUser()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    QCOMPARE(redis.cli({"ACL", "SETUSER", "app", "on", ">pw", "~*", "+@all"}), "OK");
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    // The user, its password and a database: AUTH and SELECT both go ahead of the command.
    RedisConnection conn({urlOf(QStringLiteral("redis://app:pw@127.0.0.1:%1/5").arg(redis.port()))},
                         &metrics);
    std::shared_ptr<Outcome> who = call(conn, {"ACL", "WHOAMI"});
    QVERIFY2(who->ok, who->error.constData());
    QCOMPARE(who->text, "app");
    QVERIFY(call(conn, {"SET", "k", "v"})->ok);
    QCOMPARE(redis.cli({"GET", "k"}, {QStringLiteral("-n"), QStringLiteral("5")}), "v");
    QCOMPARE(commands(registry, "auth"), 1.0);
    QCOMPARE(commands(registry, "select"), 1.0);
}

void TestRedisLimitStore::connectionWrongPassword_data()
{
    QTest::addColumn<QString>("userInfo");
    QTest::addColumn<QStringList>("serverArguments");
    QTest::addColumn<QStringList>("cliAuth");  // how redis-cli gets in

    const QStringList password{QStringLiteral("--requirepass"), QStringLiteral("s3cret")};
    const QStringList asPassword{QStringLiteral("-a"), QStringLiteral("s3cret"),
                                 QStringLiteral("--no-auth-warning")};
    const QStringList asApp{QStringLiteral("--user"), QStringLiteral("app"),
                            QStringLiteral("--pass"), QStringLiteral("pw"),
                            QStringLiteral("--no-auth-warning")};
    QTest::newRow("requirepass") << QStringLiteral(":wrong") << password << asPassword;
    QTest::newRow("acl user") << QStringLiteral("app:wrong") << QStringList{} << asApp;
    QTest::newRow("unknown acl user") << QStringLiteral("nobody:pw") << QStringList{} << asApp;
}

void TestRedisLimitStore::connectionWrongPassword()
{
    QFETCH(QString, userInfo);
    QFETCH(QStringList, serverArguments);
    QFETCH(QStringList, cliAuth);
    RedisServer redis;
    QVERIFY2(redis.start(serverArguments), redis.why().constData());
    if (serverArguments.isEmpty()) {
        // Only `app` may get in: new connections start unauthenticated.
        QCOMPARE(redis.cli({"ACL", "SETUSER", "app", "on", ">pw", "~*", "+@all"}), "OK");
        QCOMPARE(redis.cli({"ACL", "SETUSER", "default", "off"}), "OK");
    }
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisConnection conn(
        {urlOf(QStringLiteral("redis://%1@127.0.0.1:%2/1").arg(userInfo).arg(redis.port()))},
        &metrics);
    // Every command fails with an error (the server's, or why the connection is not usable),
    // each callback once; nothing crashes, several times over.
    for (int round = 0; round < 3; ++round) {
        std::vector<std::shared_ptr<Outcome>> outs{send(conn, {"PING"}),
                                                   send(conn, {"SET", "a", "b"})};
        QTRY_VERIFY(outs[0]->calls > 0 && outs[1]->calls > 0);
        for (const auto &o : outs) {
            QCOMPARE(o->calls, 1);
            QVERIFY(!o->ok);
            QVERIFY(!o->error.isEmpty());
        }
        QTest::qWait(250);  // past the reconnect backoff
    }
    QVERIFY(metric(registry, "gateway_redis_command_errors_total{command=\"auth\"}") >= 1);
    // Nothing was written, in any database.
    QCOMPARE(redis.cli({"DBSIZE"}, cliAuth), "0");
    QCOMPARE(
        redis.cli({"DBSIZE"}, cliAuth + QStringList{QStringLiteral("-n"), QStringLiteral("1")}),
        "0");
}

void TestRedisLimitStore::connectionSelectsTheDatabase()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisConnection conn({urlOf(redis.url() + QStringLiteral("/3"))}, &metrics);
    std::shared_ptr<Outcome> set = call(conn, {"SET", "where", "three"});
    QVERIFY2(set->ok, set->error.constData());
    QCOMPARE(redis.cli({"GET", "where"}, {QStringLiteral("-n"), QStringLiteral("3")}), "three");
    QCOMPARE(redis.cli({"EXISTS", "where"}, {QStringLiteral("-n"), QStringLiteral("0")}), "0");
    QCOMPARE(commands(registry, "select"), 1.0);

    // A database the server does not have: SELECT fails, and so does every command behind it.
    RedisConnection bad({urlOf(redis.url() + QStringLiteral("/99"))}, &metrics);
    std::shared_ptr<Outcome> refused = call(bad, {"SET", "where", "nowhere"});
    QCOMPARE(refused->calls, 1);
    QVERIFY(!refused->ok);
    QVERIFY(!refused->error.isEmpty());
    QCOMPARE(metric(registry, "gateway_redis_command_errors_total{command=\"select\"}"), 1.0);
    // The command behind the failed SELECT did not run in database 0 instead.
    QCOMPARE(redis.cli({"DBSIZE"}), "0");
}

void TestRedisLimitStore::connectionDeadline_data()
{
    QTest::addColumn<bool>("debugSleep");

    QTest::newRow("CLIENT PAUSE") << false;
    QTest::newRow("DEBUG SLEEP") << true;
}

void TestRedisLimitStore::connectionDeadline()
{
    QFETCH(bool, debugSleep);
    RedisServer redis;
    // Redis 7 refuses DEBUG unless enabled.
    QVERIFY2(redis.start({QStringLiteral("--enable-debug-command"), QStringLiteral("local")}),
             redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisConnection conn({urlOf(redis.url()), 50}, &metrics);
    QVERIFY(call(conn, {"PING"})->ok);

    QElapsedTimer stall;  // how long the server has been unresponsive (at most)
    QProcess sleeper;
    std::vector<std::shared_ptr<Outcome>> late;
    if (!debugSleep) {
        QCOMPARE(redis.cli({"CLIENT", "PAUSE", "1000", "ALL"}), "OK");
        stall.start();
        late = {send(conn, {"PING"}), send(conn, {"INCR", "n"}), send(conn, {"PING"})};
    } else {
        sleeper.start(QStringLiteral("redis-cli"),
                      {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                       QString::number(redis.port()), QStringLiteral("DEBUG"),
                       QStringLiteral("SLEEP"), QStringLiteral("1")});
        QVERIFY(sleeper.waitForStarted());
        stall.start();
        // Until redis-cli's DEBUG SLEEP reaches the server, PINGs come back at once.
        std::shared_ptr<Outcome> o;
        do {
            o = call(conn, {"PING"});
        } while (o->ok && sleeper.state() != QProcess::NotRunning && stall.elapsed() < 10000);
        late = {o};
    }
    QTRY_VERIFY(std::all_of(late.begin(), late.end(), [](auto &o) { return o->calls > 0; }));
    for (const auto &o : late) {
        QCOMPARE(o->calls, 1);
        QVERIFY(!o->ok);
        QCOMPARE(o->error, "timeout");
        // The deadline is 50 ms: well before the server answers again.
        QVERIFY2(o->elapsedMs < 400, qPrintable(QString::number(o->elapsedMs)));
    }
    QVERIFY(!conn.isConnected());
    QCOMPARE(conn.pending(), 0);
    QVERIFY(metric(registry, "gateway_redis_command_errors_total{command=\"test\"}") >= 1);

    // Once the server answers again, the next command reconnects and succeeds.
    if (debugSleep)
        QVERIFY(sleeper.waitForFinished(10000));
    else
        QTest::qWait(int(std::max<qint64>(0, 1200 - stall.elapsed())));
    std::shared_ptr<Outcome> next = call(conn, {"PING"});
    QVERIFY2(next->ok, next->error.constData());
    QCOMPARE(next->text, "PONG");
    QVERIFY(conn.isConnected());
}

void TestRedisLimitStore::connectionServerKilledWithPendingCommands()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    // A patient deadline: the commands are still waiting when the server dies.
    RedisConnection conn({urlOf(redis.url()), 20000}, &metrics);
    QVERIFY(call(conn, {"PING"})->ok);
    QCOMPARE(redis.cli({"CLIENT", "PAUSE", "20000", "ALL"}), "OK");

    std::vector<std::shared_ptr<Outcome>> outs;
    for (int i = 0; i < 20; ++i)
        outs.push_back(send(conn, {i % 2 ? QByteArray("PING") : QByteArray("INCR"), "n"}));
    // A callback that sends a new command from inside the failure.
    auto chained = std::make_shared<std::shared_ptr<Outcome>>();
    auto first = send(conn, {"PING"});
    int chainCalls = 0;
    conn.command({"PING"}, "test", [&](const redisReply *, const QByteArray &) {
        ++chainCalls;
        *chained = send(conn, {"PING"});
    });
    QCOMPARE(conn.pending(), 22);

    redis.stop();
    QTRY_VERIFY_WITH_TIMEOUT(chainCalls > 0 && *chained && (*chained)->calls > 0, 10000);
    QTRY_VERIFY(std::all_of(outs.begin(), outs.end(), [](auto &o) { return o->calls > 0; }));
    QTest::qWait(200);  // nothing runs twice
    outs.push_back(first);
    outs.push_back(*chained);
    for (const auto &o : outs) {
        QCOMPARE(o->calls, 1);
        QVERIFY(!o->ok);
        QVERIFY(!o->error.isEmpty());
    }
    QCOMPARE(chainCalls, 1);
    QCOMPARE(conn.pending(), 0);

    // While the server is down, commands fail at once, once each.
    for (int i = 0; i < 5; ++i) {
        std::shared_ptr<Outcome> down = call(conn, {"PING"});
        QCOMPARE(down->calls, 1);
        QVERIFY(!down->ok);
        QVERIFY(!down->error.isEmpty());
    }

    // Back on the same port (empty): new commands succeed once the backoff allows.
    QVERIFY2(redis.start(), redis.why().constData());
    QElapsedTimer waited;
    waited.start();
    std::shared_ptr<Outcome> ping;
    while (!(ping = call(conn, {"PING"}))->ok && waited.elapsed() < 15000)
        QTest::qWait(50);
    QVERIFY2(ping->ok, ping->error.constData());
    QCOMPARE(ping->text, "PONG");
    std::shared_ptr<Outcome> get = call(conn, {"GET", "n"});
    QVERIFY(get->ok);
    QCOMPARE(get->type, REDIS_REPLY_NIL);
}

void TestRedisLimitStore::connectionDestroyedWithPendingCommands()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    auto conn = std::make_unique<RedisConnection>(
        RedisConnection::Options{urlOf(redis.url()), 20000}, &metrics);
    QVERIFY(call(*conn, {"PING"})->ok);
    QCOMPARE(redis.cli({"CLIENT", "PAUSE", "500", "ALL"}), "OK");
    std::vector<std::shared_ptr<Outcome>> outs;
    for (int i = 0; i < 5; ++i)
        outs.push_back(send(*conn, {"PING"}));
    // Nobody is left to hear the answers: the callbacks are dropped, nothing touches the
    // freed connection when the server answers.
    conn.reset();
    QTest::qWait(800);
    for (const auto &o : outs)
        QCOMPARE(o->calls, 0);
    QCOMPARE(redis.cli({"PING"}), "PONG");
}

// --- RedisLimitStore --------------------------------------------------------------------------

void TestRedisLimitStore::gcraAgreesWithMemory_data()
{
    QTest::addColumn<double>("perSecond");
    QTest::addColumn<double>("burst");
    QTest::addColumn<double>("cost");
    QTest::addColumn<int>("requests");

    QTest::newRow("burst 4, no refill") << 0.001 << 4.0 << 1.0 << 6;
    QTest::newRow("3/s burst 3") << 3.0 << 3.0 << 1.0 << 5;
    QTest::newRow("7/s burst 5") << 7.0 << 5.0 << 1.0 << 8;
    QTest::newRow("burst 0 means 1") << 0.001 << 0.0 << 1.0 << 3;
    QTest::newRow("cost 0.5") << 0.001 << 2.0 << 0.5 << 6;
    QTest::newRow("1000/s burst 10") << 1000.0 << 10.0 << 1.0 << 30;
}

void TestRedisLimitStore::gcraAgreesWithMemory()
{
    QFETCH(double, perSecond);
    QFETCH(double, burst);
    QFETCH(double, cost);
    QFETCH(int, requests);
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    MemoryLimitStore memory;
    const LimitRule rule = rps("{k:1}:rps", burst, perSecond);
    int allowed = 0;
    int denied = 0;
    for (int i = 0; i < requests; ++i) {
        // Each request a little smaller than the one before: none is answered from the local
        // memory of a denial, every one is decided by the script.
        const LimitRequest req = request({rule}, cost * (1 - i * 1e-9));
        DECIDE_BOTH(d, store, memory, req);
        if (d.allowed) {
            ++allowed;
            QCOMPARE(d.denied, -1);
        } else {
            ++denied;
            QCOMPARE(d.denied, 0);
            QVERIFY(d.retryAfterUs() > 0);
            QCOMPARE(d.statuses[0].remaining, 0.0);
        }
    }
    if (perSecond < 1) {
        // No refill: exactly the burst, counting down, then denials.
        const int fits = int(std::max(1.0, burst) / cost);
        QCOMPARE(allowed, fits);
        QCOMPARE(denied, requests - fits);
    } else {
        QVERIFY(allowed >= int(burst));
    }
}

void TestRedisLimitStore::requestsPerMinuteAgreesWithMemory()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    MemoryLimitStore memory;
    const LimitRule rule = rpm("{k:1}:rpm", 5);
    for (int i = 1; i <= 5; ++i) {
        DECIDE_BOTH(d, store, memory, request({rule}));
        QVERIFY(d.allowed);
        // Across a minute boundary the previous minute weighs in, so it may be less.
        QVERIFY(d.statuses[0].remaining <= 5 - i);
    }
    // Larger than the limit itself: never fits.
    DECIDE_BOTH(big, store, memory, request({rule}, 6));
    QVERIFY(!big.allowed);
    QVERIFY(big.statuses[0].neverFits);
    QCOMPARE(big.retryAfterUs(), kMinute);
    DECIDE_BOTH(d, store, memory, request({rule}));
    QVERIFY(!d.allowed);
    QCOMPARE(d.denied, 0);
    QVERIFY(d.retryAfterUs() > 0);
    QVERIFY(!d.statuses[0].neverFits);
    // A free request passes even now.
    DECIDE_BOTH(costless, store, memory, request({rule}, 0));
    QVERIFY(costless.allowed);
}

void TestRedisLimitStore::tokensPerMinuteSettledLikeMemory()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    QVERIFY(loadScripts(redis));
    MemoryLimitStore memory;
    keepClearOfTheMinuteEnd();
    const LimitRule tokens = tpm("{k:1}:tpm", 10'000);
    const LimitRule requests = rpm("{k:1}:rpm", 100);
    const std::vector<LimitRule> rules{requests, tokens};

    // Reserve 4000, then the answer turns out bigger: +500.
    DECIDE_BOTH(d1, store, memory, request(rules, 1, 4000));
    QVERIFY(d1.allowed);
    QCOMPARE(d1.statuses[1].remaining, 6000.0);
    store.settle(settlement(rules, 500, "redis"));
    memory.settleAt(settlement(rules, 500, "memory"), d1.nowUs);
    DECIDE_BOTH(d2, store, memory, request(rules, 1, 4000));
    QVERIFY(d2.allowed);
    QCOMPARE(d2.statuses[1].remaining, 1500.0);
    // 4000 more do not fit now...
    DECIDE_BOTH(d3, store, memory, request(rules, 1, 4000));
    QVERIFY(!d3.allowed);
    QCOMPARE(d3.denied, 1);
    QVERIFY(d3.retryAfterUs() > 0);
    // ...until the second request turns out to have used 1000: 3000 come back.
    store.settle(settlement(rules, -3000, "redis"));
    memory.settleAt(settlement(rules, -3000, "memory"), d3.nowUs);
    DECIDE_BOTH(d4, store, memory, request(rules, 1, 4000));
    QVERIFY(d4.allowed);
    QCOMPARE(d4.statuses[1].remaining, 500.0);
    // Giving back more than was counted stops at zero.
    store.settle(settlement(rules, -1e9, "redis"));
    memory.settleAt(settlement(rules, -1e9, "memory"), d4.nowUs);
    DECIDE_BOTH(d5, store, memory, request(rules, 1, 0));
    QCOMPARE(d5.statuses[1].remaining, 10'000.0);
    // Larger than the limit: never fits.
    DECIDE_BOTH(huge, store, memory, request(rules, 1, 20'000));
    QVERIFY(!huge.allowed);
    QVERIFY(huge.statuses[1].neverFits);
    // The request rule was only charged for the four allowed requests (it would allow this one).
    QVERIFY(huge.statuses[0].allowed);
    QCOMPARE(huge.statuses[0].remaining, 95.0);
}

void TestRedisLimitStore::tokenSettlementAcrossTheMinute()
{
    // A long stream reserved 8000 in the previous minute and used 1000; it is settled in this
    // one. The 7000 come off the window they were counted in, as in memory.
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    QVERIFY(loadScripts(redis));
    MemoryLimitStore memory;
    keepClearOfTheMinuteEnd();
    const LimitRule tokens = tpm("{k:2}:tpm", 10'000);
    const QList<QByteArray> time = redis.cli({"TIME"}).split('\n');
    QCOMPARE(time.size(), 2);
    const qint64 now = time[0].trimmed().toLongLong() * kSecond + time[1].trimmed().toLongLong();
    const qint64 previousMinute = now - now % kMinute - kMinute;
    QVERIFY(memory.decideAt(request({tokens}, 1, 8000), previousMinute + 59 * kSecond).allowed);
    QCOMPARE(
        redis.cli({"SET", "sluice:{k:2}:tpm",
                   QString::number(previousMinute) + QStringLiteral(" 8000 0"), "PX", "180000"}),
        "OK");

    store.settle(settlement({tokens}, -7000, "redis"));
    memory.settleAt(settlement({tokens}, -7000, "memory"), now);
    DECIDE_BOTH(d, store, memory, request({tokens}, 1, 0));
    QVERIFY(d.statuses[0].remaining >= 9000);
}

void TestRedisLimitStore::monthlyRequestsAndSeeds()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    QVERIFY(loadScripts(redis));
    MemoryLimitStore memory;
    const LimitRule month = monthlyRequests("{u:1}:mreq", 10);

    // The ledger said 3 were used this month: seeding raises the counter...
    store.seedMonthly(month, 3);
    memory.seedMonthly(month, 3);
    DECIDE_BOTH(d1, store, memory, request({month}));
    QVERIFY(d1.allowed);
    QCOMPARE(d1.statuses[0].remaining, 6.0);
    // ...and never lowers it.
    store.seedMonthly(month, 1);
    memory.seedMonthly(month, 1);
    DECIDE_BOTH(d2, store, memory, request({month}));
    QCOMPARE(d2.statuses[0].remaining, 5.0);
    store.seedMonthly(month, 8);
    memory.seedMonthly(month, 8);
    DECIDE_BOTH(d3, store, memory, request({month}));
    QVERIFY(d3.allowed);
    QCOMPARE(d3.statuses[0].remaining, 1.0);
    DECIDE_BOTH(d4, store, memory, request({month}));
    QVERIFY(d4.allowed);
    QCOMPARE(d4.statuses[0].remaining, 0.0);
    // Spent: denied until the next month, and waiting a little does not help.
    DECIDE_BOTH(d5, store, memory, request({month}));
    QVERIFY(!d5.allowed);
    QVERIFY(d5.statuses[0].neverFits);
    const qint64 nextMonth = CalendarMonth::nextStartUs(d5.nowUs);
    QCOMPARE(d5.retryAfterUs(), nextMonth - d5.nowUs);
    QCOMPARE(d5.statuses[0].resetUs, nextMonth - d5.nowUs);

    // The counter holds "month used" and outlives the month by a day.
    QCOMPARE(redis.cli({"GET", "sluice:{u:1}:mreq"}),
             QByteArray::number(CalendarMonth::indexOf(d5.nowUs)) + " 10");
    const qint64 pttl = redis.cli({"PTTL", "sluice:{u:1}:mreq"}).toLongLong();
    const qint64 untilMonthEndMs = (nextMonth - MemoryLimitStore::nowUs()) / 1000;
    QVERIFY2(
        pttl > untilMonthEndMs && pttl <= untilMonthEndMs + kDayMs + 5000,
        qPrintable(QStringLiteral("PTTL %1, month ends in %2 ms").arg(pttl).arg(untilMonthEndMs)));

    // A seed of a key nobody used yet creates it, with the same expiry.
    const LimitRule fresh = monthlyRequests("{u:2}:mreq", 10);
    store.seedMonthly(fresh, 4);
    memory.seedMonthly(fresh, 4);
    DECIDE_BOTH(d6, store, memory, request({fresh}, 0));
    QCOMPARE(d6.statuses[0].remaining, 6.0);
    const qint64 pttl2 = redis.cli({"PTTL", "sluice:{u:2}:mreq"}).toLongLong();
    QVERIFY2(pttl2 > untilMonthEndMs - 10'000 && pttl2 <= untilMonthEndMs + kDayMs + 5000,
             qPrintable(QString::number(pttl2)));
}

void TestRedisLimitStore::monthlyTokensSettled()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    QVERIFY(loadScripts(redis));
    MemoryLimitStore memory;
    const LimitRule month = monthlyTokens("{k:1}:mtok", 1'000'000);
    DECIDE_BOTH(d1, store, memory, request({month}, 1, 4000));
    QCOMPARE(d1.statuses[0].remaining, 996'000.0);
    store.settle(settlement({month}, 500, "redis"));
    memory.settleAt(settlement({month}, 500, "memory"), d1.nowUs);
    DECIDE_BOTH(d2, store, memory, request({month}, 1, 0));
    QCOMPARE(d2.statuses[0].remaining, 995'500.0);
    store.settle(settlement({month}, -4000, "redis"));
    memory.settleAt(settlement({month}, -4000, "memory"), d2.nowUs);
    DECIDE_BOTH(d3, store, memory, request({month}, 1, 0));
    QCOMPARE(d3.statuses[0].remaining, 999'500.0);
    // The expiry is kept by a settlement.
    const qint64 pttl = redis.cli({"PTTL", "sluice:{k:1}:mtok"}).toLongLong();
    QVERIFY2(pttl > (CalendarMonth::nextStartUs(d3.nowUs) - d3.nowUs) / 1000 - 10'000,
             qPrintable(QString::number(pttl)));
    // A settlement of a key that expired (or never existed) creates nothing.
    store.settle(settlement({monthlyTokens("{k:9}:mtok", 10)}, 5, "redis"));
    QVERIFY(decideNow(store, request({month}, 1, 0)).allowed);
    QCOMPARE(redis.cli({"EXISTS", "sluice:{k:9}:mtok"}), "0");
}

void TestRedisLimitStore::fractionalCostsAgreeWithMemory()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    MemoryLimitStore memory;
    keepClearOfTheMinuteEnd();
    // 0.1 ten times is exactly one request on every request-counting rule.
    const std::vector<LimitRule> one{rpm("{k:1}:rpm", 1), monthlyRequests("{k:1}:mreq", 1),
                                     rps("{k:1}:rps", 1)};
    for (int i = 0; i < 10; ++i) {
        DECIDE_BOTH(d, store, memory, request(one, 0.1));
        QVERIFY2(d.allowed, qPrintable(QString::number(i)));
    }
    DECIDE_BOTH(d, store, memory, request(one, 0.1));
    QVERIFY(!d.allowed);
}

void TestRedisLimitStore::neverFittingRuleIsNamed()
{
    // The per-minute limit waits longer, but the request is larger than the token limit can
    // ever hold: the answer names the token limit, as the memory store does.
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    MemoryLimitStore memory;
    keepClearOfTheMinuteEnd();
    const std::vector<LimitRule> rules{rpm("{k:1}:rpm", 1), tpm("{k:1}:tpm", 1000)};
    DECIDE_BOTH(d1, store, memory, request(rules, 1, 10));
    QVERIFY(d1.allowed);
    DECIDE_BOTH(d2, store, memory, request(rules, 1, 5000));
    QVERIFY(!d2.allowed);
    QVERIFY(d2.statuses[0].retryAfterUs > d2.statuses[1].retryAfterUs);
    QVERIFY(d2.statuses[1].neverFits);
    QCOMPARE(d2.denied, 1);
}

void TestRedisLimitStore::denialByOneRuleCommitsNothing()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    MemoryLimitStore memory;
    keepClearOfTheMinuteEnd();
    // The key's bucket holds 10; its user allows 2 per minute.
    const LimitRule keyRule = rps("{k:1}:rps", 10);
    const LimitRule userRule =
        makeRule("{u:1}:rpm", LimitKind::RequestsPerMinute, 2, 0, LimitScope::User);
    const LimitRule userMonth =
        makeRule("{u:1}:mreq", LimitKind::MonthlyRequests, 100, 0, LimitScope::User);
    const std::vector<LimitRule> rules{keyRule, userRule, userMonth};
    for (int i = 0; i < 2; ++i) {
        DECIDE_BOTH(d, store, memory, request(rules));
        QVERIFY(d.allowed);
    }
    const QByteArray keyState = redis.cli({"GET", "sluice:{k:1}:rps"});
    const QByteArray monthState = redis.cli({"GET", "sluice:{u:1}:mreq"});
    QVERIFY(!keyState.isEmpty());
    QVERIFY(monthState.endsWith(" 2"));
    for (int i = 0; i < 3; ++i) {
        // Shrinking costs: decided by Redis each time, not by the memory of the last denial.
        DECIDE_BOTH(d, store, memory, request(rules, 1 - (i + 1) * 1e-9));
        QVERIFY(!d.allowed);
        QCOMPARE(d.denied, 1);
        QVERIFY(d.statuses[0].allowed);
        QVERIFY(!d.statuses[1].allowed);
        QVERIFY(d.statuses[2].allowed);
    }
    // The denial by the user's rule took nothing from the key's bucket or the month.
    QCOMPARE(redis.cli({"GET", "sluice:{k:1}:rps"}), keyState);
    QCOMPARE(redis.cli({"GET", "sluice:{u:1}:mreq"}), monthState);
    // Another key of the same user is denied by the user's limit just the same.
    const LimitRule otherKey = rps("{k:2}:rps", 10);
    DECIDE_BOTH(other, store, memory, request({otherKey, userRule, userMonth}));
    QVERIFY(!other.allowed);
    QCOMPARE(redis.cli({"EXISTS", "sluice:{k:2}:rps"}), "0");
}

void TestRedisLimitStore::keysArePrefixedAndExpire()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    RedisLimitStore tenant({urlOf(redis.url()), 1000, "tenant7:"}, metrics);
    const std::vector<LimitRule> rules{rps("{k:1}:rps", 5, 0.01), rpm("{k:1}:rpm", 50),
                                       tpm("{k:1}:tpm", 5000), monthlyRequests("{k:1}:mreq", 1000),
                                       monthlyTokens("{k:1}:mtok", 100'000)};
    QVERIFY(decideNow(store, request(rules, 1, 100)).allowed);
    QVERIFY(decideNow(tenant, request(rules, 1, 100)).allowed);

    const QList<QByteArray> keys = redis.cli({"KEYS", "*"}).split('\n');
    QCOMPARE(keys.size(), 10);
    int ours = 0;
    for (const QByteArray &k : keys) {
        QVERIFY2(k.startsWith("sluice:{k:1}:") || k.startsWith("tenant7:{k:1}:"), k.constData());
        ours += k.startsWith("sluice:") ? 1 : 0;
        const qint64 pttl = redis.cli({"PTTL", QString::fromUtf8(k)}).toLongLong();
        QVERIFY2(pttl > 0, qPrintable(QString::fromUtf8(k) + QStringLiteral(": PTTL ") +
                                      QString::number(pttl)));
    }
    QCOMPARE(ours, 5);
    // A bucket lives until it is full again (one request at 0.01/s: 100 s), a window for two
    // minutes from its start.
    const qint64 rpsTtl = redis.cli({"PTTL", "sluice:{k:1}:rps"}).toLongLong();
    QVERIFY2(rpsTtl > 90'000 && rpsTtl <= 100'000, qPrintable(QString::number(rpsTtl)));
    const qint64 rpmTtl = redis.cli({"PTTL", "sluice:{k:1}:rpm"}).toLongLong();
    QVERIFY2(rpmTtl > 60'000 && rpmTtl <= 120'000, qPrintable(QString::number(rpmTtl)));
    // A fast bucket's key is gone once it is full again (2 at 20/s: within 0.1 s).
    QVERIFY(decideNow(store, request({rps("{k:3}:rps", 2, 20)})).allowed);
    QTRY_COMPARE(redis.cli({"EXISTS", "sluice:{k:3}:rps"}), "0");
}

void TestRedisLimitStore::scriptCacheFlushed()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    const LimitRule rule = rps("{k:1}:rps", 5);
    // The first EVALSHA finds no script: EVAL loads it.
    LimitDecision d = decideNow(store, request({rule}));
    QVERIFY2(!d.failed, d.error.constData());
    QCOMPARE(d.statuses[0].remaining, 4.0);
    QCOMPARE(commands(registry, "eval"), 1.0);
    QCOMPARE(commands(registry, "evalsha"), 1.0);
    d = decideNow(store, request({rule}));
    QCOMPARE(d.statuses[0].remaining, 3.0);
    QCOMPARE(commands(registry, "eval"), 1.0);
    QCOMPARE(commands(registry, "evalsha"), 2.0);

    QCOMPARE(redis.cli({"SCRIPT", "FLUSH"}), "OK");
    d = decideNow(store, request({rule}));
    QVERIFY2(!d.failed, d.error.constData());
    QVERIFY(d.allowed);
    QCOMPARE(d.statuses[0].remaining, 2.0);  // the state survived, only the script went
    QCOMPARE(commands(registry, "eval"), 2.0);
    QCOMPARE(commands(registry, "evalsha"), 3.0);
    QCOMPARE(metric(registry, "gateway_redis_command_errors_total{command=\"evalsha\"}"), 2.0);
    d = decideNow(store, request({rule}));
    QCOMPARE(d.statuses[0].remaining, 1.0);
    QCOMPARE(commands(registry, "eval"), 2.0);

    // Settlements and seeds load their scripts the same way.
    QCOMPARE(redis.cli({"SCRIPT", "FLUSH"}), "OK");
    const LimitRule tokens = monthlyTokens("{k:1}:mtok", 1000);
    QVERIFY(decideNow(store, request({tokens}, 1, 100)).allowed);
    store.settle(settlement({tokens}, 50, "redis"));
    store.seedMonthly(monthlyRequests("{k:1}:mreq", 10), 7);
    // (Fire and forget: their EVALs follow their NOSCRIPT answers; wait for them.)
    QTRY_VERIFY(redis.cli({"GET", "sluice:{k:1}:mtok"}).endsWith(" 150"));
    QTRY_VERIFY(redis.cli({"GET", "sluice:{k:1}:mreq"}).endsWith(" 7"));
    d = decideNow(store, request({tokens, monthlyRequests("{k:1}:mreq", 10)}, 0, 0));
    QVERIFY2(!d.failed, d.error.constData());
    QCOMPARE(d.statuses[0].remaining, 850.0);
    QCOMPARE(d.statuses[1].remaining, 3.0);
    QCOMPARE(commands(registry, "eval"), 5.0);
}

void TestRedisLimitStore::denialsAnsweredLocally()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    const LimitRule rule = rps("{k:1}:rps", 1);  // one request, then one per 1000 s
    const LimitRule month = monthlyRequests("{k:1}:mreq", 1000);
    QVERIFY(decideNow(store, request({rule, month})).allowed);
    const LimitDecision first = decideNow(store, request({rule, month}));
    QVERIFY(!first.allowed);
    QCOMPARE(first.store, "redis");
    QCOMPARE(first.denied, 0);
    QVERIFY(first.retryAfterUs() > 900 * kSecond);
    const double evalsha = commands(registry, "evalsha");
    const double eval = commands(registry, "eval");

    // The same principal hammering on: answered from the memory of the denial, no command.
    qint64 lastRetry = first.retryAfterUs();
    for (int i = 0; i < 20; ++i) {
        const LimitDecision d = decideNow(store, request({rule, month}));
        QVERIFY(!d.allowed);
        QVERIFY(!d.failed);
        QCOMPARE(d.store, "redis");
        QCOMPARE(d.denied, 0);
        QVERIFY(d.retryAfterUs() > 0 && d.retryAfterUs() <= lastRetry);
        QVERIFY(d.nowUs >= first.nowUs);
        lastRetry = d.retryAfterUs();
    }
    // A larger request is refused just the same.
    QVERIFY(!decideNow(store, request({rule, month}, 2)).allowed);
    QCOMPARE(commands(registry, "evalsha"), evalsha);
    QCOMPARE(commands(registry, "eval"), eval);
    QCOMPARE(redis.cli({"GET", "sluice:{k:1}:mreq"}).split(' ').value(1), "1");

    // A smaller request might fit where the denied one did not: Redis decides.
    QVERIFY(!decideNow(store, request({rule, month}, 0.5)).allowed);
    QCOMPARE(commands(registry, "evalsha"), evalsha + 1);
    // An edited limit (the burst raised) goes to Redis, and is allowed there.
    LimitRule raised = rule;
    raised.burst = 2;
    const LimitDecision edited = decideNow(store, request({raised, month}));
    QVERIFY(edited.allowed);
    QCOMPARE(edited.statuses[0].remaining, 0.0);
    QCOMPARE(commands(registry, "evalsha"), evalsha + 2);
    // So does another principal.
    QVERIFY(decideNow(store, request({rps("{k:2}:rps", 1), month})).allowed);
    QCOMPARE(commands(registry, "evalsha"), evalsha + 3);
    QCOMPARE(commands(registry, "eval"), eval);
}

void TestRedisLimitStore::settledTokensLiftALocalDenial()
{
    // A spent monthly token quota is denied until the month ends, but tokens given back by a
    // settlement make room again: a remembered denial must not outlive that.
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 1000}, metrics);
    RedisLimitStore otherGateway({urlOf(redis.url()), 1000}, metrics);
    QVERIFY(loadScripts(redis));
    const LimitRule month = monthlyTokens("{k:1}:mtok", 1000);
    QVERIFY(decideNow(store, request({month}, 1, 900)).allowed);
    LimitDecision d = decideNow(store, request({month}, 1, 200));
    QVERIFY(!d.allowed);
    QVERIFY(d.retryAfterUs() > kSecond);
    QVERIFY(!decideNow(store, request({month}, 1, 200)).allowed);

    // The request reserved 900 and used 400: settled on this store, the next one fits at once.
    store.settle(settlement({month}, -500, "redis"));
    d = decideNow(store, request({month}, 1, 200));
    QVERIFY2(d.allowed, d.error.constData());
    QCOMPARE(d.statuses[0].remaining, 400.0);

    // Spent again, then tokens come back through another gateway: within a few seconds this
    // one sees them, though its denial named the month's end.
    QVERIFY(decideNow(store, request({month}, 1, 300)).allowed);
    QVERIFY(!decideNow(store, request({month}, 1, 200)).allowed);
    otherGateway.settle(settlement({month}, -600, "redis"));
    QVERIFY(decideNow(otherGateway, request({month}, 1, 0)).allowed);  // settled by now
    QElapsedTimer waited;
    waited.start();
    bool allowed = false;
    while (!(allowed = decideNow(store, request({month}, 1, 200)).allowed) &&
           waited.elapsed() < 5000)
        QTest::qWait(50);
    QVERIFY(allowed);
    QCOMPARE(redis.cli({"GET", "sluice:{k:1}:mtok"}).split(' ').value(1), "500");
}

void TestRedisLimitStore::threadsShareTheLimit()
{
    // Worker threads each have their own connection; the bucket is shared through Redis and
    // decided atomically: exactly the burst gets through.
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    RedisLimitStore store({urlOf(redis.url()), 2000}, metrics);
    const LimitRule rule = rps("{k:1}:rps", 25);
    std::atomic<int> allowed{0};
    std::atomic<int> failed{0};
    std::atomic<int> answered{0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back(QThread::create([&] {
            QEventLoop loop;
            int mine = 0;
            for (int i = 0; i < 12; ++i) {
                // Shrinking costs, so every one of them is decided by Redis.
                store.decide(request({rule}, 1 - i * 1e-9), [&](LimitDecision d) {
                    ++answered;
                    if (d.failed)
                        ++failed;
                    else if (d.allowed)
                        ++allowed;
                    if (++mine == 12)
                        loop.quit();
                });
            }
            loop.exec();
        }));
        threads.back()->start();
    }
    for (auto &t : threads)
        QVERIFY(t->wait(30000));
    QCOMPARE(answered.load(), 48);
    QCOMPARE(failed.load(), 0);
    QCOMPARE(allowed.load(), 25);
}

// --- FallbackLimitStore -----------------------------------------------------------------------

namespace {

struct Fallback
{
    explicit Fallback(const QString &url, FallbackLimitStore::Options options = {},
                      int timeoutMs = 200)
        : metrics(registry),
          store(std::make_unique<RedisLimitStore>(RedisLimitStore::Options{urlOf(url), timeoutMs},
                                                  metrics),
                std::make_unique<MemoryLimitStore>(), options, metrics, registry)
    {}
    MetricsRegistry registry;
    RedisMetrics metrics;
    FallbackLimitStore store;
};

}  // namespace

void TestRedisLimitStore::fallbackWhileRedisIsDown()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    Fallback f(redis.url());
    // At start the store marks Redis as seeded (a fresh Redis asks for the monthly counters).
    QTRY_COMPARE(redis.cli({"EXISTS", "sluice:seeded"}), "1");
    QSignalSpy changed(&f.store, &FallbackLimitStore::fallbackChanged);
    QSignalSpy recovered(&f.store, &FallbackLimitStore::redisRecovered);
    QVERIFY(!f.store.fallbackActive());
    QCOMPARE(metric(f.registry, "gateway_rate_limit_fallback_active"), 0.0);

    const LimitRule rule = rps("{k:1}:rps", 3);
    LimitDecision d = decideNow(f.store, request({rule}));
    QVERIFY(d.allowed);
    QCOMPARE(d.store, "redis");
    QCOMPARE(d.statuses[0].remaining, 2.0);

    redis.stop();
    // The failed decision is decided from memory instead (which starts from a full bucket).
    d = decideNow(f.store, request({rule}));
    QVERIFY2(!d.failed, d.error.constData());
    QVERIFY(!d.unavailable);
    QVERIFY(d.allowed);
    QCOMPARE(d.store, "memory");
    QCOMPARE(d.statuses[0].remaining, 2.0);
    QVERIFY(f.store.fallbackActive());
    QVERIFY(!f.store.fallbackReason().isEmpty());
    QTRY_COMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toBool(), true);
    QCOMPARE(metric(f.registry, "gateway_rate_limit_fallback_active"), 1.0);
    // Meanwhile everything is decided (and settled) in memory, without trying Redis.
    const double evalsha = commands(f.registry, "evalsha");
    for (int remaining = 1; remaining >= 0; --remaining) {
        d = decideNow(f.store, request({rule}));
        QCOMPARE(d.store, "memory");
        QVERIFY(d.allowed);
        QCOMPARE(d.statuses[0].remaining, double(remaining));
    }
    QVERIFY(!decideNow(f.store, request({rule})).allowed);
    const LimitRule tokens = tpm("{k:1}:tpm", 1000);
    d = decideNow(f.store, request({tokens}, 1, 800));
    QCOMPARE(d.store, "memory");
    f.store.settle(settlement({tokens}, -500, "memory"));
    d = decideNow(f.store, request({tokens}, 1, 600));
    QVERIFY(d.allowed);
    QCOMPARE(commands(f.registry, "evalsha"), evalsha);
    QVERIFY(f.store.activeKeys() >= 2);

    // Down for a while (the probe backs off), then back: within seconds the probe switches
    // back and asks for the monthly counters (the restarted Redis is empty).
    QTest::qWait(1500);
    QVERIFY(f.store.fallbackActive());
    QVERIFY2(redis.start(), redis.why().constData());
    QTRY_VERIFY_WITH_TIMEOUT(!f.store.fallbackActive(), 8000);
    QTRY_COMPARE(changed.size(), 2);
    QCOMPARE(changed.at(1).at(0).toBool(), false);
    QTRY_COMPARE(recovered.size(), 1);
    QTRY_COMPARE(redis.cli({"EXISTS", "sluice:seeded"}), "1");
    QTest::qWait(300);
    QCOMPARE(recovered.size(), 1);  // once per recovery
    QVERIFY(f.store.fallbackReason().isEmpty());
    QCOMPARE(metric(f.registry, "gateway_rate_limit_fallback_active"), 0.0);
    d = decideNow(f.store, request({rule}));
    QVERIFY2(!d.failed, d.error.constData());
    QCOMPARE(d.store, "redis");
    QVERIFY(d.allowed);
    QCOMPARE(d.statuses[0].remaining, 2.0);  // a new, empty Redis
    QCOMPARE(changed.size(), 2);
}

void TestRedisLimitStore::fallbackFailClosed()
{
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    FallbackLimitStore::Options options;
    options.failClosed = true;
    Fallback f(redis.url(), options);
    QSignalSpy changed(&f.store, &FallbackLimitStore::fallbackChanged);
    const LimitRule rule = rps("{k:1}:rps", 3);
    QCOMPARE(decideNow(f.store, request({rule})).store, "redis");

    redis.stop();
    for (int i = 0; i < 3; ++i) {
        const LimitDecision d = decideNow(f.store, request({rule}));
        QVERIFY(d.unavailable);
        QVERIFY(!d.allowed);
        QVERIFY(!d.error.isEmpty());
    }
    QVERIFY(f.store.fallbackActive());
    QTRY_COMPARE(changed.size(), 1);
    QCOMPARE(metric(f.registry, "gateway_rate_limit_fallback_active"), 1.0);

    QVERIFY2(redis.start(), redis.why().constData());
    QTRY_VERIFY_WITH_TIMEOUT(!f.store.fallbackActive(), 8000);
    const LimitDecision d = decideNow(f.store, request({rule}));
    QVERIFY(!d.unavailable);
    QVERIFY(d.allowed);
    QCOMPARE(d.store, "redis");
}

void TestRedisLimitStore::fallbackSeedsAfterFlush()
{
    // A Redis flushed (or restarted) between two requests never failed a decision, yet lost the
    // monthly counters: the key-count timer (every 10 s) notices the missing marker.
    RedisServer redis;
    QVERIFY2(redis.start(), redis.why().constData());
    Fallback f(redis.url());
    QSignalSpy recovered(&f.store, &FallbackLimitStore::redisRecovered);
    QTRY_COMPARE(recovered.size(), 1);  // the fresh Redis at start
    QTRY_COMPARE(redis.cli({"EXISTS", "sluice:seeded"}), "1");
    QVERIFY(decideNow(f.store, request({monthlyRequests("{k:1}:mreq", 10)})).allowed);

    QCOMPARE(redis.cli({"FLUSHALL"}), "OK");
    QTRY_VERIFY_WITH_TIMEOUT(recovered.size() == 2, 15000);
    QTRY_COMPARE(redis.cli({"EXISTS", "sluice:seeded"}), "1");
    QVERIFY(!f.store.fallbackActive());
    // The key count of the refresh that noticed it: nothing left.
    QCOMPARE(f.store.activeKeys(), 0);
}

// --- RedisCheck -------------------------------------------------------------------------------

void TestRedisLimitStore::healthCheck()
{
    RedisServer redis;
    QVERIFY2(redis.start({QStringLiteral("--requirepass"), QStringLiteral("s3cret")}),
             redis.why().constData());
    const RedisUrl url = urlOf(QStringLiteral("redis://:s3cret@127.0.0.1:%1/2").arg(redis.port()));
    QByteArray fallbackReason;
    RedisCheck check(url, 1000, [&] { return fallbackReason; });
    QCOMPARE(check.name(), QStringLiteral("redis"));
    QVERIFY(!check.critical());

    HealthResult r = check.probe();
    QCOMPARE(r.status, HealthStatus::Healthy);
    QVERIFY2(r.message.contains(QStringLiteral("answers")), qPrintable(r.message));
    QVERIFY(!r.message.contains(QStringLiteral("s3cret")));
    QVERIFY(r.latencyMs > 0);

    // Answering, but the limiter still decides from memory.
    fallbackReason = "timeout";
    r = check.probe();
    QCOMPARE(r.status, HealthStatus::Degraded);
    QVERIFY2(r.message.contains(QStringLiteral("timeout")), qPrintable(r.message));
    fallbackReason.clear();

    // A wrong password.
    RedisCheck wrong(urlOf(QStringLiteral("redis://:nope@127.0.0.1:%1").arg(redis.port())), 1000,
                     {});
    r = wrong.probe();
    QCOMPARE(r.status, HealthStatus::Degraded);
    QVERIFY(!r.message.contains(QStringLiteral("nope")));

    redis.stop();
    r = check.probe();
    QCOMPARE(r.status, HealthStatus::Degraded);
    QVERIFY2(r.message.contains(QStringLiteral("unreachable")), qPrintable(r.message));
    QVERIFY(!r.message.contains(QStringLiteral("s3cret")));

    QVERIFY2(redis.start({QStringLiteral("--requirepass"), QStringLiteral("s3cret")}),
             redis.why().constData());
    QCOMPARE(check.probe().status, HealthStatus::Healthy);
}

QTEST_GUILESS_MAIN(TestRedisLimitStore)
#include "tst_redislimitstore.moc"
