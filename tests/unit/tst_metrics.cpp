#include "MetricsExposition.h"
#include "MetricsRegistry.h"
#include "ProcessMetrics.h"

#include <QDateTime>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

using namespace sluice;

class TestMetrics : public QObject
{
    Q_OBJECT

private slots:
    void textGolden();
    void openMetricsGolden();
    void emptyRegistry();
    void numberFormatting_data();
    void numberFormatting();
    void canonicalNumbers_data();
    void canonicalNumbers();
    void sameNameReturnsSameFamily();
    void histogramBuckets();
    void mergesAcrossThreads();
    void valuesOutliveThreads();
    void gaugeIncDecOnDifferentThreads();
    void gaugeSetOverridesAllThreads();
    void registriesRecreatedInSameThread();
    void callbackSamplesSortedAndChecked();
    void wantsOpenMetrics_data();
    void wantsOpenMetrics();
    void processMetrics();
    void promtoolAcceptsText();
};

namespace {

// The registry behind both golden texts: every metric kind, label escaping, a family without
// series, a label-less family never recorded, and callbacks.
void fillGoldenRegistry(MetricsRegistry &registry)
{
    CounterFamily &requests =
        registry.counter("sluice_requests_total", "Requests handled.", {"route", "code"});
    registry.counter("sluice_errors_total", "Errors by kind.", {"kind"});
    registry.counter("sluice_restarts_total", "Restarts.");
    GaugeFamily &remaining = registry.gauge(
        "sluice_limit_remaining", "Remaining requests per \"key\".\nBackslash: \\ ok.", {"key"});
    HistogramFamily &duration = registry.histogram(
        "sluice_request_duration_seconds", "Request duration.", {"route"}, {2.5, 0.005, 1, 0.1});
    registry.addCallbackGauge("sluice_uptime_seconds", "Seconds since start.", {}, [] {
        return QList<MetricsRegistry::Sample>{{{}, 42.5}};
    });
    registry.addCallbackGauge(
        "sluice_component_up", "Whether a component is healthy.", {"component"}, [] {
            return QList<MetricsRegistry::Sample>{{{"redis"}, 0}, {{"db"}, 1}};
        });

    // Recorded from two threads: the exposition shows the merged values.
    requests.inc({"/v1/models", "404"});
    requests.inc({"/v1/chat/completions", "200"}, 2);
    std::thread([&] {
        requests.inc({"/v1/chat/completions", "200"});
        remaining.set({"we\"ird\\key\nx"}, 1.5);
        // Binary-exact values so the sum prints exactly.
        for (double v : {0.00390625, 0.0625, 0.0625})
            duration.observe({"/v1/chat"}, v);
    }).join();
    duration.observe({"/v1/chat"}, 2);
    duration.observe({"/v1/chat"}, 7);
}

}  // namespace

void TestMetrics::textGolden()
{
    MetricsRegistry registry;
    fillGoldenRegistry(registry);
    const QByteArray expected =
        "# HELP sluice_component_up Whether a component is healthy.\n"
        "# TYPE sluice_component_up gauge\n"
        "sluice_component_up{component=\"db\"} 1\n"
        "sluice_component_up{component=\"redis\"} 0\n"
        "# HELP sluice_errors_total Errors by kind.\n"
        "# TYPE sluice_errors_total counter\n"
        "# HELP sluice_limit_remaining Remaining requests per \"key\".\\nBackslash: \\\\ ok.\n"
        "# TYPE sluice_limit_remaining gauge\n"
        "sluice_limit_remaining{key=\"we\\\"ird\\\\key\\nx\"} 1.5\n"
        "# HELP sluice_request_duration_seconds Request duration.\n"
        "# TYPE sluice_request_duration_seconds histogram\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.005\"} 1\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.1\"} 3\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"1\"} 3\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"2.5\"} 4\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"+Inf\"} 5\n"
        "sluice_request_duration_seconds_sum{route=\"/v1/chat\"} 9.12890625\n"
        "sluice_request_duration_seconds_count{route=\"/v1/chat\"} 5\n"
        "# HELP sluice_requests_total Requests handled.\n"
        "# TYPE sluice_requests_total counter\n"
        "sluice_requests_total{route=\"/v1/chat/completions\",code=\"200\"} 3\n"
        "sluice_requests_total{route=\"/v1/models\",code=\"404\"} 1\n"
        "# HELP sluice_restarts_total Restarts.\n"
        "# TYPE sluice_restarts_total counter\n"
        "sluice_restarts_total 0\n"
        "# HELP sluice_uptime_seconds Seconds since start.\n"
        "# TYPE sluice_uptime_seconds gauge\n"
        "sluice_uptime_seconds 42.5\n";
    QCOMPARE(registry.exposeText(), expected);
}

