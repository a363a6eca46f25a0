#pragma once

#include "HealthCheck.h"
#include "HealthReport.h"

#include <QMutex>
#include <QObject>
#include <QPointer>
#include <functional>
#include <memory>
#include <vector>

class QThread;

namespace sluice {

class HealthProbeRunner;

// Runs every registered HealthCheck in parallel, each on its own thread with its own timeout,
// and caches the report for a TTL so probes (load balancers, Kubernetes, Prometheus) cannot
// hammer the dependencies. Lives on the main thread; report() and latest() are thread-safe.
class HealthChecker : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int cacheTtlMs = 2000;
        int checkTimeoutMs = 2000;
    };
    using ReportPtr = std::shared_ptr<const HealthReport>;
    using Callback = std::function<void(ReportPtr)>;

    explicit HealthChecker(Options options, QObject *parent = nullptr);
    ~HealthChecker() override;

    // Before the first round only.
    void addCheck(std::unique_ptr<HealthCheck> check);
    int checkCount() const { return int(m_runners.size()); }

    // Calls `done` on `context`'s thread with a report no older than the TTL: at once when the
    // cached one is fresh, otherwise after a new round (bounded by the check timeout). Nothing
    // is called if `context` is destroyed first.
    void report(QObject *context, Callback done);
    // The latest finished report, or null before the first round. Never blocks on a check.
    ReportPtr latest() const;
    bool isFresh(const ReportPtr &report) const;
    // Starts a round now unless one is running (a "check now" action; the first round at start).
    void refresh();
    // refresh(), then calls `done` on `context`'s thread with the report of that round (or of
    // the round already running).
    void checkNow(QObject *context, Callback done);

signals:
    void reportReady(sluice::HealthChecker::ReportPtr report);

private:
    struct Waiter
    {
        QPointer<QObject> context;
        Callback done;
    };

    // Queues a waiter for the next finished round (main thread), then starts it; unless
    // `force`, a report that became fresh meanwhile answers at once.
    void await(QObject *context, Callback done, bool force);
    void startRound();
    void onProbeResult(quint64 round, size_t index, HealthResult result);
    void finishRound(quint64 round);

    Options m_options;
    std::vector<std::unique_ptr<HealthProbeRunner>> m_runners;
    std::vector<Waiter> m_waiters;
    quint64 m_round = 0;
    bool m_roundRunning = false;
    std::vector<std::optional<HealthResult>> m_results;
    mutable QMutex m_latestMutex;
    ReportPtr m_latest;
};

}  // namespace sluice
