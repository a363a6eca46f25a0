// The dashboard's time series: SeriesDeltas (per-second deltas, Prometheus-style histogram
// quantiles, the token window) with fixed inputs, then a SeriesRecorder on a real registry,
// its clock driven through sample() instead of sleeping.
#include "MetricsRegistry.h"
#include "SeriesDeltas.h"
#include "SeriesRecorder.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

using namespace sluice;

namespace {

constexpr qint64 kT0 = 1'760'000'000'000;  // some epoch ms, mid-day UTC
constexpr qint64 kDayMs = 24 * 3600 * 1000;

MetricTotals totals(double requests, double rateLimited, double errors, double tokens,
                    std::vector<double> cumulative = {0, 0, 0, 0})
{
    MetricTotals t;
    t.requests = requests;
    t.rateLimited = rateLimited;
    t.errors = errors;
    t.tokens = tokens;
    t.upperBounds = {0.1, 0.5, 1};
    t.cumulativeCounts = std::move(cumulative);
    return t;
}

// The families as GatewayMetrics and ProxyMetrics register them.
struct Families
{
    MetricsRegistry registry;
    CounterFamily &requests =
        registry.counter("gateway_requests_total", "r", {"route", "method", "code"});
    HistogramFamily &duration =
        registry.histogram("gateway_request_duration_seconds", "d", {"route"}, {0.1, 0.5, 1});
    CounterFamily &prompt = registry.counter("gateway_prompt_tokens_total", "p", {"model"});
    CounterFamily &completion = registry.counter("gateway_completion_tokens_total", "c", {"model"});

    void answer(QByteArrayView route, QByteArrayView code, double seconds)
    {
        requests.inc({route, "POST", code});
        duration.observe({route}, seconds);
    }
};

}  // namespace

