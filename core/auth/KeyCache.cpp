#include "KeyCache.h"

namespace sluice {
namespace {
std::atomic<quint64> g_nextInstance{1};

struct ThreadView
{
    quint64 instance = 0;
    quint64 generation = 0;
    std::shared_ptr<const IdentitySnapshot> snapshot;
};
}  // namespace

KeyCache::KeyCache() : m_instance(g_nextInstance.fetch_add(1)) {}

void KeyCache::publish(std::shared_ptr<const IdentitySnapshot> snapshot)
{
    QMutexLocker lock(&m_mutex);
    m_snapshot = std::move(snapshot);
    m_generation.fetch_add(1, std::memory_order_release);
}

const IdentitySnapshot *KeyCache::current() const
{
    thread_local ThreadView view;
    const quint64 generation = m_generation.load(std::memory_order_acquire);
    if (view.instance != m_instance || view.generation != generation) {
        QMutexLocker lock(&m_mutex);
        view.instance = m_instance;
        view.generation = m_generation.load(std::memory_order_relaxed);
        view.snapshot = m_snapshot;
    }
    return view.snapshot.get();
}

std::shared_ptr<const IdentitySnapshot> KeyCache::shared() const
{
    QMutexLocker lock(&m_mutex);
    return m_snapshot;
}

qint64 KeyCache::revision() const
{
    const auto s = shared();
    return s ? s->revision() : -1;
}

}  // namespace sluice
