#pragma once

#include "HealthCheck.h"

#include <QObject>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>

namespace sluice {

// Owns one HealthCheck and the thread its probe() runs on. A probe that hangs keeps only this
// thread busy; `busy()` lets the checker report it as timed out instead of queueing more.
class HealthProbeRunner : public QObject
{
    Q_OBJECT
public:
    explicit HealthProbeRunner(std::unique_ptr<HealthCheck> check);
    ~HealthProbeRunner() override;

    const HealthCheck &check() const { return *m_check; }
    bool busy() const { return m_busy.load(); }
    // Starts probe() on the runner's thread; `done` is called on that thread when it returns.
    void start(std::function<void(HealthResult)> done);

private:
    std::unique_ptr<HealthCheck> m_check;
    QThread m_thread;
    QObject *m_threadContext = nullptr;  // lives on m_thread; queued calls target it
    std::atomic<bool> m_busy{false};
};

}  // namespace sluice
