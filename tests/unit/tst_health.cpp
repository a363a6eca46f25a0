// HealthChecker aggregation, timeouts and caching, with checks whose answers the test controls,
// plus the real disk and memory checks.
#include "DiskSpaceCheck.h"
#include "HealthChecker.h"
#include "MemoryCheck.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSemaphore>
#include <QTest>
#include <QThread>
#include <atomic>

using namespace sluice;

namespace {

// A component whose status, delay and call count the test controls.
class ScriptedCheck : public HealthCheck
{
public:
    ScriptedCheck(QString name, bool critical, HealthStatus status, int delayMs = 0)
        : HealthCheck(std::move(name), QStringLiteral("test"), critical),
          status(status),
          delayMs(delayMs)
    {}
    HealthResult probe() override
    {
        ++calls;
        probeThread = QThread::currentThread();
        if (blockForever)
            release.acquire();  // hangs until the test lets it go
        if (delayMs > 0)
            QThread::msleep(ulong(delayMs));
        return {status.load(), QStringLiteral("scripted"), 0, {}};
    }
    std::atomic<HealthStatus> status;
    std::atomic<int> delayMs;
    std::atomic<int> calls{0};
    std::atomic<bool> blockForever{false};
    QSemaphore release;
    std::atomic<QThread *> probeThread{nullptr};
};

HealthChecker::ReportPtr waitForReport(HealthChecker &checker, QObject *context)
{
    HealthChecker::ReportPtr result;
    bool called = false;
    checker.report(context, [&](HealthChecker::ReportPtr r) {
        result = std::move(r);
        called = true;
    });
    if (!QTest::qWaitFor([&] { return called; }, 10000))
        return nullptr;
    return result;
}

ComponentHealth component(HealthStatus s, bool critical)
{
    ComponentHealth c;
    c.name = QStringLiteral("c");
    c.critical = critical;
    c.result.status = s;
    return c;
}

}  // namespace

class TestHealth : public QObject
{
    Q_OBJECT
private slots:
    void aggregation_data()
    {
        using S = HealthStatus;
        QTest::addColumn<QList<ComponentHealth>>("components");
        QTest::addColumn<HealthStatus>("expected");
        QTest::newRow("none") << QList<ComponentHealth>{} << S::Healthy;
        QTest::newRow("all healthy")
            << QList<ComponentHealth>{component(S::Healthy, true), component(S::Healthy, false)}
            << S::Healthy;
        QTest::newRow("critical degraded")
            << QList<ComponentHealth>{component(S::Degraded, true), component(S::Healthy, false)}
            << S::Degraded;
        QTest::newRow("critical unhealthy")
            << QList<ComponentHealth>{component(S::Unhealthy, true), component(S::Degraded, false)}
            << S::Unhealthy;
        QTest::newRow("non-critical unhealthy only degrades")
            << QList<ComponentHealth>{component(S::Healthy, true), component(S::Unhealthy, false)}
            << S::Degraded;
        QTest::newRow("worst critical wins")
            << QList<ComponentHealth>{component(S::Degraded, true), component(S::Unhealthy, true)}
            << S::Unhealthy;
    }
    void aggregation()
    {
        QFETCH(QList<ComponentHealth>, components);
        QFETCH(HealthStatus, expected);
        QCOMPARE(HealthReport::aggregate(components), expected);
    }

    void readinessIgnoresNonCritical()
    {
        HealthReport r;
        r.components = {component(HealthStatus::Healthy, true),
                        component(HealthStatus::Unhealthy, false)};
        QVERIFY(!r.anyCriticalUnhealthy());
        r.components.append(component(HealthStatus::Unhealthy, true));
        QVERIFY(r.anyCriticalUnhealthy());
    }

    void checksRunInParallelOffTheCallerThread()
    {
        HealthChecker checker({0, 3000});
        auto *a = new ScriptedCheck(QStringLiteral("a"), true, HealthStatus::Healthy, 400);
        auto *b = new ScriptedCheck(QStringLiteral("b"), true, HealthStatus::Healthy, 400);
        auto *c = new ScriptedCheck(QStringLiteral("c"), false, HealthStatus::Healthy, 400);
        checker.addCheck(std::unique_ptr<HealthCheck>(a));
        checker.addCheck(std::unique_ptr<HealthCheck>(b));
        checker.addCheck(std::unique_ptr<HealthCheck>(c));
        QElapsedTimer t;
        t.start();
        auto report = waitForReport(checker, this);
        QVERIFY(report);
        QVERIFY2(t.elapsed() < 1000, "checks ran one after another");  // 3 x 400 ms in parallel
        QCOMPARE(report->components.size(), 3);
        QCOMPARE(report->overall, HealthStatus::Healthy);
        QVERIFY(a->probeThread != QThread::currentThread());
        QVERIFY(a->probeThread != b->probeThread.load());
        for (const auto &comp : report->components) {
            QVERIFY(comp.result.latencyMs >= 300);
            QVERIFY(comp.result.checkedAt.isValid());
        }
    }

