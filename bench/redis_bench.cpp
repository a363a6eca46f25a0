// Decisions per second of the Redis rate-limit store (core/limiter/RedisLimitStore) against a
// running redis-server: bench/redis.sh starts the server, runs this program and redis-benchmark
// with the same script, keys and arguments side by side, and prints the ratio.
// docs/performance.md ("Rate limiter: Redis store") has the results.
//
// Every decision goes through what the gateway runs per request: Limiter::rulesFor for an API
// key and its user (4 rules: key-rps, user-rps, user-rpm, user-monthly-requests), then
// RedisLimitStore::decide (one EVALSHA of LimitScripts::decide() over RedisConnection, and the
// reply parsed into a LimitDecision). The limits are the shape of the built-in defaults but so
// large (burst 10^9, 10^9/min, 10^12/month) that every decision is allowed and writes its 4 keys.
//
// Concurrency: --connections C threads, each with its own event loop and therefore its own
// RedisLimitStore connection (the store keeps one per thread), each keeping --depth P decisions
// in flight (when one is answered, the next is sent). Keys: thread t draws ids at random from
// [0, --keys); the key and the user of a decision share the id, written as 12 digits, as
// redis-benchmark writes __rand_int__.
//
// Modes:
//   bench_redis --dump-script FILE        write the decide script to FILE, print its SHA-1
//   bench_redis --print-command           print EVALSHA and its arguments, one per line, with
//                                         __rand_int__ for the ids (for redis-benchmark)
//   bench_redis --url URL [options]       run: --fill first decides ids 0..keys-1 once each,
//                                         then --warmup decisions per connection (not timed),
//                                         then --decisions in all, timed; prints one line of
//                                         key=value results on stdout.

#include "LimitScripts.h"
#include "Limiter.h"
#include "MetricsRegistry.h"
#include "RedisLimitStore.h"
#include "RedisMetrics.h"

#include <sys/resource.h>
#include <unistd.h>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

using namespace sluice;

constexpr int kIdDigits = 12;  // as redis-benchmark's __rand_int__

LimitSubject subjectFor(const QByteArray &id)
{
    LimitSubject s;
    s.keyId = id;
    s.userId = id;
    s.tier = "free";
    s.keyLimits.requestsPerSecond = 50;
    s.keyLimits.burst = 1'000'000'000;
    s.userLimits.requestsPerSecond = 100;
    s.userLimits.burst = 1'000'000'000;
    s.userLimits.requestsPerMinute = 1'000'000'000;
    s.userLimits.monthlyRequests = 1'000'000'000'000;
    return s;
}

QByteArray paddedId(quint64 id)
{
    return QByteArray::number(id).rightJustified(kIdDigits, '0');
}

// The EVALSHA RedisLimitStore::decide sends for `request`.
QList<QByteArray> evalshaArgv(const LimitRequest &request, const QByteArray &prefix)
{
    QList<QByteArray> keys;
    QList<QByteArray> args;
    RedisLimitStore::decideArguments(request, prefix, &keys, &args);
    QList<QByteArray> argv{"EVALSHA", LimitScripts::sha1(LimitScripts::decide()),
                           QByteArray::number(keys.size())};
    return argv << keys << args;
}

struct Totals
{
    std::atomic<qint64> allowed{0};
    std::atomic<qint64> denied{0};
    std::atomic<qint64> failed{0};
    QByteArray firstError;  // written once, under the `failed` count going 0 -> 1
};

// One connection: lives on its own thread; runs batches of decisions, `depth` in flight.
class Worker : public QObject
{
public:
    Worker(LimitStore &store, Totals &totals, int index, int depth, quint64 keys)
        : m_store(store),
          m_totals(totals),
          m_depth(depth),
          m_keys(keys),
          m_rng(0x9E3779B97F4A7C15ULL * quint64(index + 1))
    {}

    // Runs `count` decisions (ids first..first+count-1 in turn when `sequential`, else random),
    // then calls `done` on this thread.
    void runBatch(qint64 count, bool sequential, quint64 first, std::function<void()> done)
    {
        m_left = count;
        m_inflight = 0;
        m_sequential = sequential;
        m_next = first;
        m_done = std::move(done);
        if (m_left == 0) {
            m_done();
            return;
        }
        while (m_inflight < m_depth && m_left > 0)
            sendOne();
    }

private:
    quint64 nextId()
    {
        if (m_sequential)
            return m_next++;
        m_rng ^= m_rng << 13;  // xorshift64
        m_rng ^= m_rng >> 7;
        m_rng ^= m_rng << 17;
        return m_rng % m_keys;
    }