class TestSeriesRecorder : public QObject
{
    Q_OBJECT
private slots:
    void quantileInterpolatesInsideTheBucket()
    {
        // 10 observations in [0, 0.1], 10 in (0.1, 0.5], none above.
        const std::vector<double> bounds{0.1, 0.5, 1};
        const std::vector<double> cumulative{10, 20, 20, 20};
        QCOMPARE(SeriesDeltas::histogramQuantile(0.25, bounds, cumulative), 0.05);
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, bounds, cumulative), 0.1);
        QVERIFY(qFuzzyCompare(SeriesDeltas::histogramQuantile(0.95, bounds, cumulative), 0.46));
        // As Prometheus's histogram_quantile: rank 1.5 of {1, 2, 0} over bounds 1, 2, 4.
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, {1, 2, 4}, {1, 3, 3, 3}), 1.25);
    }

    void quantileEdgeCases()
    {
        const std::vector<double> bounds{0.1, 0.5, 1};
        // Everything in +Inf: the highest finite bound.
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, bounds, {0, 0, 0, 5}), 1.0);
        // No observations, or a malformed histogram: 0.
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, bounds, {0, 0, 0, 0}), 0.0);
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, bounds, {1, 2}), 0.0);
        QCOMPARE(SeriesDeltas::histogramQuantile(0.5, {}, {4}), 0.0);
        // q outside [0, 1] is clamped.
        QCOMPARE(SeriesDeltas::histogramQuantile(2, bounds, {10, 20, 20, 20}), 0.5);
    }

    void deltasArePerSecondOfTheInterval()
    {
        SeriesDeltas d;
        QVERIFY(!d.next(totals(100, 10, 5, 1000, {50, 80, 90, 100}), kT0));  // baseline
        // One second later: 6 requests, 2 of them 429, 1 a 5xx; 4 fast and 2 slow.
        const auto p = d.next(totals(106, 12, 6, 1300, {54, 84, 96, 106}), kT0 + 1000);
        QVERIFY(p);
        QCOMPARE(p->atMs, kT0 + 1000);
        QCOMPARE(p->requestsPerSecond, 6.0);
        QCOMPARE(p->rateLimitedPerSecond, 2.0);
        QCOMPARE(p->errorsPerSecond, 1.0);
        // Interval histogram {4, 4, 6, 6}: p50 = rank 3 in [0, 0.1], p95 = rank 5.7 in (0.5, 1].
        QVERIFY(qFuzzyCompare(p->latencyP50Seconds, 0.075));
        QVERIFY(qFuzzyCompare(p->latencyP95Seconds, 0.5 + 0.5 * (5.7 - 4) / 2));
        QCOMPARE(p->tokensPerMinute, 300.0);
        // Two seconds for 4 requests: 2 per second. No requests: latency 0.
        const auto slow = d.next(totals(110, 12, 6, 1300, {54, 84, 96, 106}), kT0 + 3000);
        QCOMPARE(slow->requestsPerSecond, 2.0);
        QCOMPARE(slow->latencyP50Seconds, 0.0);
        QCOMPARE(slow->latencyP95Seconds, 0.0);
        // A counter that went down (a reset) counts as nothing new, never negative.
        const auto reset = d.next(totals(3, 0, 0, 1300, {1, 2, 3, 3}), kT0 + 4000);
        QCOMPARE(reset->requestsPerSecond, 0.0);
        QCOMPARE(reset->rateLimitedPerSecond, 0.0);
        QCOMPARE(reset->latencyP50Seconds, 0.0);
    }

    void tokensPerMinuteCoversTheLastSixtySeconds()
    {
        SeriesDeltas d;
        d.next(totals(0, 0, 0, 0), kT0);
        std::optional<SeriesPoint> p;
        for (int s = 1; s <= 90; ++s) {
            p = d.next(totals(0, 0, 0, 10.0 * s), kT0 + 1000 * s);
            if (s == 30)
                QCOMPARE(p->tokensPerMinute, 300.0);  // less than a minute seen: all of it
        }
        QCOMPARE(p->tokensPerMinute, 600.0);  // 10 a second over the last 60 s
    }

    void recorderReadsOnlyTheV1Traffic()
    {
        Families f;
        SeriesRecorder recorder(f.registry);
        QSignalSpy spy(&recorder, &SeriesRecorder::sampled);
        recorder.sample(kT0);  // baseline
        QCOMPARE(spy.count(), 0);
        QVERIFY(recorder.points(10).isEmpty());

        f.answer("/v1/chat/completions", "200", 0.05);
        f.answer("/v1/chat/completions", "200", 0.3);
        f.answer("/v1/messages", "429", 0.001);
        f.answer("/v1/embeddings", "502", 0.8);
        f.answer("/admin/v1/users", "500", 2);  // not /v1
        f.answer("none", "404", 0.001);
        f.prompt.inc({"gpt-4o"}, 120);
        f.completion.inc({"gpt-4o"}, 30);
        f.completion.inc({"claude"}, 50);
        recorder.sample(kT0 + 1000);

        QCOMPARE(spy.count(), 1);
        const QList<SeriesPoint> points = recorder.points(900);
        QCOMPARE(points.size(), 1);
        const SeriesPoint &p = points.first();
        QCOMPARE(spy.first().first().value<SeriesPoint>().atMs, p.atMs);
        QCOMPARE(p.atMs, kT0 + 1000);
        QCOMPARE(p.requestsPerSecond, 4.0);
        QCOMPARE(p.rateLimitedPerSecond, 1.0);
        QCOMPARE(p.errorsPerSecond, 1.0);
        // {0.05, 0.001} in [0, 0.1], 0.3 in (0.1, 0.5], 0.8 in (0.5, 1].
        QCOMPARE(p.latencyP50Seconds, 0.1);
        QVERIFY(qFuzzyCompare(p.latencyP95Seconds, 0.5 + 0.5 * (3.8 - 3)));
        QCOMPARE(p.tokensPerMinute, 200.0);
    }

    void recorderWithoutTheFamiliesReadsZero()
    {
        MetricsRegistry empty;
        const MetricTotals t = SeriesRecorder::readTotals(empty);
        QCOMPARE(t.requests, 0.0);
        QCOMPARE(t.tokens, 0.0);
        QVERIFY(t.cumulativeCounts.empty());
        SeriesRecorder recorder(empty);
        recorder.sample(kT0);
        recorder.sample(kT0 + 1000);
        QCOMPARE(recorder.points(5).size(), 1);
        QCOMPARE(recorder.points(5).first().latencyP95Seconds, 0.0);
    }

    void ringKeepsTheLastHourOldestFirst()
    {
        Families f;
        SeriesRecorder recorder(f.registry);
        const int samples = SeriesRecorder::Capacity + 100;
        for (int s = 0; s <= samples; ++s)
            recorder.sample(kT0 + 1000LL * s);
        const QList<SeriesPoint> all = recorder.points(100000);
        QCOMPARE(all.size(), SeriesRecorder::Capacity);
        QCOMPARE(all.last().atMs, kT0 + 1000LL * samples);
        QCOMPARE(all.first().atMs, kT0 + 1000LL * (samples - SeriesRecorder::Capacity + 1));
        for (int i = 1; i < all.size(); ++i)
            QCOMPARE(all[i].atMs - all[i - 1].atMs, 1000);
        const QList<SeriesPoint> last = recorder.points(3);
        QCOMPARE(last.size(), 3);
        QCOMPARE(last.last().atMs, all.last().atMs);
        QVERIFY(recorder.points(0).isEmpty());
        QVERIFY(recorder.points(-1).isEmpty());
    }

    void todayStartsFromTheSeedAndRollsOverAtUtcMidnight()
    {
        Families f;
        SeriesRecorder recorder(f.registry);
        const qint64 midnight = (kT0 / kDayMs + 1) * kDayMs;
        recorder.seedToday({100, 5000});
        QCOMPARE(recorder.today().requests, 100.0);
        recorder.sample(midnight - 2000);
        f.answer("/v1/chat/completions", "200", 0.1);
        f.answer("/v1/chat/completions", "200", 0.1);
        f.prompt.inc({"m"}, 40);
        recorder.sample(midnight - 1000);
        QCOMPARE(recorder.today().requests, 102.0);
        QCOMPARE(recorder.today().tokens, 5040.0);
        // The next UTC day: the seed was yesterday's, counting starts again.
        recorder.sample(midnight);
        QCOMPARE(recorder.today().requests, 0.0);
        f.answer("/v1/chat/completions", "200", 0.1);
        f.completion.inc({"m"}, 7);
        recorder.sample(midnight + 1000);
        QCOMPARE(recorder.today().requests, 1.0);
        QCOMPARE(recorder.today().tokens, 7.0);
    }

    void jsonRoundTrip()
    {
        SeriesPoint a;
        a.atMs = kT0;
        a.requestsPerSecond = 12.5;
        a.rateLimitedPerSecond = 1;
        a.errorsPerSecond = 0.5;
        a.latencyP50Seconds = 0.012;
        a.latencyP95Seconds = 0.9;
        a.tokensPerMinute = 4200;
        SeriesPoint b;
        b.atMs = kT0 + 1000;
        const QJsonObject json = SeriesRecorder::toJson({a, b});
        QCOMPARE(json.value(QLatin1String("interval_seconds")).toInt(), 1);
        const QJsonArray points = json.value(QLatin1String("points")).toArray();
        QCOMPARE(points.size(), 2);
        const QJsonObject first = points.first().toObject();
        QCOMPARE(first.keys(), (QStringList{"errors_per_second", "latency_p50_seconds",
                                            "latency_p95_seconds", "rate_limited_per_second",
                                            "requests_per_second", "t", "tokens_per_minute"}));
        QCOMPARE(first.value(QLatin1String("t")).toInteger(), kT0);
        const QList<SeriesPoint> back = SeriesRecorder::fromJson(json);
        QCOMPARE(back.size(), 2);
        QCOMPARE(back[0].atMs, a.atMs);
        QCOMPARE(back[0].requestsPerSecond, a.requestsPerSecond);
        QCOMPARE(back[0].rateLimitedPerSecond, a.rateLimitedPerSecond);
        QCOMPARE(back[0].errorsPerSecond, a.errorsPerSecond);
        QCOMPARE(back[0].latencyP50Seconds, a.latencyP50Seconds);
        QCOMPARE(back[0].latencyP95Seconds, a.latencyP95Seconds);
        QCOMPARE(back[0].tokensPerMinute, a.tokensPerMinute);
        QCOMPARE(back[1].atMs, b.atMs);
        QVERIFY(SeriesRecorder::fromJson(QJsonObject()).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSeriesRecorder)
#include "tst_seriesrecorder.moc"
