#include "HealthProbeRunner.h"

#include <QElapsedTimer>

namespace sluice {

HealthProbeRunner::HealthProbeRunner(std::unique_ptr<HealthCheck> check)
    : m_check(std::move(check))
{
    m_thread.setObjectName(QStringLiteral("health-") + m_check->name());
    m_threadContext = new QObject;
    m_threadContext->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_threadContext, &QObject::deleteLater);
    m_thread.start();
}

HealthProbeRunner::~HealthProbeRunner()
{
    if (!m_busy) {
        QMetaObject::invokeMethod(
            m_threadContext, [this] { m_check->releaseThreadResources(); },
            Qt::BlockingQueuedConnection);
    }
    m_thread.quit();
    // A probe that hangs for good (a dead NFS mount) must not hang shutdown as well.
    if (!m_thread.wait(5000)) {
        m_thread.terminate();
        m_thread.wait();
    }
}

void HealthProbeRunner::start(std::function<void(HealthResult)> done)
{
    m_busy = true;
    QMetaObject::invokeMethod(m_threadContext, [this, done = std::move(done)] {
        QElapsedTimer timer;
        timer.start();
        HealthResult r = m_check->probe();
        if (r.latencyMs <= 0)
            r.latencyMs = double(timer.nsecsElapsed()) / 1e6;
        if (!r.checkedAt.isValid())
            r.checkedAt = QDateTime::currentDateTimeUtc();
        m_busy = false;
        done(std::move(r));
    });
}

}  // namespace sluice