void TestMetrics::openMetricsGolden()
{
    MetricsRegistry registry;
    fillGoldenRegistry(registry);
    const QByteArray expected =
        "# TYPE sluice_component_up gauge\n"
        "# HELP sluice_component_up Whether a component is healthy.\n"
        "sluice_component_up{component=\"db\"} 1\n"
        "sluice_component_up{component=\"redis\"} 0\n"
        "# TYPE sluice_errors counter\n"
        "# HELP sluice_errors Errors by kind.\n"
        "# TYPE sluice_limit_remaining gauge\n"
        "# HELP sluice_limit_remaining Remaining requests per \\\"key\\\".\\nBackslash: \\\\ ok.\n"
        "sluice_limit_remaining{key=\"we\\\"ird\\\\key\\nx\"} 1.5\n"
        "# TYPE sluice_request_duration_seconds histogram\n"
        "# HELP sluice_request_duration_seconds Request duration.\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.005\"} 1\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"0.1\"} 3\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"1.0\"} 3\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"2.5\"} 4\n"
        "sluice_request_duration_seconds_bucket{route=\"/v1/chat\",le=\"+Inf\"} 5\n"
        "sluice_request_duration_seconds_sum{route=\"/v1/chat\"} 9.12890625\n"
        "sluice_request_duration_seconds_count{route=\"/v1/chat\"} 5\n"
        "# TYPE sluice_requests counter\n"
        "# HELP sluice_requests Requests handled.\n"
        "sluice_requests_total{route=\"/v1/chat/completions\",code=\"200\"} 3\n"
        "sluice_requests_total{route=\"/v1/models\",code=\"404\"} 1\n"
        "# TYPE sluice_restarts counter\n"
        "# HELP sluice_restarts Restarts.\n"
        "sluice_restarts_total 0\n"
        "# TYPE sluice_uptime_seconds gauge\n"
        "# HELP sluice_uptime_seconds Seconds since start.\n"
        "sluice_uptime_seconds 42.5\n"
        "# EOF\n";
    QCOMPARE(registry.exposeOpenMetrics(), expected);
}

void TestMetrics::emptyRegistry()
{
    MetricsRegistry registry;
    QCOMPARE(registry.exposeText(), QByteArray());
    QCOMPARE(registry.exposeOpenMetrics(), QByteArray("# EOF\n"));
    QCOMPARE(QByteArray(MetricsRegistry::TextContentType),
             QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    QCOMPARE(QByteArray(MetricsRegistry::OpenMetricsContentType),
             QByteArray("application/openmetrics-text; version=1.0.0; charset=utf-8"));
}

void TestMetrics::numberFormatting_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("expected");
    const double inf = std::numeric_limits<double>::infinity();
    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("negative zero") << -0.0 << QByteArray("0");
    QTest::newRow("integer") << 42.0 << QByteArray("42");
    QTest::newRow("negative integer") << -3.0 << QByteArray("-3");
    QTest::newRow("large integer") << 1234567.0 << QByteArray("1234567");
    QTest::newRow("2^53 - 1") << 9007199254740991.0 << QByteArray("9007199254740991");
    QTest::newRow("huge") << 1e20 << QByteArray("1e+20");
    QTest::newRow("half") << 1.5 << QByteArray("1.5");
    QTest::newRow("tenth") << 0.1 << QByteArray("0.1");
    QTest::newRow("sum of tenths") << (0.1 + 0.2) << QByteArray("0.30000000000000004");
    QTest::newRow("small") << 0.0001 << QByteArray("0.0001");
    QTest::newRow("smaller") << 0.00001 << QByteArray("1e-05");
    QTest::newRow("tiny") << 1.5e-300 << QByteArray("1.5e-300");
    QTest::newRow("five digits") << 123456.5 << QByteArray("123456.5");
    QTest::newRow("exponent") << 1234567.5 << QByteArray("1.2345675e+06");
    QTest::newRow("negative fraction") << -2.25 << QByteArray("-2.25");
    QTest::newRow("+Inf") << inf << QByteArray("+Inf");
    QTest::newRow("-Inf") << -inf << QByteArray("-Inf");
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN() << QByteArray("NaN");
}

void TestMetrics::numberFormatting()
{
    QFETCH(double, value);
    QFETCH(QByteArray, expected);
    QByteArray out;
    MetricsExposition::appendNumber(out, value);
    QCOMPARE(out, expected);
}

