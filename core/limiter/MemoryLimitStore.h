#pragma once

#include "LimitStore.h"

#include <QHash>
#include <memory>
#include <mutex>

namespace sluice {

// Limit state of one gateway, shared by every worker. Sharded by the hash of the store key,
// each shard behind its own mutex: workers only contend when their principals share a shard,
// and a decision locks just the shards of its rules (in ascending order, so never deadlocks).
// An entry is 32 bytes under a 64-bit key hash; idle entries are swept as their shard is used.
class MemoryLimitStore final : public LimitStore
{
public:
    explicit MemoryLimitStore(int shardBits = 6);
    ~MemoryLimitStore() override;

    const char *name() const override { return "memory"; }
    void decide(const LimitRequest &request, Done done) override;
    void settle(const LimitSettlement &settlement) override;
    qint64 activeKeys() const override;
    void seedMonthly(const LimitRule &rule, double used) override;
    void release(const std::vector<LimitRule> &rules, const char *store = nullptr) override;

    // The same with the time given, for tests with a fake clock and for benchmarks.
    LimitDecision decideAt(const LimitRequest &request, qint64 nowUs);
    void settleAt(const LimitSettlement &settlement, qint64 nowUs);
    // Drops every entry that is back at its initial state by `nowUs`. Returns how many.
    qint64 evictIdle(qint64 nowUs);

    // seedMonthly() for the month holding `nowUs`.
    void seedMonthly(const LimitRule &rule, double used, qint64 nowUs);

    static qint64 nowUs();  // wall clock, epoch µs

private:
    struct Cell
    {
        qint64 stamp = 0;  // GCRA: TAT; window: window start; month: month index
        double current = 0;
        double previous = 0;
        qint64 expiresUs = 0;  // the entry is back to its initial state at this time
    };
    struct Shard;

    Shard &shardOf(quint64 hash) const;
    static quint64 hashOf(const QByteArray &key);
    static void sweep(Shard &shard, qint64 nowUs);

    int m_shardBits;
    std::unique_ptr<Shard[]> m_shards;
};

}  // namespace sluice
