#pragma once

#include "LimitStore.h"
#include "RedisConnection.h"

#include <QHash>
#include <QThreadStorage>

namespace sluice {

struct RedisMetrics;

// Limit state shared by every gateway on one Redis. One EVALSHA of LimitScripts::decide()
// per request checks all of its rules atomically with Redis TIME. Each worker thread has its own
// connection (created on first use, driven by that thread's event loop). After a SCRIPT FLUSH or
// a Redis restart, EVALSHA answers NOSCRIPT: that request is sent again with EVAL, which loads
// the script for the next ones.
//
// A denial is remembered on its thread until the time it names (a token limit's for at most a
// second, or until this thread settles tokens back: settlements lift those early): the same
// principal hammering on is answered from that memory without a round trip, so Redis load stays
// flat under abuse.
// Errors and timeouts come back as a decision with `failed` set (FallbackLimitStore decides
// from memory then).
class RedisLimitStore final : public LimitStore
{
public:
    struct Options
    {
        RedisUrl url;
        int timeoutMs = 50;
        QByteArray keyPrefix = "sluice:";  // every key of ours starts with it
    };
    RedisLimitStore(Options options, RedisMetrics &metrics);
    ~RedisLimitStore() override;

    const char *name() const override { return "redis"; }
    void decide(const LimitRequest &request, Done done) override;
    void settle(const LimitSettlement &settlement) override;
    void seedMonthly(const LimitRule &rule, double used) override;
    void release(const std::vector<LimitRule> &rules, const char *store = nullptr) override;
    qint64 activeKeys() const override { return 0; }  // counted by FallbackLimitStore

    const Options &options() const { return m_options; }
    // The KEYS and ARGV of LimitScripts::decide() for `request` (bench/redis_bench.cpp sends
    // the same command through redis-benchmark).
    static void decideArguments(const LimitRequest &request, const QByteArray &keyPrefix,
                                QList<QByteArray> *keys, QList<QByteArray> *args);

private:
    struct CachedDenial
    {
        qint64 atUs = 0;     // when Redis denied (local wall clock)
        qint64 untilUs = 0;  // answered from here until then: the denial's wait, or less
        double cost = 0;
        double tokens = 0;
        LimitDecision decision;
    };
    struct ThreadState
    {
        std::unique_ptr<RedisConnection> connection;
        QHash<QByteArray, CachedDenial> denials;  // by the denying rule's key
    };

    ThreadState &state();
    void evalScript(const QByteArray &script, const QByteArray &sha, const QList<QByteArray> &keys,
                    const QList<QByteArray> &args, RedisConnection::Callback callback);
    LimitDecision parse(const LimitRequest &request, const redisReply *reply) const;
    bool answerFromDenials(ThreadState &state, const LimitRequest &request, const Done &done);
    void rememberDenial(ThreadState &state, const LimitRequest &request, const LimitDecision &d);

    Options m_options;
    RedisMetrics &m_metrics;
    QByteArray m_decideSha;
    QByteArray m_settleSha;
    QByteArray m_seedSha;
    QByteArray m_releaseSha;
    QThreadStorage<ThreadState *> m_threads;
};

}  // namespace sluice
