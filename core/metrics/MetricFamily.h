#pragma once

#include "LabelValues.h"
#include "MetricSnapshot.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace sluice {

// Base of the counter, gauge and histogram families. Recording is sharded per thread, as in
// Envoy: each thread writes into its own shard (found through a thread-local cache keyed by a
// never-reused family id), whose mutex only that thread and the scraper ever take. collect()
// merges the shards. Shards belong to the family, so values survive the threads that wrote them.
// Families must outlive the threads' last recording into them.
class MetricFamily
{
public:
    virtual ~MetricFamily();
    Q_DISABLE_COPY_MOVE(MetricFamily)

    MetricType type() const { return m_type; }
    const QByteArray &name() const { return m_name; }
    const QByteArray &help() const { return m_help; }
    const QList<QByteArray> &labelNames() const { return m_labelNames; }

    // All threads' values merged, series sorted by label values. A family without labels
    // always has its one series, so it reads 0 before the first recording.
    MetricSnapshot collect() const;

protected:
    MetricFamily(MetricType type, QByteArray name, QByteArray help, QList<QByteArray> labelNames,
                 std::vector<double> upperBounds = {});

    // One series' values in one shard. Counters and gauges use `value`; histograms use
    // `value` as the sum, `count`, and non-cumulative `buckets` (+Inf last).
    struct Cell
    {
        double value = 0;
        quint64 count = 0;
        std::vector<quint64> buckets;
    };

    // Cache-line aligned: shards of different threads are allocated side by side and must
    // not share a line (false sharing would cost more than the lock).
    struct alignas(64) Shard
    {
        quint64 ownerThread = 0;
        std::mutex mutex;               // taken by the owning thread and by readers only
        QHash<QByteArray, Cell> cells;  // key: encoded label values
    };

    // Hot path: applies `apply(Cell &)` to the calling thread's cell for `values`.
    template <typename Apply>
    void update(const LabelValues &values, Apply &&apply)
    {
        if (Q_UNLIKELY(values.size() != m_labelNames.size())) {
            arityMismatch(values.size());
            return;
        }
        Shard &shard = localShard();
        const QByteArray &key = encodeKey(values);
        std::lock_guard lock(shard.mutex);
        auto it = shard.cells.find(key);
        if (Q_UNLIKELY(it == shard.cells.end()))
            it = insertCell(shard, key);
        apply(*it);
    }

    // Makes `values` read exactly `v`: other threads' contributions are zeroed under the family
    // lock, so it costs one lock per thread; meant for gauges set now and then, not per request.
    void setEverywhere(const LabelValues &values, double v);

    // One series merged over all shards (reads, tests).
    Cell mergedCell(const LabelValues &values) const;

    const std::vector<double> &upperBounds() const { return m_upperBounds; }

private:
    Shard &localShard();
    Shard &attachShard();
    QHash<QByteArray, Cell>::iterator insertCell(Shard &shard, const QByteArray &key);
    Cell emptyCell() const;
    void mergeInto(Cell &into, const Cell &from) const;
    void arityMismatch(qsizetype given);

    // Joins the values into a thread-local buffer (length-prefixed, so unambiguous);
    // no allocation once the buffer has grown.
    static const QByteArray &encodeKey(const LabelValues &values);
    static QList<QByteArray> decodeKey(const QByteArray &key);

    const quint64 m_id;
    const MetricType m_type;
    const QByteArray m_name;
    const QByteArray m_help;
    const QList<QByteArray> m_labelNames;
    const std::vector<double> m_upperBounds;

    mutable std::mutex m_shardsMutex;  // shard list; never taken on the hot path once attached
    std::vector<std::unique_ptr<Shard>> m_shards;
    std::atomic<bool> m_warnedArity{false};
};

}  // namespace sluice
