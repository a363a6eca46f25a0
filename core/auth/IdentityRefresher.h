#pragma once

#include <QObject>
#include <QTimer>
#include <atomic>
#include <memory>

namespace sluice {

class DatabaseConnection;
class DatabaseThread;
class KeyCache;

// Keeps the KeyCache in step with the identity database, whoever edits it (this gateway's admin
// API, the CLI, another gateway on the same PostgreSQL): every poll it reads the identity
// revision and reloads the snapshot when it moved, so edits apply everywhere within about one
// poll interval. It also writes last_used_at in batches, never once per request.
// Lives on the main thread; all SQL runs on the identity DatabaseThread.
class IdentityRefresher : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int pollMs = 250;
        int lastUsedFlushMs = 5000;
    };
    IdentityRefresher(DatabaseThread &db, KeyCache &cache, Options options,
                      QObject *parent = nullptr);
    ~IdentityRefresher() override;

    // Loads the first snapshot synchronously (requests authenticate from the first one), then
    // starts polling. False with *error when the database cannot be read.
    bool start(QString *error);
    // Stops polling and writes pending last-use times (synchronously).
    void stop();

signals:
    void reloaded(qint64 revision, int keys);

private:
    void tick();
    // On the identity thread:
    bool refresh(DatabaseConnection &c, QString *error);
    void flushLastUsed(DatabaseConnection &c);

    DatabaseThread &m_db;
    KeyCache &m_cache;
    Options m_options;
    QTimer m_timer;
    std::shared_ptr<std::atomic<bool>> m_busy;  // a poll is queued or running
    qint64 m_lastFlushMs = 0;
};

}  // namespace sluice