void TestMetrics::canonicalNumbers_data()
{
    // The examples of the OpenMetrics specification's "Canonical Numbers".
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<QByteArray>("go");
    QTest::newRow("0") << 0.0 << QByteArray("0.0") << QByteArray("0");
    QTest::newRow("0.001") << 0.001 << QByteArray("0.001") << QByteArray("0.001");
    QTest::newRow("0.95") << 0.95 << QByteArray("0.95") << QByteArray("0.95");
    QTest::newRow("0.999") << 0.999 << QByteArray("0.999") << QByteArray("0.999");
    QTest::newRow("1") << 1.0 << QByteArray("1.0") << QByteArray("1");
    QTest::newRow("1.7") << 1.7 << QByteArray("1.7") << QByteArray("1.7");
    QTest::newRow("10") << 10.0 << QByteArray("10.0") << QByteArray("10");
    QTest::newRow("1e-10") << 1e-10 << QByteArray("1e-10") << QByteArray("1e-10");
    QTest::newRow("1e-09") << 1e-9 << QByteArray("1e-09") << QByteArray("1e-09");
    QTest::newRow("1e-05") << 1e-5 << QByteArray("1e-05") << QByteArray("1e-05");
    QTest::newRow("0.0001") << 1e-4 << QByteArray("0.0001") << QByteArray("0.0001");
    QTest::newRow("100000") << 1e5 << QByteArray("100000.0") << QByteArray("100000");
    QTest::newRow("1e+06") << 1e6 << QByteArray("1e+06") << QByteArray("1e+06");
    QTest::newRow("1e+10") << 1e10 << QByteArray("1e+10") << QByteArray("1e+10");
    QTest::newRow("0.00025") << 0.00025 << QByteArray("0.00025") << QByteArray("0.00025");
    QTest::newRow("300") << 300.0 << QByteArray("300.0") << QByteArray("300");
}

void TestMetrics::canonicalNumbers()
{
    QFETCH(double, value);
    QFETCH(QByteArray, expected);
    QFETCH(QByteArray, go);
    QByteArray canonical;
    MetricsExposition::appendCanonicalFloat(canonical, value);
    QCOMPARE(canonical, expected);
    QByteArray goText;
    MetricsExposition::appendGoFloat(goText, value);
    QCOMPARE(goText, go);
}

void TestMetrics::sameNameReturnsSameFamily()
{
    MetricsRegistry registry;
    CounterFamily &a = registry.counter("x_total", "X.", {"l"});
    CounterFamily &b = registry.counter("x_total", "X again.", {"l"});
    QCOMPARE(&a, &b);
    a.inc({"v"});
    b.inc({"v"}, 2);
    QCOMPARE(a.value({"v"}), 3.0);
    GaugeFamily &g1 = registry.gauge("g", "G.");
    QCOMPARE(&registry.gauge("g", "G."), &g1);
    HistogramFamily &h1 = registry.histogram("h_seconds", "H.");
    QCOMPARE(&registry.histogram("h_seconds", "H."), &h1);
    QCOMPARE(h1.upperBounds(), MetricsRegistry::defaultDurationBuckets());
    QCOMPARE(registry.collect().size(), size_t(3));
}

void TestMetrics::histogramBuckets()
{
    MetricsRegistry registry;
    // Unsorted, duplicated and +Inf bounds are normalized.
    HistogramFamily &h = registry.histogram("h_seconds", "H.", {},
                                            {1, 0.5, 1, std::numeric_limits<double>::infinity()});
    QCOMPARE(h.upperBounds(), (std::vector<double>{0.5, 1}));
    h.observe({}, 0.5);  // bounds are inclusive
    h.observe({}, 0.75);
    h.observe({}, 1);
    h.observe({}, 1.01);
    const std::vector<MetricSnapshot> snapshots = registry.collect();
    QCOMPARE(snapshots.size(), size_t(1));
    QCOMPARE(snapshots[0].series.size(), size_t(1));
    const MetricSnapshot::Series &series = snapshots[0].series[0];
    QCOMPARE(series.cumulativeCounts, (std::vector<quint64>{1, 3, 4}));
    QCOMPARE(series.count, quint64(4));
    QCOMPARE(series.sum, 3.26);
    QCOMPARE(h.count(), quint64(4));

    const QList<double> defaults{0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,    0.1,    0.25,  0.5,    1,     2.5,  5,
                                 10,      30,     60,    120,    300};
    const std::vector<double> actual = MetricsRegistry::defaultDurationBuckets();
    QCOMPARE(QList<double>(actual.begin(), actual.end()), defaults);
}

