#include "MetricsRegistry.h"

#include "LogCategories.h"
#include "MetricsExposition.h"

#include <algorithm>
#include <cmath>

namespace sluice {

namespace {

bool isValidName(QByteArrayView name, bool allowColon)
{
    if (name.isEmpty())
        return false;
    for (qsizetype i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (allowColon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

bool isValidLabelName(QByteArrayView name)
{
    return isValidName(name, false) && !name.startsWith("__");
}

void checkNames(const QByteArray &name, const QList<QByteArray> &labelNames)
{
    Q_ASSERT_X(isValidName(name, true), name.constData(), "invalid metric name");
    Q_ASSERT_X(labelNames.size() <= LabelValues::MaxSize, name.constData(), "too many labels");
    for (const QByteArray &label : labelNames)
        Q_ASSERT_X(isValidLabelName(label), label.constData(), "invalid label name");
}

std::vector<double> normalizedBounds(std::vector<double> bounds)
{
    // +Inf is always the last bucket; NaN cannot be a bound.
    std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    return bounds;
}

bool lessByLabels(const MetricSnapshot::Series &a, const MetricSnapshot::Series &b)
{
    return std::lexicographical_compare(a.labelValues.cbegin(), a.labelValues.cend(),
                                        b.labelValues.cbegin(), b.labelValues.cend());
}

}  // namespace

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

template <typename Family, typename Create>
Family &MetricsRegistry::registerFamily(const QByteArray &name, MetricType type,
                                        const QList<QByteArray> &labelNames, Create &&create)
{
    checkNames(name, labelNames);
    std::lock_guard lock(m_mutex);
    const auto it = m_families.find(name);
    if (it != m_families.end() && it->second->type() == type &&
        it->second->labelNames() == labelNames) {
        return static_cast<Family &>(*it->second);
    }
    if (it != m_families.end() || m_callbacks.count(name)) {
        Q_ASSERT_X(false, name.constData(), "metric registered again with another type or labels");
        qCCritical(lcMetrics) << "metric" << name
                              << "registered again with another type or labels; not exposed";
        m_rejected.push_back(create());
        return static_cast<Family &>(*m_rejected.back());
    }
    std::unique_ptr<Family> family = create();
    Family &ref = *family;
    m_families.emplace(name, std::move(family));
    return ref;
}

CounterFamily &MetricsRegistry::counter(const QByteArray &name, const QByteArray &help,
                                        const QList<QByteArray> &labelNames)
{
    // The text format prints counter names as given; OpenMetrics strips the suffix.
    Q_ASSERT_X(name.endsWith("_total"), name.constData(), "counter names end with _total");
    return registerFamily<CounterFamily>(name, MetricType::Counter, labelNames, [&] {
        return std::unique_ptr<CounterFamily>(new CounterFamily(name, help, labelNames));
    });
}

GaugeFamily &MetricsRegistry::gauge(const QByteArray &name, const QByteArray &help,
                                    const QList<QByteArray> &labelNames)
{
    return registerFamily<GaugeFamily>(name, MetricType::Gauge, labelNames, [&] {
        return std::unique_ptr<GaugeFamily>(new GaugeFamily(name, help, labelNames));
    });
}

HistogramFamily &MetricsRegistry::histogram(const QByteArray &name, const QByteArray &help,
                                            const QList<QByteArray> &labelNames,
                                            std::vector<double> upperBounds)
{
    Q_ASSERT_X(!labelNames.contains("le"), name.constData(), "\"le\" is the bucket label");
    return registerFamily<HistogramFamily>(name, MetricType::Histogram, labelNames, [&] {
        return std::unique_ptr<HistogramFamily>(
            new HistogramFamily(name, help, labelNames, normalizedBounds(std::move(upperBounds))));
    });
}

void MetricsRegistry::addCallbackCounter(const QByteArray &name, const QByteArray &help,
                                         const QList<QByteArray> &labelNames,
                                         SampleCallback callback)
{
    Q_ASSERT_X(name.endsWith("_total"), name.constData(), "counter names end with _total");
    addCallback(MetricType::Counter, name, help, labelNames, std::move(callback));
}

void MetricsRegistry::addCallbackGauge(const QByteArray &name, const QByteArray &help,
                                       const QList<QByteArray> &labelNames, SampleCallback callback)
{
    addCallback(MetricType::Gauge, name, help, labelNames, std::move(callback));
}

void MetricsRegistry::addCallback(MetricType type, const QByteArray &name, const QByteArray &help,
                                  const QList<QByteArray> &labelNames, SampleCallback callback)
{
    checkNames(name, labelNames);
    std::lock_guard lock(m_mutex);
    if (m_families.count(name) || m_callbacks.count(name)) {
        Q_ASSERT_X(false, name.constData(), "callback metric name already registered");
        qCCritical(lcMetrics) << "callback metric" << name << "already registered; ignored";
        return;
    }
    m_callbacks.emplace(name, std::make_shared<const Callback>(
                                  Callback{type, name, help, labelNames, std::move(callback)}));
}

MetricSnapshot MetricsRegistry::collectCallback(const Callback &callback)
{
    MetricSnapshot snapshot;
    snapshot.type = callback.type;
    snapshot.name = callback.name;
    snapshot.help = callback.help;
    snapshot.labelNames = callback.labelNames;
    if (!callback.callback)
        return snapshot;
    const QList<Sample> samples = callback.callback();
    snapshot.series.reserve(samples.size());
    for (const Sample &sample : samples) {
        if (sample.labelValues.size() != callback.labelNames.size()) {
            qCWarning(lcMetrics) << "callback metric" << callback.name << "returned a sample with"
                                 << sample.labelValues.size() << "label values; expected"
                                 << callback.labelNames.size();
            continue;
        }
        MetricSnapshot::Series series;
        series.labelValues = sample.labelValues;
        series.value = sample.value;
        snapshot.series.push_back(std::move(series));
    }
    std::sort(snapshot.series.begin(), snapshot.series.end(), lessByLabels);
    return snapshot;
}

std::vector<MetricSnapshot> MetricsRegistry::collect() const
{
    std::vector<const MetricFamily *> families;
    std::vector<std::shared_ptr<const Callback>> callbacks;
    {
        std::lock_guard lock(m_mutex);
        families.reserve(m_families.size());
        for (const auto &[name, family] : m_families)
            families.push_back(family.get());
        callbacks.reserve(m_callbacks.size());
        for (const auto &[name, callback] : m_callbacks)
            callbacks.push_back(callback);
    }
    // Merging and callbacks run without m_mutex: registration never waits for a scrape.
    std::vector<MetricSnapshot> snapshots;
    snapshots.reserve(families.size() + callbacks.size());
    for (const MetricFamily *family : families)
        snapshots.push_back(family->collect());
    for (const auto &callback : callbacks)
        snapshots.push_back(collectCallback(*callback));
    std::sort(snapshots.begin(), snapshots.end(),
              [](const MetricSnapshot &a, const MetricSnapshot &b) { return a.name < b.name; });
    return snapshots;
}

std::optional<MetricSnapshot> MetricsRegistry::collectFamily(const QByteArray &name) const
{
    const MetricFamily *family = nullptr;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_families.find(name);
        if (it == m_families.end())
            return std::nullopt;
        family = it->second.get();  // families live as long as the registry
    }
    return family->collect();
}

QByteArray MetricsRegistry::exposeText() const
{
    return MetricsExposition::text(collect());
}

QByteArray MetricsRegistry::exposeOpenMetrics() const
{
    return MetricsExposition::openMetrics(collect());
}

bool MetricsRegistry::wantsOpenMetrics(QByteArrayView acceptHeader)
{
    // Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1
    qsizetype pos = 0;
    while (pos <= acceptHeader.size()) {
        qsizetype comma = acceptHeader.indexOf(',', pos);
        if (comma < 0)
            comma = acceptHeader.size();
        const QByteArrayView range = acceptHeader.sliced(pos, comma - pos);
        pos = comma + 1;

        qsizetype semicolon = range.indexOf(';');
        const QByteArrayView mediaType = (semicolon < 0 ? range : range.first(semicolon)).trimmed();
        if (mediaType.compare("application/openmetrics-text", Qt::CaseInsensitive) != 0)
            continue;
        bool acceptable = true;
        while (semicolon >= 0) {
            const qsizetype start = semicolon + 1;
            semicolon = range.indexOf(';', start);
            const QByteArrayView param =
                range.sliced(start, (semicolon < 0 ? range.size() : semicolon) - start).trimmed();
            if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                bool ok = false;
                const double q = param.sliced(2).trimmed().toDouble(&ok);
                acceptable = ok && q > 0;
            }
        }
        if (acceptable)
            return true;
    }
    return false;
}

std::vector<double> MetricsRegistry::defaultDurationBuckets()
{
    return {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
            0.5,     1,      2.5,   5,      10,    30,   60,    120,  300};
}

}  // namespace sluice
