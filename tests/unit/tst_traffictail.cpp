// TrafficTail: the ring of the last finished /v1 requests (order, capacity), its JSON both
// ways, and writers on several threads at once against a reader.
#include "TrafficTail.h"

#include <QJsonObject>
#include <QSet>
#include <QTest>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

using namespace sluice;

namespace {

TrafficEntry entry(int n)
{
    TrafficEntry e;
    e.atMs = 1'760'000'000'000 + n;
    e.requestId = "req-" + QByteArray::number(n);
    e.method = "POST";
    e.route = "/v1/chat/completions";
    e.path = "/v1/chat/completions";
    e.status = 200;
    e.seconds = 0.25;
    e.userId = "7";
    e.keyId = "12";
    return e;
}

}  // namespace

class TestTrafficTail : public QObject
{
    Q_OBJECT
private slots:
    void newestFirst()
    {
        TrafficTail tail(10);
        QVERIFY(tail.recent(5).isEmpty());
        for (int n = 1; n <= 3; ++n)
            tail.record(entry(n));
        const QList<TrafficEntry> all = tail.recent(100);
        QCOMPARE(all.size(), 3);
        QCOMPARE(all[0].requestId, QByteArray("req-3"));
        QCOMPARE(all[2].requestId, QByteArray("req-1"));
        const QList<TrafficEntry> two = tail.recent(2);
        QCOMPARE(two.size(), 2);
        QCOMPARE(two[1].requestId, QByteArray("req-2"));
        QVERIFY(tail.recent(0).isEmpty());
        QVERIFY(tail.recent(-3).isEmpty());
    }

    void keepsOnlyTheCapacity()
    {
        TrafficTail tail(500);
        QCOMPARE(tail.capacity(), 500);
        for (int n = 1; n <= 1234; ++n)
            tail.record(entry(n));
        const QList<TrafficEntry> all = tail.recent(1000);
        QCOMPARE(all.size(), 500);
        QCOMPARE(all.first().requestId, QByteArray("req-1234"));
        QCOMPARE(all.last().requestId, QByteArray("req-735"));
        QCOMPARE(TrafficTail(0).capacity(), 1);  // never an empty ring
    }

    void jsonRoundTrip()
    {
        TrafficEntry anonymous = entry(2);
        anonymous.status = 401;
        anonymous.userId.clear();
        anonymous.keyId.clear();
        anonymous.path = "/v1/models";
        anonymous.method = "GET";
        const QJsonArray json = TrafficTail::toJson({entry(1), anonymous});
        QCOMPARE(json.size(), 2);
        const QJsonObject first = json.first().toObject();
        QCOMPARE(first.keys(), (QStringList{"at", "duration_ms", "key_id", "method", "path",
                                            "request_id", "route", "status", "user_id"}));
        QCOMPARE(first.value(QLatin1String("at")).toString(),
                 QStringLiteral("2025-10-09T08:53:20.001Z"));
        QCOMPARE(first.value(QLatin1String("duration_ms")).toDouble(), 250.0);
        QCOMPARE(first.value(QLatin1String("user_id")).toInteger(), 7);
        QCOMPARE(first.value(QLatin1String("key_id")).toInteger(), 12);
        QCOMPARE(first.value(QLatin1String("status")).toInt(), 200);
        QVERIFY(json.at(1).toObject().value(QLatin1String("user_id")).isNull());

        const QList<TrafficEntry> back = TrafficTail::fromJson(json);
        QCOMPARE(back.size(), 2);
        const TrafficEntry original = entry(1);
        QCOMPARE(back[0].atMs, original.atMs);
        QCOMPARE(back[0].requestId, original.requestId);
        QCOMPARE(back[0].method, original.method);
        QCOMPARE(back[0].route, original.route);
        QCOMPARE(back[0].path, original.path);
        QCOMPARE(back[0].status, original.status);
        QCOMPARE(back[0].seconds, original.seconds);
        QCOMPARE(back[0].userId, original.userId);
        QCOMPARE(back[0].keyId, original.keyId);
        QVERIFY(back[1].userId.isEmpty());
        QVERIFY(back[1].keyId.isEmpty());
        QCOMPARE(back[1].status, 401);
    }

    void concurrentWriters()
    {
        TrafficTail tail(500);
        constexpr int kThreads = 4;
        constexpr int kEach = 5000;
        std::atomic<bool> done{false};
        // A reader all along: every snapshot is whole, with no entry twice.
        std::atomic<int> badSnapshots{0};
        std::unique_ptr<QThread> reader(QThread::create([&] {
            while (!done) {
                const QList<TrafficEntry> seen = tail.recent(500);
                QSet<QByteArray> ids;
                for (const TrafficEntry &e : seen) {
                    if (e.route != "/v1/chat/completions" || ids.contains(e.requestId))
                        ++badSnapshots;
                    ids.insert(e.requestId);
                }
            }
        }));
        reader->start();
        std::vector<std::unique_ptr<QThread>> writers;
        for (int t = 0; t < kThreads; ++t) {
            writers.emplace_back(QThread::create([&tail, t] {
                for (int i = 0; i < kEach; ++i)
                    tail.record(entry(t * kEach + i));
            }));
            writers.back()->start();
        }
        for (auto &w : writers)
            QVERIFY(w->wait(30000));
        done = true;
        QVERIFY(reader->wait(30000));
        QCOMPARE(badSnapshots.load(), 0);
        const QList<TrafficEntry> last = tail.recent(1000);
        QCOMPARE(last.size(), 500);
        // Each writer's entries keep their order: newest first means descending per writer.
        QHash<int, int> previous;
        for (const TrafficEntry &e : last) {
            const int n = e.requestId.mid(4).toInt();
            const int writer = n / kEach;
            if (previous.contains(writer))
                QVERIFY(n < previous.value(writer));
            previous.insert(writer, n);
        }
    }
};

QTEST_GUILESS_MAIN(TestTrafficTail)
#include "tst_traffictail.moc"
