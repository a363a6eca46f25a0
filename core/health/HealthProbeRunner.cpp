#include "HealthProbeRunner.h"

#include "LogCategories.h"

#include <QElapsedTimer>
#include <QThread>

namespace sluice {

HealthProbeRunner::HealthProbeRunner(std::unique_ptr<HealthCheck> check)
    : m_state(std::make_shared<State>()), m_thread(new QThread), m_threadContext(new QObject)
{
    m_state->check = std::move(check);
    m_thread->setObjectName(QStringLiteral("health-") + m_state->check->name());
    m_threadContext->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_threadContext, &QObject::deleteLater);
    m_thread->start();
}

HealthProbeRunner::~HealthProbeRunner()
{
    // Release the check's per-thread resources on its own thread, after a probe that may still
    // be running, and end the thread from there: queued behind the probe, never beside it.
    std::shared_ptr<State> state = m_state;
    QMetaObject::invokeMethod(m_threadContext, [state] {
        state->check->releaseThreadResources();
        QThread::currentThread()->quit();
    });
    // A probe that hangs for good (a dead NFS mount, a black-holed database) must not hang
    // shutdown too: give it a moment, then leave its thread behind for the process exit. The
    // queued release still runs on that thread if the probe ever returns.
    if (m_thread->wait(3000)) {
        delete m_thread;
    } else {
        qCWarning(lcHealth).noquote() << "health check" << m_state->check->name()
                                      << "still running at shutdown; abandoning its thread";
    }
}

void HealthProbeRunner::start(std::function<void(HealthResult)> done)
{
    m_state->busy = true;
    QMetaObject::invokeMethod(m_threadContext, [state = m_state, done = std::move(done)] {
        QElapsedTimer timer;
        timer.start();
        HealthResult r = state->check->probe();
        if (r.latencyMs <= 0)
            r.latencyMs = double(timer.nsecsElapsed()) / 1e6;
        if (!r.checkedAt.isValid())
            r.checkedAt = QDateTime::currentDateTimeUtc();
        state->busy = false;
        done(std::move(r));
    });
}

}  // namespace sluice