    void hungCheckTimesOutAndNeverBlocks()
    {
        HealthChecker checker({0, 300});
        auto *hung = new ScriptedCheck(QStringLiteral("hung"), true, HealthStatus::Healthy);
        hung->blockForever = true;
        // Whatever happens below, let the probe go before the checker is destroyed.
        auto unblock = qScopeGuard([hung] {
            if (hung->blockForever.exchange(false))
                hung->release.release();
        });
        auto *fine = new ScriptedCheck(QStringLiteral("fine"), true, HealthStatus::Healthy);
        checker.addCheck(std::unique_ptr<HealthCheck>(hung));
        checker.addCheck(std::unique_ptr<HealthCheck>(fine));
        QElapsedTimer t;
        t.start();
        auto report = waitForReport(checker, this);
        QVERIFY(report);
        QVERIFY(t.elapsed() < 2000);
        const ComponentHealth *h = report->component(QStringLiteral("hung"));
        QCOMPARE(h->result.status, HealthStatus::Unhealthy);
        QVERIFY2(h->result.message.contains(QLatin1String("timed out")),
                 qPrintable(h->result.message));
        QCOMPARE(report->component(QStringLiteral("fine"))->result.status, HealthStatus::Healthy);
        QCOMPARE(report->overall, HealthStatus::Unhealthy);

        // Next round: the hung probe is still running; it is reported, not queued again.
        report = waitForReport(checker, this);
        QVERIFY(report->component(QStringLiteral("hung"))
                    ->result.message.contains(QLatin1String("still running")));
        QCOMPARE(hung->calls.load(), 1);
        QCOMPARE(fine->calls.load(), 2);

        // Once it returns, it recovers.
        unblock.dismiss();
        hung->blockForever = false;
        hung->release.release();
        QTRY_VERIFY(
            waitForReport(checker, this)->component(QStringLiteral("hung"))->result.status ==
            HealthStatus::Healthy);
    }

    void resultsAreCachedForTheTtl()
    {
        HealthChecker checker({500, 1000});
        auto *c = new ScriptedCheck(QStringLiteral("c"), true, HealthStatus::Healthy);
        checker.addCheck(std::unique_ptr<HealthCheck>(c));
        QVERIFY(waitForReport(checker, this));
        for (int i = 0; i < 20; ++i)
            QVERIFY(waitForReport(checker, this));
        QCOMPARE(c->calls.load(), 1);  // probes cannot hammer the dependency
        QTest::qWait(600);
        c->status = HealthStatus::Degraded;
        auto report = waitForReport(checker, this);
        QCOMPARE(c->calls.load(), 2);
        QCOMPARE(report->overall, HealthStatus::Degraded);
        QCOMPARE(checker.latest(), report);
    }

    void concurrentCallersShareOneRound()
    {
        HealthChecker checker({0, 2000});
        auto *c = new ScriptedCheck(QStringLiteral("c"), true, HealthStatus::Healthy, 200);
        checker.addCheck(std::unique_ptr<HealthCheck>(c));
        int answered = 0;
        for (int i = 0; i < 10; ++i)
            checker.report(this, [&](HealthChecker::ReportPtr r) { answered += r ? 1 : 0; });
        QTRY_COMPARE(answered, 10);
        QCOMPARE(c->calls.load(), 1);
    }

