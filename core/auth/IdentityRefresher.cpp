#include "IdentityRefresher.h"

#include "DatabaseThread.h"
#include "IdentitySnapshot.h"
#include "IdentityStore.h"
#include "KeyCache.h"
#include "LogCategories.h"

#include <QDateTime>

namespace sluice {

IdentityRefresher::IdentityRefresher(DatabaseThread &db, KeyCache &cache, Options options,
                                     QObject *parent)
    : QObject(parent),
      m_db(db),
      m_cache(cache),
      m_options(options),
      m_busy(std::make_shared<std::atomic<bool>>(false))
{
    connect(&m_timer, &QTimer::timeout, this, &IdentityRefresher::tick);
}

IdentityRefresher::~IdentityRefresher()
{
    stop();
}

bool IdentityRefresher::start(QString *error)
{
    bool ok = false;
    m_db.runSync([&](DatabaseConnection &c) { ok = refresh(c, error); });
    if (!ok)
        return false;
    m_lastFlushMs = QDateTime::currentMSecsSinceEpoch();
    m_timer.start(m_options.pollMs);
    return true;
}

void IdentityRefresher::stop()
{
    if (!m_timer.isActive())
        return;
    m_timer.stop();
    m_db.runSync([this](DatabaseConnection &c) { flushLastUsed(c); });
}

void IdentityRefresher::tick()
{
    if (m_busy->exchange(true))
        return;  // the database is slow: never queue a second poll behind the first
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const bool flush = now - m_lastFlushMs >= m_options.lastUsedFlushMs;
    if (flush)
        m_lastFlushMs = now;
    m_db.post([this, busy = m_busy, flush](DatabaseConnection &c) {
        QString error;
        if (!refresh(c, &error))
            qCWarning(lcGateway).noquote() << "identity refresh failed:" << error;
        if (flush)
            flushLastUsed(c);
        busy->store(false);
    });
}

bool IdentityRefresher::refresh(DatabaseConnection &c, QString *error)
{
    IdentityStore store(c);
    const qint64 revision = store.revision(error);
    if (revision < 0)
        return false;
    const auto previous = m_cache.shared();
    if (previous && previous->revision() == revision)
        return true;
    const auto data = store.loadAll(error);
    if (!data)
        return false;
    // Last-use times not yet written survive the swap.
    if (previous)
        flushLastUsed(c);
    auto snapshot = IdentitySnapshot::build(*data);
    if (previous)
        snapshot->inheritUsage(*previous);
    const int keys = int(snapshot->principals().size());
    m_cache.publish(snapshot);
    qCDebug(lcGateway) << "identity snapshot at revision" << data->revision << "with" << keys
                       << "keys";
    emit reloaded(data->revision, keys);
    return true;
}

void IdentityRefresher::flushLastUsed(DatabaseConnection &c)
{
    const auto snapshot = m_cache.shared();
    if (!snapshot)
        return;
    QHash<qint64, QDateTime> batch;
    std::vector<std::pair<const Principal *, qint64>> flushed;
    for (const auto &p : snapshot->principals()) {
        const qint64 used = p->lastUsedMs.load(std::memory_order_relaxed);
        if (used > p->flushedMs.load(std::memory_order_relaxed)) {
            batch.insert(p->keyId, QDateTime::fromMSecsSinceEpoch(used, Qt::UTC));
            flushed.emplace_back(p.get(), used);
        }
    }
    if (batch.isEmpty())
        return;
    QString error;
    if (!IdentityStore(c).touchLastUsed(batch, &error)) {
        qCWarning(lcGateway).noquote()
            << "cannot record last use of" << batch.size() << "keys:" << error;
        return;  // retried with the next flush
    }
    for (const auto &[p, used] : flushed)
        p->flushedMs.store(used, std::memory_order_relaxed);
}

}  // namespace sluice
