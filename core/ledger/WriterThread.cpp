#include "WriterThread.h"

#include <QThread>
#include <chrono>

namespace sluice {

WriterThread::WriterThread(Hooks &hooks, QString threadName, const DatabaseUrl &url, QString role,
                           QueryObserver observer)
    : m_hooks(hooks),
      m_threadName(std::move(threadName)),
      m_url(url),
      m_role(std::move(role)),
      m_observer(std::move(observer))
{}

WriterThread::~WriterThread()
{
    stop();
}

void WriterThread::start()
{
    m_thread.reset(QThread::create([this] { run(); }));
    m_thread->setObjectName(m_threadName);
    m_thread->start();
}

void WriterThread::stop()
{
    if (!m_thread)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread->wait();
    m_thread.reset();
}

bool WriterThread::flushAndWait(std::unique_lock<std::mutex> &lock, QString *error)
{
    const quint64 request = ++m_flushRequested;
    m_wake.notify_one();
    // Served by a cycle that began after the request, so it took everything there was.
    m_served.wait(lock, [&] { return m_flushServed >= request; });
    if (m_lastWriteOk)
        return true;
    if (error)
        *error = m_lastError;
    return false;
}

bool WriterThread::attempt(bool stop, const std::function<bool(QString *)> &once, QString *error)
{
    const bool wasOpen = m_conn->isOpen();
    bool ok = once(error);
    if (!ok && (wasOpen || stop))
        ok = once(error);
    return ok;
}

void WriterThread::run()
{
    m_conn = std::make_unique<DatabaseConnection>(m_url, m_role);
    m_conn->setQueryObserver(m_observer);
    m_hooks.started();

    std::unique_lock lock(m_mutex);
    for (;;) {
        auto due = [this] {
            return m_stopping || m_flushRequested > m_flushServed || m_hooks.due();
        };
        if (!due()) {
            const qint64 waitMs = m_hooks.waitMs();
            if (waitMs >= 0)
                m_wake.wait_for(lock, std::chrono::milliseconds(waitMs), due);
            else
                m_wake.wait(lock, due);
        }
        const bool stop = m_stopping;
        const quint64 request = m_flushRequested;
        m_hooks.take();
        lock.unlock();

        QString error;
        const bool ok = m_hooks.write(stop, &error);

        lock.lock();
        m_hooks.record(ok);
        m_flushServed = request;
        m_lastWriteOk = ok;
        m_lastError = ok ? QString() : error;
        m_served.notify_all();
        if (stop)
            break;
    }
    lock.unlock();
    m_hooks.finished();
    m_conn->close();
    m_conn.reset();
}

}  // namespace sluice
