#pragma once

#include "HealthCheck.h"

#include <QObject>
#include <atomic>
#include <functional>
#include <memory>

class QThread;

namespace sluice {

// Owns one HealthCheck and the thread its probe() runs on. A probe that hangs keeps only this
// thread busy; `busy()` lets the checker report it as timed out instead of queueing more.
class HealthProbeRunner : public QObject
{
    Q_OBJECT
public:
    explicit HealthProbeRunner(std::unique_ptr<HealthCheck> check);
    ~HealthProbeRunner() override;

    const HealthCheck &check() const { return *m_state->check; }
    bool busy() const { return m_state->busy.load(); }
    // Starts probe() on the runner's thread; `done` is called on that thread when it returns.
    void start(std::function<void(HealthResult)> done);

private:
    // Shared with the probe in flight, so a probe that outlives the runner (hung at shutdown)
    // still finds its check alive.
    struct State
    {
        std::unique_ptr<HealthCheck> check;
        std::atomic<bool> busy{false};
    };
    std::shared_ptr<State> m_state;
    QThread *m_thread;         // owned; leaked on purpose if a probe never returns
    QObject *m_threadContext;  // lives on m_thread; queued calls target it
};

}  // namespace sluice