void TestMetrics::mergesAcrossThreads()
{
    MetricsRegistry registry;
    CounterFamily &requests = registry.counter("req_total", "R.", {"route", "code"});
    HistogramFamily &latency = registry.histogram("lat_seconds", "L.", {"route"}, {0.5});
    GaugeFamily &inflight = registry.gauge("inflight", "I.");

    constexpr int threads = 6;
    constexpr int perThread = 20000;
    std::atomic<bool> done{false};
    // A scraper runs concurrently, as Prometheus would.
    std::thread scraper([&] {
        while (!done.load())
            QVERIFY(!registry.exposeText().isEmpty());
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            const QByteArray route = "/r" + QByteArray::number(t % 2);
            for (int i = 0; i < perThread; ++i) {
                inflight.inc();
                requests.inc({route, i % 4 == 0 ? "500" : "200"});
                latency.observe({route}, (i % 2) ? 0.25 : 1.0);
                inflight.dec();
            }
        });
    }
    for (std::thread &w : workers)
        w.join();
    done = true;
    scraper.join();

    const double perRoute = threads / 2 * perThread;
    QCOMPARE(requests.value({"/r0", "200"}), perRoute * 3 / 4);
    QCOMPARE(requests.value({"/r0", "500"}), perRoute / 4);
    QCOMPARE(requests.value({"/r1", "200"}), perRoute * 3 / 4);
    QCOMPARE(requests.value({"/r1", "500"}), perRoute / 4);
    QCOMPARE(latency.count({"/r0"}), quint64(perRoute));
    QCOMPARE(latency.sum({"/r1"}), perRoute / 2 * 1.25);
    QCOMPARE(inflight.value(), 0.0);

    const QByteArray text = registry.exposeText();
    QVERIFY(text.contains("req_total{route=\"/r0\",code=\"200\"} 45000\n"));
    QVERIFY(text.contains("lat_seconds_bucket{route=\"/r1\",le=\"0.5\"} 30000\n"));
    QVERIFY(text.contains("lat_seconds_bucket{route=\"/r1\",le=\"+Inf\"} 60000\n"));
    QVERIFY(text.contains("inflight 0\n"));
}

void TestMetrics::valuesOutliveThreads()
{
    MetricsRegistry registry;
    CounterFamily &c = registry.counter("c_total", "C.");
    for (int round = 1; round <= 5; ++round) {
        std::thread([&] { c.inc(); }).join();
        QCOMPARE(c.value(), double(round));  // never goes backwards when a thread ends
    }
}

void TestMetrics::gaugeIncDecOnDifferentThreads()
{
    MetricsRegistry registry;
    GaugeFamily &connections = registry.gauge("connections", "C.", {"worker"});
    std::thread([&] {
        for (int i = 0; i < 100; ++i)
            connections.inc({"w"});
    }).join();
    std::thread([&] {
        for (int i = 0; i < 40; ++i)
            connections.dec({"w"});
    }).join();
    connections.dec({"w"}, 0.5);
    QCOMPARE(connections.value({"w"}), 59.5);
    QVERIFY(registry.exposeText().contains("connections{worker=\"w\"} 59.5\n"));
}

void TestMetrics::gaugeSetOverridesAllThreads()
{
    MetricsRegistry registry;
    GaugeFamily &mode = registry.gauge("mode", "M.");
    std::thread([&] { mode.inc({}, 5); }).join();
    mode.inc({}, 1);
    mode.set({}, 2);
    QCOMPARE(mode.value(), 2.0);
    std::thread([&] { mode.inc({}, 1); }).join();
    QCOMPARE(mode.value(), 3.0);
    std::thread([&] { mode.set({}, -1); }).join();
    QCOMPARE(mode.value(), -1.0);
}

void TestMetrics::registriesRecreatedInSameThread()
{
    // New families may reuse the memory of destroyed ones; the thread caches must not
    // confuse them, on the main thread nor on a thread that outlives many registries.
    auto rounds = [](int count) {
        for (int i = 0; i < count; ++i) {
            MetricsRegistry registry;
            CounterFamily &c = registry.counter("c_total", "C.", {"k"});
            GaugeFamily &g = registry.gauge("g", "G.");
            c.inc({"a"});
            g.inc({}, 2);
            if (c.value({"a"}) != 1.0 || g.value() != 2.0)
                return false;
            if (!registry.exposeText().contains("c_total{k=\"a\"} 1\n"))
                return false;
        }
        return true;
    };
    QVERIFY(rounds(200));
    bool workerOk = false;
    std::thread([&] { workerOk = rounds(200); }).join();
    QVERIFY(workerOk);

    // A thread that recorded into a destroyed registry keeps working with a new one.
    auto first = std::make_unique<MetricsRegistry>();
    std::atomic<CounterFamily *> target{&first->counter("c_total", "C.")};
    std::atomic<int> phase{0};
    std::thread worker([&] {
        target.load()->inc();
        phase = 1;
        while (phase.load() != 2)
            std::this_thread::yield();
        target.load()->inc();
        target.load()->inc();
    });
    while (phase.load() != 1)
        std::this_thread::yield();
    QCOMPARE(first->counter("c_total", "C.").value(), 1.0);
    first.reset();
    MetricsRegistry second;
    target = &second.counter("c_total", "C.");
    phase = 2;
    worker.join();
    QCOMPARE(second.counter("c_total", "C.").value(), 2.0);
}

