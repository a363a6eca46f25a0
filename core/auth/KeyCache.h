#pragma once

#include "IdentitySnapshot.h"

#include <QMutex>
#include <atomic>
#include <memory>

namespace sluice {

// Holds the current IdentitySnapshot for every worker. Publishing swaps the whole snapshot;
// reading costs one atomic load per request: each thread keeps its own reference and only takes
// the mutex when the generation moved (a few times a minute at most), so workers share no lock
// and no reference-count cache line on the hot path.
class KeyCache
{
public:
    KeyCache();
    void publish(std::shared_ptr<const IdentitySnapshot> snapshot);
    // The calling thread's view; valid until this thread calls current() again. Null before
    // the first publish.
    const IdentitySnapshot *current() const;
    // A reference that may be kept (the identity thread, tests).
    std::shared_ptr<const IdentitySnapshot> shared() const;
    qint64 revision() const;

private:
    const quint64 m_instance;  // thread caches are keyed by instance, never by address
    std::atomic<quint64> m_generation{0};
    mutable QMutex m_mutex;
    std::shared_ptr<const IdentitySnapshot> m_snapshot;
};

}  // namespace sluice
