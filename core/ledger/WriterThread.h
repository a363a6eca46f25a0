#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"

#include <QString>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

class QThread;

namespace sluice {

// The writer thread of a ledger table (UsageLedger, ViolationLog, QuotaAlertMonitor): the hot
// path leaves work under mutex() and a thread of its own, with its own DatabaseConnection
// (created, used and destroyed only on that thread), writes it. What is shared lives here: the
// lock, the wake-up (due, flush() or a timeout), the "one write attempt" flush handshake, one
// retry on a fresh connection, and the last write at shutdown. What to write and when it is due
// is the owner's: the Hooks.
//
// The loop: wait until due or the hook's timeout; take() under the lock; write() without it;
// record() under the lock; wake flush() callers; after stop(), one last cycle, then finished().
class WriterThread
{
public:
    // Implemented by the owner. "Locked" hooks run with mutex() held, the others without it; all
    // on the writer thread, so writer-only state needs no lock.
    class Hooks
    {
    public:
        virtual ~Hooks() = default;
        // Without the lock, once, before the first wait.
        virtual void started() {}
        // Locked: a reason to write now besides stop() and flush() (e.g. a full batch).
        virtual bool due() const { return false; }
        // Locked: how long to wait when nothing is due, in ms; negative: until woken.
        virtual qint64 waitMs() const = 0;
        // Locked: moves what is to be written out of the shared state.
        virtual void take() = 0;
        // Without the lock: writes what was taken, through attempt() for the retry. `stop`: the
        // last cycle. True when written (or nothing to write); false with *error.
        virtual bool write(bool stop, QString *error) = 0;
        // Locked: notes the outcome in the shared state, before flush() callers wake.
        virtual void record(bool) {}
        // Without the lock, after the last cycle, before the connection is closed: what is
        // still unwritten is lost (count and log it; drop statements of the connection).
        virtual void finished() {}
    };

    // role: the connection's (logs, metrics). Nothing runs until start().
    WriterThread(Hooks &hooks, QString threadName, const DatabaseUrl &url, QString role,
                 QueryObserver observer);
    ~WriterThread();  // stop(); owners call it earlier, while their hooks' state is intact
    WriterThread(const WriterThread &) = delete;
    WriterThread &operator=(const WriterThread &) = delete;

    // Once, when the hooks' state is fully constructed.
    void start();
    // Makes the loop run one last cycle, and waits for the thread to end. Idempotent.
    void stop();

    // Guards the state shared between the hot path and the writer (the owner's and this one's).
    std::mutex &mutex() const { return m_mutex; }
    // Wakes the writer to check due() (e.g. a batch just filled). Lock held or not.
    void wake() { m_wake.notify_one(); }
    // With `lock` holding mutex(): asks for one write attempt of everything taken from now on
    // and waits for it; never for a database that stays down. True when it succeeded, else
    // false with *error (lastError()).
    bool flushAndWait(std::unique_lock<std::mutex> &lock, QString *error = nullptr);
    // Locked (or on the writer thread): the last attempt's error; empty after a success.
    const QString &lastError() const { return m_lastError; }

    // On the writer thread only: the connection hooks write on.
    DatabaseConnection &connection() { return *m_conn; }
    // On the writer thread, in write(): runs `once`, and again at once when it failed on a
    // connection that was open (a restarted database leaves it stale, and that is not worth a
    // warning) or on the last cycle. `once` closes the connection when it fails, so the retry
    // opens a fresh one.
    bool attempt(bool stop, const std::function<bool(QString *)> &once, QString *error);

private:
    void run();

    Hooks &m_hooks;
    const QString m_threadName;
    const DatabaseUrl m_url;
    const QString m_role;
    const QueryObserver m_observer;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;    // the writer waits on it
    std::condition_variable m_served;  // flushAndWait() waits on it
    quint64 m_flushRequested = 0;
    quint64 m_flushServed = 0;
    bool m_lastWriteOk = true;
    QString m_lastError;
    bool m_stopping = false;

    std::unique_ptr<QThread> m_thread;
    std::unique_ptr<DatabaseConnection> m_conn;  // the writer thread's own
};

}  // namespace sluice