void TestMetrics::callbackSamplesSortedAndChecked()
{
    MetricsRegistry registry;
    int calls = 0;
    registry.addCallbackCounter("events_total", "E.", {"kind"}, [&calls] {
        ++calls;
        return QList<MetricsRegistry::Sample>{
            {{"b"}, 2}, {{"a"}, 1}, {{"x", "extra"}, 9}  // the last one has too many labels
        };
    });
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("events_total"));
    const QByteArray text = registry.exposeText();
    QCOMPARE(text, QByteArray("# HELP events_total E.\n"
                              "# TYPE events_total counter\n"
                              "events_total{kind=\"a\"} 1\n"
                              "events_total{kind=\"b\"} 2\n"));
    QCOMPARE(calls, 1);
}

void TestMetrics::wantsOpenMetrics_data()
{
    QTest::addColumn<QByteArray>("accept");
    QTest::addColumn<bool>("expected");
    QTest::newRow("prometheus 2") << QByteArray(
                                         "application/openmetrics-text;version=1.0.0,application/"
                                         "openmetrics-text;version=0.0.1;"
                                         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
                                  << true;
    QTest::newRow("plain") << QByteArray("application/openmetrics-text") << true;
    QTest::newRow("case and spaces")
        << QByteArray("text/plain , Application/OpenMetrics-Text ; version=1.0.0 ; q=0.5") << true;
    QTest::newRow("text only") << QByteArray("text/plain;version=0.0.4") << false;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("any") << QByteArray("*/*") << false;
    QTest::newRow("refused") << QByteArray("application/openmetrics-text;q=0, text/plain") << false;
    QTest::newRow("longer type") << QByteArray("application/openmetrics-textual") << false;
}

void TestMetrics::wantsOpenMetrics()
{
    QFETCH(QByteArray, accept);
    QFETCH(bool, expected);
    QCOMPARE(MetricsRegistry::wantsOpenMetrics(accept), expected);
}

void TestMetrics::processMetrics()
{
    MetricsRegistry registry;
    ProcessMetrics::registerOn(registry);
    const qint64 rss = ProcessMetrics::residentMemoryBytes();
    QVERIFY2(rss > 1024 * 1024, QByteArray::number(rss));
    QVERIFY(ProcessMetrics::virtualMemoryBytes() >= rss);
    QVERIFY(ProcessMetrics::openFds() >= 3);
    QVERIFY(ProcessMetrics::maxFds() >= double(ProcessMetrics::openFds()));
    QVERIFY(ProcessMetrics::cpuSeconds() >= 0);
    const double now = QDateTime::currentSecsSinceEpoch();
    const double start = ProcessMetrics::startTimeSeconds();
    QVERIFY2(start > now - 3600 && start <= now + 1, QByteArray::number(start, 'f'));

    const QByteArray text = registry.exposeText();
    for (const char *name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                             "process_virtual_memory_bytes ", "process_open_fds ",
                             "process_max_fds ", "process_start_time_seconds "}) {
        QVERIFY2(text.contains("\n" + QByteArray(name)), name);
    }
    QVERIFY(text.contains("# TYPE process_cpu_seconds_total counter\n"));
    QVERIFY(registry.exposeOpenMetrics().contains("# TYPE process_cpu_seconds counter\n"));
}

void TestMetrics::promtoolAcceptsText()
{
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (promtool.isEmpty())
        QSKIP("promtool not installed");
    MetricsRegistry registry;
    fillGoldenRegistry(registry);
    ProcessMetrics::registerOn(registry);
    registry.histogram("sluice_upstream_duration_seconds", "Upstream time.", {"upstream"})
        .observe({"openai"}, 0.2);

    QProcess process;
    process.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY(process.waitForStarted());
    process.write(registry.exposeText());
    process.closeWriteChannel();
    QVERIFY(process.waitForFinished(30000));
    const QByteArray output = process.readAllStandardOutput() + process.readAllStandardError();
    QVERIFY2(output.trimmed().isEmpty(), output.constData());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