    void checkNowRunsARoundDespiteAFreshReport()
    {
        HealthChecker checker({60000, 2000});
        auto *c = new ScriptedCheck(QStringLiteral("c"), true, HealthStatus::Healthy);
        checker.addCheck(std::unique_ptr<HealthCheck>(c));
        const HealthChecker::ReportPtr first = waitForReport(checker, this);
        QVERIFY(first);
        QCOMPARE(waitForReport(checker, this), first);  // cached for a minute
        c->status = HealthStatus::Unhealthy;
        HealthChecker::ReportPtr fresh;
        checker.checkNow(this, [&](HealthChecker::ReportPtr r) { fresh = std::move(r); });
        QTRY_VERIFY(fresh);
        QVERIFY(fresh != first);
        QCOMPARE(fresh->overall, HealthStatus::Unhealthy);
        QCOMPARE(c->calls.load(), 2);
        QCOMPARE(checker.latest(), fresh);
    }

    void reportFromAnotherThreadComesBackOnIt()
    {
        HealthChecker checker({0, 1000});
        checker.addCheck(
            std::make_unique<ScriptedCheck>(QStringLiteral("c"), true, HealthStatus::Healthy));
        QThread worker;
        QObject context;
        context.moveToThread(&worker);
        worker.start();
        std::atomic<QThread *> calledOn{nullptr};
        QMetaObject::invokeMethod(&context, [&] {
            checker.report(&context,
                           [&](HealthChecker::ReportPtr) { calledOn = QThread::currentThread(); });
        });
        QTRY_VERIFY(calledOn.load() != nullptr);
        QCOMPARE(calledOn.load(), &worker);
        worker.quit();
        worker.wait();
    }

    void diskCheckIsRealAndHasThresholds()
    {
        DiskSpaceCheck check(QDir::tempPath());
        HealthResult r = check.probe();
        QVERIFY(r.message.contains(QLatin1String("free")));
        QVERIFY(check.critical());
        // Thresholds above 100 % free: any disk is "too full".
        QCOMPARE(DiskSpaceCheck(QDir::tempPath(), 2.0, 1.5).probe().status,
                 HealthStatus::Unhealthy);
        QCOMPARE(DiskSpaceCheck(QDir::tempPath(), 2.0, 0.0).probe().status, HealthStatus::Degraded);
        QCOMPARE(DiskSpaceCheck(QDir::tempPath(), 0.0, 0.0).probe().status, HealthStatus::Healthy);
        QCOMPARE(DiskSpaceCheck(QStringLiteral("/nonexistent/dir")).probe().status,
                 HealthStatus::Unhealthy);
    }

    void memoryCheckThresholds()
    {
        const qint64 limit = 100;
        QCOMPARE(MemoryCheck(limit, [] { return qint64(50); }).probe().status,
                 HealthStatus::Healthy);
        QCOMPARE(MemoryCheck(limit, [] { return qint64(95); }).probe().status,
                 HealthStatus::Degraded);
        QCOMPARE(MemoryCheck(limit, [] { return qint64(101); }).probe().status,
                 HealthStatus::Unhealthy);
        QVERIFY(!MemoryCheck(limit).critical());
        // The real reader sees this process.
        QCOMPARE(MemoryCheck(qint64(1) << 40).probe().status, HealthStatus::Healthy);
    }

    void reportJsonShape()
    {
        HealthReport r;
        r.checkedAt = QDateTime::currentDateTimeUtc();
        ComponentHealth c = component(HealthStatus::Degraded, true);
        c.name = QStringLiteral("database");
        c.type = QStringLiteral("database");
        c.result.message = QStringLiteral("slow");
        c.result.latencyMs = 12.5;
        c.result.checkedAt = r.checkedAt;
        r.components = {c};
        r.overall = HealthReport::aggregate(r.components);
        const QJsonObject o =
            QJsonDocument::fromJson(r.toJson(QStringLiteral("1.2.3"), 42.0)).object();
        QCOMPARE(o.value(QLatin1String("status")).toString(), QStringLiteral("degraded"));
        QCOMPARE(o.value(QLatin1String("version")).toString(), QStringLiteral("1.2.3"));
        QCOMPARE(o.value(QLatin1String("uptime_seconds")).toDouble(), 42.0);
        QVERIFY(o.contains(QLatin1String("timestamp")));
        const QJsonObject comp = o.value(QLatin1String("components")).toArray().at(0).toObject();
        for (const char *key :
             {"name", "type", "status", "critical", "message", "latency_ms", "checked_at"})
            QVERIFY2(comp.contains(QLatin1String(key)), key);
        QCOMPARE(comp.value(QLatin1String("latency_ms")).toDouble(), 12.5);
    }
};

QTEST_GUILESS_MAIN(TestHealth)
#include "tst_health.moc"
