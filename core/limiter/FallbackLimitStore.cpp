#include "FallbackLimitStore.h"

#include "LogCategories.h"
#include "MemoryLimitStore.h"
#include "MetricsRegistry.h"
#include "RedisConnection.h"
#include "RedisLimitStore.h"

#include <hiredis/hiredis.h>
#include <QMutexLocker>

namespace sluice {

FallbackLimitStore::FallbackLimitStore(std::unique_ptr<RedisLimitStore> redis,
                                       std::unique_ptr<MemoryLimitStore> memory, Options options,
                                       RedisMetrics &redisMetrics, MetricsRegistry &metrics,
                                       QObject *parent)
    : QObject(parent),
      m_redis(std::move(redis)),
      m_memory(std::move(memory)),
      m_options(options),
      m_redisMetrics(redisMetrics)
{
    // Probes get a more patient timeout than decisions: they only ask whether Redis is back.
    m_probe = std::make_unique<RedisConnection>(
        RedisConnection::Options{m_redis->options().url,
                                 std::max(250, m_redis->options().timeoutMs),
                                 std::max(250, m_redis->options().timeoutMs), false},
        &m_redisMetrics);
    m_probeTimer.setSingleShot(true);
    connect(&m_probeTimer, &QTimer::timeout, this, &FallbackLimitStore::probe);
    connect(&m_keysTimer, &QTimer::timeout, this, &FallbackLimitStore::refreshKeyCount);
    m_keysTimer.start(10000);
    metrics.addCallbackGauge(
        "gateway_rate_limit_fallback_active",
        "1 while rate limits are decided from memory because Redis is "
        "unreachable (or refused, with fail_closed), else 0.",
        {}, [this] {
            return QList<MetricsRegistry::Sample>{{{}, fallbackActive() ? 1.0 : 0.0}};
        });
    QMetaObject::invokeMethod(this, &FallbackLimitStore::refreshKeyCount, Qt::QueuedConnection);
}

FallbackLimitStore::~FallbackLimitStore() = default;

QByteArray FallbackLimitStore::fallbackReason() const
{
    QMutexLocker lock(&m_reasonMutex);
    return m_reason;
}

qint64 FallbackLimitStore::activeKeys() const
{
    return m_memory->activeKeys() + m_redisKeys.load(std::memory_order_relaxed);
}

void FallbackLimitStore::decideLocally(const LimitRequest &request, const Done &done)
{
    if (m_options.failClosed) {
        LimitDecision d;
        d.store = "redis";
        d.allowed = false;
        d.unavailable = true;
        d.rules = request.rules;
        d.error = fallbackReason();
        done(std::move(d));
        return;
    }
    done(m_memory->decideAt(request, MemoryLimitStore::nowUs()));
}

void FallbackLimitStore::decide(const LimitRequest &request, Done done)
{
    if (fallbackActive()) {
        decideLocally(request, done);
        return;
    }
    m_redis->decide(request, [this, request, done = std::move(done)](LimitDecision d) {
        if (!d.failed) {
            done(std::move(d));
            return;
        }
        enterFallback(d.error);
        decideLocally(request, done);
    });
}

void FallbackLimitStore::settle(const LimitSettlement &settlement)
{
    // A reservation is settled where it was made.
    if (qstrcmp(settlement.store, "memory") == 0)
        m_memory->settle(settlement);
    else if (!fallbackActive())
        m_redis->settle(settlement);
}

void FallbackLimitStore::release(const std::vector<LimitRule> &rules, const char *store)
{
    if (qstrcmp(store, "memory") == 0)
        m_memory->release(rules);
    else
        m_redis->release(rules);  // lost while Redis is away: the slots expire by themselves
}

void FallbackLimitStore::seedMonthly(const LimitRule &rule, double used)
{
    m_memory->seedMonthly(rule, used);  // so the fallback knows the month too
    m_redis->seedMonthly(rule, used);
}

void FallbackLimitStore::enterFallback(const QByteArray &why)
{
    {
        QMutexLocker lock(&m_reasonMutex);
        m_reason = why;
    }
    if (m_fallback.exchange(true, std::memory_order_acq_rel))
        return;  // another worker got there first
    qCWarning(lcGateway).noquote()
        << "redis rate-limit store failed (" + QString::fromUtf8(why) + "):"
        << (m_options.failClosed ? "refusing limited requests with 503 (fail_closed)"
                                 : "deciding from memory until it answers again");
    QMetaObject::invokeMethod(this, &FallbackLimitStore::startProbing, Qt::QueuedConnection);
}

void FallbackLimitStore::startProbing()
{
    emit fallbackChanged(true);
    m_probeDelayMs = m_options.firstProbeMs;
    m_probeTimer.start(m_probeDelayMs);
}

void FallbackLimitStore::probe()
{
    m_probe->command({"PING"}, "ping", [this](const redisReply *reply, const QByteArray &error) {
        if (reply && reply->type == REDIS_REPLY_STATUS) {
            {
                QMutexLocker lock(&m_reasonMutex);
                m_reason.clear();  // fallbackReason(): why it is on the fallback, or empty
            }
            m_fallback.store(false, std::memory_order_release);
            qCInfo(lcGateway) << "redis answers again: rate limits are decided on redis";
            emit fallbackChanged(false);
            emit redisRecovered();
            // The counters are seeded now: marked before the key count asks, so a Redis that
            // came back empty does not ask for them a second time.
            markSeeded();
            refreshKeyCount();
            return;
        }
        {
            QMutexLocker lock(&m_reasonMutex);
            m_reason = error;
        }
        m_probeDelayMs = std::min(m_probeDelayMs * 2, m_options.maxProbeMs);
        m_probeTimer.start(m_probeDelayMs);
    });
}

void FallbackLimitStore::refreshKeyCount()
{
    if (fallbackActive())
        return;
    m_probe->command({"DBSIZE"}, "dbsize", [this](const redisReply *reply, const QByteArray &) {
        if (reply && reply->type == REDIS_REPLY_INTEGER)
            m_redisKeys.store(reply->integer, std::memory_order_relaxed);
    });
    // A Redis that restarted or was flushed between two requests never failed a decision, yet
    // lost the monthly counters: a marker key tells. Missing, the gateway seeds them again.
    const QByteArray marker = m_redis->options().keyPrefix + "seeded";
    m_probe->command({"EXISTS", marker}, "exists",
                     [this](const redisReply *reply, const QByteArray &) {
                         if (!reply || reply->type != REDIS_REPLY_INTEGER || reply->integer != 0)
                             return;
                         emit redisRecovered();
                         markSeeded();
                     });
}

void FallbackLimitStore::markSeeded()
{
    m_probe->command({"SET", m_redis->options().keyPrefix + "seeded", "1"}, "set",
                     [](const redisReply *, const QByteArray &) {});
}

}  // namespace sluice
