#include "MemoryLimitStore.h"

#include "CalendarMonth.h"
#include "Gcra.h"
#include "SlidingWindow.h"

#include <QHashFunctions>
#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>

namespace sluice {
namespace {

constexpr qint64 kMinuteUs = 60'000'000;
constexpr quint32 kSweepEvery = 4096;  // decisions per shard between sweeps

}  // namespace

struct alignas(64) MemoryLimitStore::Shard
{
    std::mutex mutex;
    QHash<quint64, Cell> cells;
    quint32 opsSinceSweep = 0;
};

MemoryLimitStore::MemoryLimitStore(int shardBits)
    : m_shardBits(std::clamp(shardBits, 0, 12)), m_shards(new Shard[size_t(1) << m_shardBits])
{}

MemoryLimitStore::~MemoryLimitStore() = default;

qint64 MemoryLimitStore::nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

quint64 MemoryLimitStore::hashOf(const QByteArray &key)
{
    // A 64-bit hash stands for the key, so the key text need not be stored: collisions among
    // millions of keys are vanishingly rare. libstdc++'s hash rather than Qt's: Qt 6.4's seeded
    // byte hash measured 276 ns per short key here (AVX/SSE transition stalls on this kind of
    // VM, see docs/performance.md) against 7 ns.
    const quint64 h =
        std::hash<std::string_view>{}(std::string_view(key.constData(), size_t(key.size())));
    // Mixed (splitmix64's finalizer) so the top bits that pick the shard are well spread.
    quint64 z = h + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

MemoryLimitStore::Shard &MemoryLimitStore::shardOf(quint64 hash) const
{
    return m_shards[m_shardBits ? hash >> (64 - m_shardBits) : 0];
}

void MemoryLimitStore::sweep(Shard &shard, qint64 nowUs)
{
    for (auto it = shard.cells.begin(); it != shard.cells.end();) {
        if (it->expiresUs <= nowUs)
            it = shard.cells.erase(it);
        else
            ++it;
    }
    shard.opsSinceSweep = 0;
}

void MemoryLimitStore::decide(const LimitRequest &request, Done done)
{
    done(decideAt(request, nowUs()));
}

LimitDecision MemoryLimitStore::decideAt(const LimitRequest &request, qint64 now)
{
    LimitDecision d;
    d.nowUs = now;
    d.rules = request.rules;
    d.cost = request.cost;
    d.tokenEstimate = request.tokenEstimate;
    const size_t n = request.rules.size();
    d.statuses.resize(n);
    if (n == 0)
        return d;

    // Lock every shard involved, once each, in address order.
    std::vector<quint64> hashes(n);
    std::vector<Shard *> shards(n);
    for (size_t i = 0; i < n; ++i) {
        hashes[i] = hashOf(request.rules[i].key);
        shards[i] = &shardOf(hashes[i]);
    }
    std::vector<Shard *> order = shards;
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    for (Shard *s : order)
        s->mutex.lock();

    std::vector<Cell> next(n);
    // The denial the answer names: a rule the request never fits (waiting will not help),
    // else the longest wait.
    std::pair<bool, qint64> worst{false, -1};
    for (size_t i = 0; i < n; ++i) {
        const LimitRule &rule = request.rules[i];
        LimitStatus &st = d.statuses[i];
        st.rule = int(i);
        const Cell cell = shards[i]->cells.value(hashes[i]);
        Cell &out = next[i];
        const double cost = rule.countsTokens() ? request.tokenEstimate : request.cost;
        switch (rule.kind) {
            case LimitKind::RequestRate: {
                const Gcra::Policy policy{rule.limit, rule.burst};
                const Gcra::Result r = Gcra::take(cell.stamp, now, policy, cost);
                st.allowed = r.allowed;
                st.remaining = r.remaining;
                st.resetUs = r.resetUs;
                st.retryAfterUs = r.retryAfterUs;
                st.neverFits = cost > std::max(1.0, rule.burst);
                out.stamp = r.tat;
                out.expiresUs = r.tat;
                break;
            }
            case LimitKind::RequestsPerMinute:
            case LimitKind::TokensPerMinute: {
                const SlidingWindow::State state{cell.stamp, cell.current, cell.previous};
                const SlidingWindow::Result r =
                    SlidingWindow::take(state, now, kMinuteUs, rule.limit, cost);
                st.allowed = r.allowed;
                st.remaining = r.remaining;
                st.resetUs = r.resetUs;
                st.retryAfterUs = r.retryAfterUs;
                st.neverFits = r.neverFits;
                out = {r.state.windowStartUs, r.state.current, r.state.previous,
                       r.state.windowStartUs + 2 * kMinuteUs};
                break;
            }
            case LimitKind::Concurrency: {
                // One slot per request whatever its cost; released when the answer ends.
                st.allowed = cell.current + 1 <= rule.limit + 1e-9;
                st.remaining = std::max(
                    0.0, std::floor(rule.limit - cell.current - (st.allowed ? 1 : 0) + 1e-9));
                st.resetUs = 0;
                st.retryAfterUs = st.allowed ? 0 : 1'000'000;  // no telling: try in a second
                st.neverFits = false;
                out = {0, cell.current + 1, 0, std::numeric_limits<qint64>::max()};
                break;
            }
            case LimitKind::MonthlyRequests:
            case LimitKind::MonthlyTokens: {
                const qint64 month = CalendarMonth::indexOf(now);
                const double used = cell.stamp == month ? cell.current : 0;
                const qint64 next = CalendarMonth::startUs(month + 1);
                st.allowed = used + cost <= rule.limit + 1e-9;
                st.remaining =
                    std::max(0.0, std::floor(rule.limit - used - (st.allowed ? cost : 0) + 1e-9));
                st.resetUs = next - now;
                st.retryAfterUs = st.allowed ? 0 : next - now;
                st.neverFits = !st.allowed;
                out = {month, used + cost, 0, next};
                break;
            }
        }
        if (!st.allowed) {
            d.allowed = false;
            // The wait that matters is the longest: every denying rule has to recover.
            const std::pair<bool, qint64> rank{st.neverFits, st.retryAfterUs};
            if (rank > worst) {
                worst = rank;
                d.denied = int(i);
            }
        }
    }
    if (d.allowed) {
        for (size_t i = 0; i < n; ++i)
            shards[i]->cells.insert(hashes[i], next[i]);
    }
    for (Shard *s : order) {
        if (++s->opsSinceSweep >= kSweepEvery)
            sweep(*s, now);
        s->mutex.unlock();
    }
    return d;
}

void MemoryLimitStore::release(const std::vector<LimitRule> &rules, const char *)
{
    for (const LimitRule &rule : rules) {
        if (rule.kind != LimitKind::Concurrency)
            continue;
        const quint64 hash = hashOf(rule.key);
        Shard &shard = shardOf(hash);
        std::lock_guard lock(shard.mutex);
        auto it = shard.cells.find(hash);
        if (it == shard.cells.end())
            continue;
        if (it->current <= 1)
            shard.cells.erase(it);
        else
            it->current -= 1;
    }
}

void MemoryLimitStore::settle(const LimitSettlement &settlement)
{
    settleAt(settlement, nowUs());
}

void MemoryLimitStore::settleAt(const LimitSettlement &settlement, qint64 now)
{
    if (settlement.tokenDelta == 0)
        return;
    for (const LimitRule &rule : settlement.rules) {
        if (!rule.countsTokens())
            continue;
        const quint64 hash = hashOf(rule.key);
        Shard &shard = shardOf(hash);
        std::lock_guard lock(shard.mutex);
        auto it = shard.cells.find(hash);
        if (it == shard.cells.end())
            continue;  // expired meanwhile: nothing left to correct
        if (rule.kind == LimitKind::TokensPerMinute) {
            const SlidingWindow::State s = SlidingWindow::adjust(
                {it->stamp, it->current, it->previous}, now, kMinuteUs, settlement.tokenDelta);
            *it = {s.windowStartUs, s.current, s.previous, s.windowStartUs + 2 * kMinuteUs};
        } else if (it->stamp == CalendarMonth::indexOf(now)) {
            it->current = std::max(0.0, it->current + settlement.tokenDelta);
        }
    }
}

void MemoryLimitStore::seedMonthly(const LimitRule &rule, double used)
{
    seedMonthly(rule, used, nowUs());
}

void MemoryLimitStore::seedMonthly(const LimitRule &rule, double used, qint64 now)
{
    const quint64 hash = hashOf(rule.key);
    Shard &shard = shardOf(hash);
    std::lock_guard lock(shard.mutex);
    const qint64 month = CalendarMonth::indexOf(now);
    Cell &cell = shard.cells[hash];
    if (cell.stamp != month || cell.current < used)
        cell = {month, used, 0, CalendarMonth::startUs(month + 1)};
}

qint64 MemoryLimitStore::evictIdle(qint64 now)
{
    qint64 dropped = 0;
    for (size_t i = 0; i < (size_t(1) << m_shardBits); ++i) {
        Shard &s = m_shards[i];
        std::lock_guard lock(s.mutex);
        const qsizetype before = s.cells.size();
        sweep(s, now);
        dropped += before - s.cells.size();
    }
    return dropped;
}

qint64 MemoryLimitStore::activeKeys() const
{
    qint64 total = 0;
    for (size_t i = 0; i < (size_t(1) << m_shardBits); ++i) {
        Shard &s = m_shards[i];
        std::lock_guard lock(s.mutex);
        total += s.cells.size();
    }
    return total;
}

}  // namespace sluice
