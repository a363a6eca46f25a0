#include "UpstreamTraffic.h"

namespace sluice {

UpstreamTraffic::UpstreamTraffic(const QStringList &upstreams)
{
    for (const QString &name : upstreams)
        m_series.insert(name, std::make_shared<Series>());
}

void UpstreamTraffic::record(const QString &upstream, bool ok, qint64 nowMs)
{
    const auto it = m_series.constFind(upstream);
    if (it == m_series.constEnd())
        return;
    const qint64 slot = nowMs / 10000;
    Bucket &b = (*it)->buckets[size_t(slot % 6)];
    qint64 seen = b.slot.load(std::memory_order_acquire);
    if (seen != slot && b.slot.compare_exchange_strong(seen, slot)) {
        // First writer of a new 10 s slot resets it; a racing increment may be lost, which a
        // health estimate can afford.
        b.ok.store(0, std::memory_order_relaxed);
        b.failed.store(0, std::memory_order_relaxed);
    }
    (ok ? b.ok : b.failed).fetch_add(1, std::memory_order_relaxed);
}

UpstreamTraffic::Window UpstreamTraffic::lastMinute(const QString &upstream, qint64 nowMs) const
{
    Window w;
    const auto it = m_series.constFind(upstream);
    if (it == m_series.constEnd())
        return w;
    const qint64 slot = nowMs / 10000;
    for (const Bucket &b : (*it)->buckets) {
        const qint64 s = b.slot.load(std::memory_order_acquire);
        if (s <= slot && s > slot - 6) {
            w.ok += b.ok.load(std::memory_order_relaxed);
            w.failed += b.failed.load(std::memory_order_relaxed);
        }
    }
    return w;
}

}  // namespace sluice
