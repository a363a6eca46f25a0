#include "MetricFamily.h"

#include "LogCategories.h"

#include <algorithm>
#include <unordered_map>

namespace sluice {

namespace {

// Ids are never reused, so a stale thread-cache entry of a destroyed family can never be
// found again; that makes creating and destroying registries (tests) safe.
std::atomic<quint64> g_nextFamilyId{1};
std::atomic<quint64> g_nextThreadId{1};
// Bumped whenever a family dies: the next cache miss on each thread drops stale entries.
std::atomic<quint64> g_retiredEpoch{0};

struct ThreadCache
{
    std::unordered_map<quint64, void *> shards;  // family id -> MetricFamily::Shard
    quint64 epoch = 0;
    const quint64 threadId = g_nextThreadId.fetch_add(1, std::memory_order_relaxed);
};

thread_local ThreadCache t_cache;
thread_local QByteArray t_keyBuffer;

void appendLength(QByteArray &out, quint64 n)
{
    // LEB128: one byte for values shorter than 128 bytes.
    do {
        char byte = char(n & 0x7f);
        n >>= 7;
        if (n)
            byte = char(byte | 0x80);
        out.append(byte);
    } while (n);
}

}  // namespace

MetricFamily::MetricFamily(MetricType type, QByteArray name, QByteArray help,
                           QList<QByteArray> labelNames, std::vector<double> upperBounds)
    : m_id(g_nextFamilyId.fetch_add(1, std::memory_order_relaxed)),
      m_type(type),
      m_name(std::move(name)),
      m_help(std::move(help)),
      m_labelNames(std::move(labelNames)),
      m_upperBounds(std::move(upperBounds))
{
    Q_ASSERT_X(m_labelNames.size() <= LabelValues::MaxSize, "MetricFamily", "too many labels");
}

MetricFamily::~MetricFamily()
{
    g_retiredEpoch.fetch_add(1, std::memory_order_release);
}

MetricFamily::Shard &MetricFamily::localShard()
{
    auto &shards = t_cache.shards;
    const auto it = shards.find(m_id);
    if (Q_LIKELY(it != shards.end()))
        return *static_cast<Shard *>(it->second);
    return attachShard();
}

MetricFamily::Shard &MetricFamily::attachShard()
{
    ThreadCache &cache = t_cache;
    const quint64 epoch = g_retiredEpoch.load(std::memory_order_acquire);
    if (cache.epoch != epoch) {
        cache.shards.clear();  // live families re-attach below to the same shard
        cache.epoch = epoch;
    }
    Shard *shard = nullptr;
    {
        std::lock_guard lock(m_shardsMutex);
        for (const auto &s : m_shards) {
            if (s->ownerThread == cache.threadId) {
                shard = s.get();
                break;
            }
        }
        if (!shard) {
            m_shards.push_back(std::make_unique<Shard>());
            shard = m_shards.back().get();
            shard->ownerThread = cache.threadId;
        }
    }
    cache.shards.emplace(m_id, shard);
    return *shard;
}

QHash<QByteArray, MetricFamily::Cell>::iterator MetricFamily::insertCell(Shard &shard,
                                                                         const QByteArray &key)
{
    // Deep copy: sharing the thread-local buffer would make its next reuse allocate.
    return shard.cells.insert(QByteArray(key.constData(), key.size()), emptyCell());
}

MetricFamily::Cell MetricFamily::emptyCell() const
{
    Cell cell;
    if (m_type == MetricType::Histogram)
        cell.buckets.assign(m_upperBounds.size() + 1, 0);
    return cell;
}

void MetricFamily::mergeInto(Cell &into, const Cell &from) const
{
    into.value += from.value;
    into.count += from.count;
    for (size_t i = 0; i < into.buckets.size() && i < from.buckets.size(); ++i)
        into.buckets[i] += from.buckets[i];
}

void MetricFamily::arityMismatch(qsizetype given)
{
    Q_ASSERT_X(false, m_name.constData(), "label value count differs from label name count");
    if (!m_warnedArity.exchange(true))
        qCWarning(lcMetrics) << "dropping samples of" << m_name << "with" << given
                             << "label values; expected" << m_labelNames.size();
}

void MetricFamily::setEverywhere(const LabelValues &values, double v)
{
    if (values.size() != m_labelNames.size()) {
        arityMismatch(values.size());
        return;
    }
    Shard *own = &localShard();
    const QByteArray &key = encodeKey(values);
    // Readers also hold m_shardsMutex while merging, so they never see a half-applied set.
    std::lock_guard familyLock(m_shardsMutex);
    for (const auto &shard : m_shards) {
        std::lock_guard lock(shard->mutex);
        auto it = shard->cells.find(key);
        if (shard.get() == own) {
            if (it == shard->cells.end())
                it = insertCell(*shard, key);
            it->value = v;
        } else if (it != shard->cells.end()) {
            it->value = 0;
        }
    }
}

MetricFamily::Cell MetricFamily::mergedCell(const LabelValues &values) const
{
    Cell merged = emptyCell();
    if (values.size() != m_labelNames.size())
        return merged;
    const QByteArray &key = encodeKey(values);
    std::lock_guard familyLock(m_shardsMutex);
    for (const auto &shard : m_shards) {
        std::lock_guard lock(shard->mutex);
        const auto it = shard->cells.constFind(key);
        if (it != shard->cells.cend())
            mergeInto(merged, *it);
    }
    return merged;
}

MetricSnapshot MetricFamily::collect() const
{
    MetricSnapshot snapshot;
    snapshot.type = m_type;
    snapshot.name = m_name;
    snapshot.help = m_help;
    snapshot.labelNames = m_labelNames;
    snapshot.upperBounds = m_upperBounds;

    QHash<QByteArray, Cell> merged;
    {
        std::lock_guard familyLock(m_shardsMutex);
        for (const auto &shard : m_shards) {
            std::lock_guard lock(shard->mutex);
            for (auto it = shard->cells.cbegin(); it != shard->cells.cend(); ++it) {
                auto m = merged.find(it.key());
                if (m == merged.end())
                    m = merged.insert(it.key(), emptyCell());
                mergeInto(*m, it.value());
            }
        }
    }
    if (m_labelNames.isEmpty() && merged.isEmpty())
        merged.insert(QByteArray(), emptyCell());

    snapshot.series.reserve(merged.size());
    for (auto it = merged.cbegin(); it != merged.cend(); ++it) {
        MetricSnapshot::Series series;
        series.labelValues = decodeKey(it.key());
        const Cell &cell = it.value();
        if (m_type == MetricType::Histogram) {
            series.sum = cell.value;
            series.count = cell.count;
            series.cumulativeCounts.reserve(cell.buckets.size());
            quint64 running = 0;
            for (quint64 n : cell.buckets)
                series.cumulativeCounts.push_back(running += n);
        } else {
            series.value = cell.value;
        }
        snapshot.series.push_back(std::move(series));
    }
    std::sort(snapshot.series.begin(), snapshot.series.end(),
              [](const MetricSnapshot::Series &a, const MetricSnapshot::Series &b) {
                  return std::lexicographical_compare(a.labelValues.cbegin(), a.labelValues.cend(),
                                                      b.labelValues.cbegin(), b.labelValues.cend());
              });
    return snapshot;
}

const QByteArray &MetricFamily::encodeKey(const LabelValues &values)
{
    QByteArray &key = t_keyBuffer;
    key.resize(0);  // keeps the capacity
    for (QByteArrayView v : values) {
        appendLength(key, quint64(v.size()));
        key.append(v);
    }
    return key;
}

QList<QByteArray> MetricFamily::decodeKey(const QByteArray &key)
{
    QList<QByteArray> values;
    qsizetype pos = 0;
    while (pos < key.size()) {
        quint64 length = 0;
        int shift = 0;
        uchar byte = 0;
        do {
            byte = uchar(key.at(pos++));
            length |= quint64(byte & 0x7f) << shift;
            shift += 7;
        } while ((byte & 0x80) && pos < key.size());
        values.append(key.mid(pos, qsizetype(length)));
        pos += qsizetype(length);
    }
    return values;
}

}  // namespace sluice
