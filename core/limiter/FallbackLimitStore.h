#pragma once

#include "LimitStore.h"

#include <QMutex>
#include <QObject>
#include <QTimer>
#include <atomic>
#include <memory>

namespace sluice {

class MemoryLimitStore;
class MetricsRegistry;
class RedisConnection;
class RedisLimitStore;
struct RedisMetrics;

// Redis first, memory when Redis fails. A Redis error or timeout switches every worker to the
// in-memory store at once (fail-open; with fail_closed the request is refused with 503
// instead), and a probe on this object's thread PINGs Redis with exponential backoff (250 ms
// doubling to 5 s) until it answers, then switches back and emits redisRecovered() (the
// gateway rebuilds the monthly counters a flushed or restarted Redis lost).
// Lives on the main thread; decide() and settle() are called from the workers.
class FallbackLimitStore final : public QObject, public LimitStore
{
    Q_OBJECT
public:
    struct Options
    {
        bool failClosed = false;
        int firstProbeMs = 250;
        int maxProbeMs = 5000;
    };
    FallbackLimitStore(std::unique_ptr<RedisLimitStore> redis,
                       std::unique_ptr<MemoryLimitStore> memory, Options options,
                       RedisMetrics &redisMetrics, MetricsRegistry &metrics,
                       QObject *parent = nullptr);
    ~FallbackLimitStore() override;

    const char *name() const override { return "redis"; }
    void decide(const LimitRequest &request, Done done) override;
    void settle(const LimitSettlement &settlement) override;
    void seedMonthly(const LimitRule &rule, double used) override;
    void release(const std::vector<LimitRule> &rules, const char *store) override;
    // The in-memory store's entries plus the keys Redis held at the last probe (DBSIZE of the
    // selected database).
    qint64 activeKeys() const override;

    bool fallbackActive() const { return m_fallback.load(std::memory_order_acquire); }
    QByteArray fallbackReason() const;

signals:
    void fallbackChanged(bool active);
    void redisRecovered();

private:
    void enterFallback(const QByteArray &why);  // any thread
    void decideLocally(const LimitRequest &request, const Done &done);
    void startProbing();
    void probe();
    void refreshKeyCount();
    void markSeeded();

    std::unique_ptr<RedisLimitStore> m_redis;
    std::unique_ptr<MemoryLimitStore> m_memory;
    Options m_options;
    RedisMetrics &m_redisMetrics;
    std::unique_ptr<RedisConnection> m_probe;  // this thread's own connection
    std::atomic<bool> m_fallback{false};
    std::atomic<qint64> m_redisKeys{0};
    mutable QMutex m_reasonMutex;
    QByteArray m_reason;
    QTimer m_probeTimer;
    QTimer m_keysTimer;
    int m_probeDelayMs = 0;
};

}  // namespace sluice
