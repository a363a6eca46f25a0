#include "HealthChecker.h"

#include "HealthProbeRunner.h"
#include "LogCategories.h"

#include <QTimer>
#include <chrono>

namespace sluice {
namespace {
qint64 monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

HealthChecker::HealthChecker(Options options, QObject *parent) : QObject(parent), m_options(options)
{
    qRegisterMetaType<sluice::HealthChecker::ReportPtr>();
}

HealthChecker::~HealthChecker()
{
    // Join the probe threads while this object is still whole: a probe finishing now posts
    // its result to us, and that event is discarded with us instead of reaching a dead object.
    m_runners.clear();
}

void HealthChecker::addCheck(std::unique_ptr<HealthCheck> check)
{
    m_runners.push_back(std::make_unique<HealthProbeRunner>(std::move(check)));
}

HealthChecker::ReportPtr HealthChecker::latest() const
{
    QMutexLocker lock(&m_latestMutex);
    return m_latest;
}

bool HealthChecker::isFresh(const ReportPtr &report) const
{
    return report && monotonicMs() - report->monotonicMs < m_options.cacheTtlMs;
}

void HealthChecker::report(QObject *context, Callback done)
{
    ReportPtr cached = latest();
    if (isFresh(cached)) {
        done(std::move(cached));
        return;
    }
    await(context, std::move(done), false);
}

void HealthChecker::refresh()
{
    QMetaObject::invokeMethod(this, [this] { startRound(); });
}

void HealthChecker::checkNow(QObject *context, Callback done)
{
    await(context, std::move(done), true);
}

void HealthChecker::await(QObject *context, Callback done, bool force)
{
    QPointer<QObject> guard(context);
    QMetaObject::invokeMethod(this, [this, guard, done = std::move(done), force]() mutable {
        m_waiters.push_back({guard, std::move(done)});
        if (!force && isFresh(latest())) {
            finishRound(0);  // became fresh meanwhile: answer the waiters from the cache
            return;
        }
        startRound();  // joins the running round if there is one
    });
}

void HealthChecker::startRound()
{
    if (m_roundRunning)
        return;
    m_roundRunning = true;
    const quint64 round = ++m_round;
    m_results.assign(m_runners.size(), std::nullopt);
    for (size_t i = 0; i < m_runners.size(); ++i) {
        HealthProbeRunner &runner = *m_runners[i];
        if (runner.busy()) {
            // The previous probe never returned: report it without piling up another one.
            m_results[i] = HealthResult{
                HealthStatus::Unhealthy, QStringLiteral("timed out (previous check still running)"),
                double(m_options.checkTimeoutMs), QDateTime::currentDateTimeUtc()};
            continue;
        }
        runner.start([self = QPointer<HealthChecker>(this), round, i](HealthResult r) {
            if (!self)
                return;  // a probe that outlived the checker (abandoned at shutdown)
            QMetaObject::invokeMethod(self.data(), [self, round, i, r = std::move(r)]() mutable {
                if (self)
                    self->onProbeResult(round, i, std::move(r));
            });
        });
    }
    QTimer::singleShot(m_options.checkTimeoutMs, this, [this, round] { finishRound(round); });
    onProbeResult(round, m_runners.size(), {});  // finishes at once when every result is known
}

void HealthChecker::onProbeResult(quint64 round, size_t index, HealthResult result)
{
    if (round != m_round || !m_roundRunning)
        return;  // a late answer from a round that already timed out
    if (index < m_results.size())
        m_results[index] = std::move(result);
    for (const auto &r : m_results) {
        if (!r)
            return;
    }
    finishRound(round);
}

void HealthChecker::finishRound(quint64 round)
{
    if (round != 0) {
        if (round != m_round || !m_roundRunning)
            return;
        m_roundRunning = false;
        auto report = std::make_shared<HealthReport>();
        report->checkedAt = QDateTime::currentDateTimeUtc();
        report->monotonicMs = monotonicMs();
        const ReportPtr previous = latest();
        for (size_t i = 0; i < m_runners.size(); ++i) {
            const HealthCheck &check = m_runners[i]->check();
            HealthResult r = m_results[i].value_or(
                HealthResult{HealthStatus::Unhealthy,
                             QStringLiteral("timed out after %1 ms").arg(m_options.checkTimeoutMs),
                             double(m_options.checkTimeoutMs), report->checkedAt});
            const ComponentHealth *before = previous ? previous->component(check.name()) : nullptr;
            if (!before || before->result.status != r.status) {
                const QString line =
                    QStringLiteral("component %1 is %2%3")
                        .arg(check.name(), healthStatusName(r.status),
                             r.message.isEmpty() ? QString() : QStringLiteral(": ") + r.message);
                if (r.status == HealthStatus::Healthy)
                    qCInfo(lcHealth).noquote() << line;
                else
                    qCWarning(lcHealth).noquote() << line;
            }
            report->components.append({check.name(), check.type(), check.critical(), std::move(r)});
        }
        report->overall = HealthReport::aggregate(report->components);
        {
            QMutexLocker lock(&m_latestMutex);
            m_latest = report;
        }
        emit reportReady(report);
    }
    const ReportPtr current = latest();
    for (Waiter &w : std::exchange(m_waiters, {})) {
        if (!w.context)
            continue;
        QMetaObject::invokeMethod(w.context.data(),
                                  [done = std::move(w.done), current] { done(current); });
    }
}

}  // namespace sluice