    void sendOne()
    {
        --m_left;
        ++m_inflight;
        LimitRequest request;
        request.rules = Limiter::rulesFor(subjectFor(paddedId(nextId())), false);
        m_store.decide(request, [this](LimitDecision d) {
            if (d.failed) {
                if (m_totals.failed.fetch_add(1) == 0)
                    m_totals.firstError = d.error;
            } else if (d.allowed) {
                m_totals.allowed.fetch_add(1, std::memory_order_relaxed);
            } else {
                m_totals.denied.fetch_add(1, std::memory_order_relaxed);
            }
            --m_inflight;
            if (m_left > 0)
                sendOne();
            else if (m_inflight == 0)
                m_done();
        });
    }

    LimitStore &m_store;
    Totals &m_totals;
    const int m_depth;
    const quint64 m_keys;
    quint64 m_rng;
    qint64 m_left = 0;
    int m_inflight = 0;
    bool m_sequential = false;
    quint64 m_next = 0;
    std::function<void()> m_done;
};

double processCpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of process `pid` in seconds (its threads included); -1 when unreadable.
double serverCpuSeconds(qint64 pid)
{
    if (pid <= 0)
        return -1;
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    // Fields after "(comm) ": state is the first; utime and stime the 12th and 13th.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    return double(fields[11].toLongLong() + fields[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

int fail(const QString &why)
{
    std::fprintf(stderr, "bench_redis: %s\n", qPrintable(why));
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription("Decisions/s of Sluice's Redis rate-limit store.");
    p.addHelpOption();
    p.addOptions({
        {"dump-script", "Write the decide script to <file>, print its SHA-1.", "file"},
        {"print-command", "Print EVALSHA and its arguments, one per line (ids __rand_int__)."},
        {"url", "Redis URL (redis://127.0.0.1:6379).", "url"},
        {"connections", "Connections (one thread each).", "n", "1"},
        {"depth", "Decisions in flight per connection.", "n", "1"},
        {"decisions", "Timed decisions, over all connections.", "n", "100000"},
        {"keys", "Distinct API keys (each with its own user).", "n", "100000"},
        {"warmup", "Untimed decisions per connection first.", "n", "2000"},
        {"fill", "First decide every id 0..keys-1 once (untimed)."},
        {"prefix", "Key prefix.", "text", "sluice:"},
        {"server-pid", "redis-server's pid: report its CPU per timed decision.", "pid", "0"},
    });
    p.process(app);

    const QByteArray prefix = p.value("prefix").toUtf8();
    if (p.isSet("dump-script")) {
        QFile f(p.value("dump-script"));
        if (!f.open(QIODevice::WriteOnly) || f.write(LimitScripts::decide()) < 0)
            return fail("cannot write " + f.fileName() + ": " + f.errorString());
        std::printf("%s\n", LimitScripts::sha1(LimitScripts::decide()).constData());
        return 0;
    }
    if (p.isSet("print-command")) {
        LimitRequest r;
        r.rules = Limiter::rulesFor(subjectFor("__rand_int__"), false);
        for (const QByteArray &a : evalshaArgv(r, prefix))
            std::printf("%s\n", a.constData());
        return 0;
    }

    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false, ok5 = false;
    const int connections = p.value("connections").toInt(&ok1);
    const int depth = p.value("depth").toInt(&ok2);
    const qint64 decisions = p.value("decisions").toLongLong(&ok3);
    const qint64 keys = p.value("keys").toLongLong(&ok4);
    const qint64 warmup = p.value("warmup").toLongLong(&ok5);
    const qint64 serverPid = p.value("server-pid").toLongLong();
    if (!(ok1 && ok2 && ok3 && ok4 && ok5) || connections < 1 || depth < 1 || decisions < 1 ||
        keys < 1 || warmup < 0)
        return fail("--connections, --depth, --decisions and --keys must be positive integers");
    QString expected;
    const std::optional<RedisUrl> url = RedisUrl::parse(p.value("url"), &expected);
    if (!p.isSet("url") || !url)
        return fail("--url: expected " + (expected.isEmpty() ? QString("a URL") : expected));

    MetricsRegistry registry;
    RedisMetrics metrics(registry);
    // A generous timeout: a benchmark that queues deep should not fail decisions.
    RedisLimitStore store(RedisLimitStore::Options{*url, 2000, prefix}, metrics);
    Totals totals;

    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < connections; ++i) {
        threads.push_back(std::make_unique<QThread>());
        workers.push_back(std::make_unique<Worker>(store, totals, i, depth, quint64(keys)));
        workers.back()->moveToThread(threads.back().get());
        threads.back()->start();
    }

    // Runs one batch on every worker at once; `count(i)` and `first(i)` give worker i's share.
    int running = 0;
    std::function<void()> afterPhase;
    const auto phase = [&](bool sequential, auto count, auto first, std::function<void()> then) {
        running = connections;
        afterPhase = std::move(then);
        for (int i = 0; i < connections; ++i) {
            Worker *w = workers[size_t(i)].get();
            QMetaObject::invokeMethod(
                w, [w, &running, &afterPhase, &app, sequential, n = count(i), f = first(i)] {
                    w->runBatch(n, sequential, quint64(f), [&running, &afterPhase, &app] {
                        QMetaObject::invokeMethod(&app, [&running, &afterPhase] {
                            if (--running == 0)
                                afterPhase();
                        });
                    });
                });
        }
    };
    const auto share = [connections](qint64 total) {
        return [total, connections](int i) {
            return total / connections + (i < total % connections ? 1 : 0);
        };
    };

    std::chrono::steady_clock::time_point t0;
    double cpu0 = 0;
    double server0 = 0;
    const auto timed = [&] {
        totals.allowed = 0;
        totals.denied = 0;
        t0 = std::chrono::steady_clock::now();
        cpu0 = processCpuSeconds();
        server0 = serverCpuSeconds(serverPid);
        phase(
            false, share(decisions), [](int) { return 0; },
            [&] {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                const double cpu = processCpuSeconds() - cpu0;
                const double server = server0 < 0 ? -1 : serverCpuSeconds(serverPid) - server0;
                std::printf(
                    "connections=%d depth=%d decisions=%lld keys=%lld seconds=%.3f "
                    "decisions_per_s=%.0f client_cpu_us_per_decision=%.2f "
                    "server_cpu_us_per_decision=%.2f allowed=%lld "
                    "denied=%lld failed=%lld\n",
                    connections, depth, static_cast<long long>(decisions),
                    static_cast<long long>(keys), seconds, double(decisions) / seconds,
                    cpu * 1e6 / double(decisions),
                    server < 0 ? -1.0 : server * 1e6 / double(decisions),
                    static_cast<long long>(totals.allowed), static_cast<long long>(totals.denied),
                    static_cast<long long>(totals.failed));
                std::fflush(stdout);
                app.exit(totals.failed > 0 || totals.denied > 0 ? 1 : 0);
            });
    };
    const auto warm = [&] {
        phase(
            false, [warmup](int) { return warmup; }, [](int) { return 0; }, timed);
    };
    QTimer::singleShot(0, &app, [&] {
        if (p.isSet("fill")) {
            const auto fillShare = share(keys);
            phase(
                true, fillShare,
                [fillShare](int i) {
                    qint64 first = 0;
                    for (int j = 0; j < i; ++j)
                        first += fillShare(j);
                    return first;
                },
                warm);
        } else {
            warm();
        }
    });
    const int rc = app.exec();
    if (totals.failed > 0)
        std::fprintf(stderr, "bench_redis: %lld decisions failed, the first: %s\n",
                     static_cast<long long>(totals.failed), totals.firstError.constData());
    for (size_t i = 0; i < threads.size(); ++i) {
        // The worker goes on its own thread, then the thread (and with it the store's
        // connection of that thread).
        Worker *w = workers[i].release();
        QMetaObject::invokeMethod(
            w, [w] { delete w; }, Qt::BlockingQueuedConnection);
        threads[i]->quit();
        threads[i]->wait();
    }
    return rc;
}
