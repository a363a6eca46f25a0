#pragma once

#include "CounterFamily.h"
#include "GaugeFamily.h"
#include "HistogramFamily.h"
#include "MetricSnapshot.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sluice {

// The process's metrics: labelled counter, gauge and histogram families recorded per thread
// (see MetricFamily), callback metrics read at scrape time, and their exposition.
// Registration and scraping are thread-safe. Families live as long as the registry: register
// at start-up, keep the returned references, and stop the recording threads before the
// registry is destroyed.
class MetricsRegistry
{
public:
    // One series of a callback metric.
    struct Sample
    {
        QList<QByteArray> labelValues;
        double value = 0;
    };
    using SampleCallback = std::function<QList<Sample>()>;

    static constexpr char TextContentType[] = "text/plain; version=0.0.4; charset=utf-8";
    static constexpr char OpenMetricsContentType[] =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    MetricsRegistry();
    ~MetricsRegistry();
    Q_DISABLE_COPY_MOVE(MetricsRegistry)

    // Registering a name again returns the existing family (same type and labels asserted).
    // Counter names must end with "_total".
    CounterFamily &counter(const QByteArray &name, const QByteArray &help,
                           const QList<QByteArray> &labelNames = {});
    GaugeFamily &gauge(const QByteArray &name, const QByteArray &help,
                       const QList<QByteArray> &labelNames = {});
    // Bounds are sorted and deduplicated; +Inf is implicit.
    HistogramFamily &histogram(const QByteArray &name, const QByteArray &help,
                               const QList<QByteArray> &labelNames = {},
                               std::vector<double> upperBounds = defaultDurationBuckets());

    // Metrics whose values live elsewhere (uptime, health, process): `callback` runs on the
    // scraping thread at every scrape, so it must be thread-safe and quick.
    void addCallbackCounter(const QByteArray &name, const QByteArray &help,
                            const QList<QByteArray> &labelNames, SampleCallback callback);
    void addCallbackGauge(const QByteArray &name, const QByteArray &help,
                          const QList<QByteArray> &labelNames, SampleCallback callback);

    // Every family merged, sorted by name (series by label values).
    std::vector<MetricSnapshot> collect() const;
    // One counter, gauge or histogram family merged (not a callback metric); nullopt when none
    // has that name. For readers that need a few families often (the dashboard's sampler)
    // without running every callback: it costs what a scrape of that family costs.
    std::optional<MetricSnapshot> collectFamily(const QByteArray &name) const;
    QByteArray exposeText() const;         // Prometheus text format 0.0.4
    QByteArray exposeOpenMetrics() const;  // OpenMetrics 1.0.0, ends with "# EOF\n"

    // True when an Accept header lists application/openmetrics-text (with q > 0).
    static bool wantsOpenMetrics(QByteArrayView acceptHeader);

    // Seconds, from gateway overhead (250 µs) to long LLM streams (5 min).
    static std::vector<double> defaultDurationBuckets();

private:
    struct Callback
    {
        MetricType type;
        QByteArray name;
        QByteArray help;
        QList<QByteArray> labelNames;
        SampleCallback callback;
    };

    template <typename Family, typename Create>
    Family &registerFamily(const QByteArray &name, MetricType type,
                           const QList<QByteArray> &labelNames, Create &&create);
    void addCallback(MetricType type, const QByteArray &name, const QByteArray &help,
                     const QList<QByteArray> &labelNames, SampleCallback callback);
    static MetricSnapshot collectCallback(const Callback &callback);

    mutable std::mutex m_mutex;
    std::map<QByteArray, std::unique_ptr<MetricFamily>> m_families;
    // shared_ptr: a scrape calls them after releasing m_mutex.
    std::map<QByteArray, std::shared_ptr<const Callback>> m_callbacks;
    // Families returned for a clashing registration in release builds: recorded, never exposed.
    std::vector<std::unique_ptr<MetricFamily>> m_rejected;
};

}  // namespace sluice
