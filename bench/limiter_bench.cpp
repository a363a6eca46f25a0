// Micro-benchmarks of the memory rate-limit store (core/limiter/MemoryLimitStore): decisions
// per second with the default rules of an API key and its user, the latency of one decision
// with a single GCRA rule, and the memory a million active keys take. bench/limiter.sh builds
// and runs it; docs/performance.md ("Rate limiter: memory store") has the results.
//
// Clock: every benchmark calls decideAt() with a computed clock, never the wall clock, so that
// decisions are allowed and take the same path in every run (a wall clock at millions of
// decisions per second on one key would deny nearly all of them, and a denial skips the
// writes). The clock starts at 2025-01-01 00:00 UTC and advances by a fixed step per decision
// (the steps below). Two threads on one key share an atomic tick counter, so their clock stays
// common; BM_SharedClockOnly measures what that counter costs on its own. A thread preempted
// between taking its tick and deciding comes back thousands of ticks late and may be denied:
// the `allowed` counter shows the share of allowed decisions. The gateway's decide() reads
// std::chrono::system_clock instead (about 23 ns on the machine of docs/performance.md).
//
// Ids are fixed width ("{k:0000042}:rps") so that the benchmarks switch keys by rewriting the
// digits in place: choosing a key costs a few ns and touches no memory outside the store.

#include "Limiter.h"
#include "MemoryLimitStore.h"

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>

namespace {

using namespace sluice;

constexpr qint64 kT0 = 1'735'689'600'000'000;  // 2025-01-01 00:00:00 UTC in epoch µs
constexpr int kIdDigits = 7;
constexpr quint32 kSpreadKeys = 100'000;
constexpr quint32 kMillion = 1'000'000;

// One key decided once a second: within every default limit, and the rate rules start from a
// full bucket each time. Also the step of the shared clock of two threads on that key.
constexpr qint64 kSameKeyStepUs = 1'000'000;
// Many keys, each thread's clock: a key comes round again every 100,000 / threads decisions,
// that is every 10-20 simulated seconds, so its per-minute and monthly state is live.
constexpr qint64 kSpreadStepUs = 200;
// One key with one GCRA rule of 50/s: 40 decisions per simulated second, always allowed.
constexpr qint64 kGcraStepUs = 25'000;
// A million random keys: a key comes round about once per simulated second; at 0.1/s with a
// burst of 100 its entry stays live (10 s after each decision, so it is practically never swept)
// and every decision is allowed for the first ~100 million decisions.
constexpr qint64 kRandomStepUs = 1;

// Built-in key defaults (50/s, burst 100).
EffectiveLimits keyLimits()
{
    EffectiveLimits l;
    l.requestsPerSecond = 50;
    l.burst = 100;
    return l;
}

// Built-in user defaults (100/s, burst 200) plus a per-minute and a monthly request limit.
EffectiveLimits userLimits()
{
    EffectiveLimits l;
    l.requestsPerSecond = 100;
    l.burst = 200;
    l.requestsPerMinute = 3000;
    l.monthlyRequests = 10'000'000;
    return l;
}

QByteArray paddedId(quint32 id)
{
    return QByteArray::number(id).rightJustified(kIdDigits, '0');
}

// What Limiter::rulesFor gives a key and its user with the limits above, on a route that
// counts no tokens: 4 rules (key-rps, user-rps, user-rpm, user-monthly-requests).
LimitRequest defaultRequest(quint32 id)
{
    LimitSubject s;
    s.keyId = paddedId(id);
    s.userId = paddedId(id);
    s.tier = "free";
    s.keyLimits = keyLimits();
    s.userLimits = userLimits();
    LimitRequest r;
    r.rules = Limiter::rulesFor(s, false);
    return r;
}

// A key with one GCRA rule (its user unlimited): the cheapest decision there is.
LimitRequest gcraRequest(quint32 id, double perSecond, qint64 burst)
{
    LimitSubject s;
    s.keyId = paddedId(id);
    s.userId = paddedId(id);
    s.keyLimits.requestsPerSecond = perSecond;
    s.keyLimits.burst = burst;
    LimitRequest r;
    r.rules = Limiter::rulesFor(s, false);
    return r;
}

// Writes `id` into every rule key of `r` in place ("{k:0000042}:rps", "{u:0000042}:rpm"). The
// keys are not shared (the decision that copied them is gone), so data() copies nothing.
void setId(LimitRequest &r, quint32 id)
{
    char digits[kIdDigits];
    for (int i = kIdDigits - 1; i >= 0; --i) {
        digits[i] = char('0' + id % 10);
        id /= 10;
    }
    for (LimitRule &rule : r.rules)
        std::memcpy(rule.key.data() + 3, digits, kIdDigits);  // after "{k:" or "{u:"
}

void setResults(benchmark::State &state, qint64 allowed)
{
    state.SetItemsProcessed(state.iterations());
    // Share of allowed decisions (1 = every decision took the full path, as intended).
    state.counters["allowed"] = benchmark::Counter(double(allowed) / double(state.iterations()),
                                                   benchmark::Counter::kAvgThreads);
}

std::unique_ptr<MemoryLimitStore> g_store;
std::atomic<qint64> g_ticks{0};

// (a) One API key, default rules; with two threads both decide on that same key and user, so
// they contend for the same shard locks and cache lines.
void BM_DefaultRules_SameKey(benchmark::State &state)
{
    if (state.thread_index() == 0) {
        g_store = std::make_unique<MemoryLimitStore>();
        g_ticks = 0;
    }
    // Each thread builds its own rules, as each gateway request does.
    LimitRequest request = defaultRequest(1);
    qint64 allowed = 0;
    for (auto _ : state) {
        setId(request, 1);
        const qint64 now = kT0 + g_ticks.fetch_add(1, std::memory_order_relaxed) * kSameKeyStepUs;
        const LimitDecision d = g_store->decideAt(request, now);
        allowed += d.allowed;
    }
    setResults(state, allowed);
    if (state.thread_index() == 0) {
        state.counters["entries"] = double(g_store->activeKeys());
        g_store.reset();
    }
}
BENCHMARK(BM_DefaultRules_SameKey)->Threads(1)->Threads(2)->UseRealTime();

// (a) 100,000 API keys (each with a user of its own), default rules, filled before timing.
// Thread t of n takes keys t, t+n, t+2n, ... in turn: no two threads share a key.
void BM_DefaultRules_SpreadKeys(benchmark::State &state)
{
    if (state.thread_index() == 0) {
        g_store = std::make_unique<MemoryLimitStore>();
        LimitRequest r = defaultRequest(0);
        for (quint32 id = 0; id < kSpreadKeys; ++id) {
            setId(r, id);
            g_store->decideAt(r, kT0 - 1'000'000);
        }
    }
    LimitRequest request = defaultRequest(0);
    const quint32 first = quint32(state.thread_index());
    const quint32 stride = quint32(state.threads());
    quint32 id = first;
    qint64 now = kT0;
    qint64 allowed = 0;
    for (auto _ : state) {
        setId(request, id);
        const LimitDecision d = g_store->decideAt(request, now);
        allowed += d.allowed;
        now += kSpreadStepUs;
        id += stride;
        if (id >= kSpreadKeys)
            id = first;
    }
    setResults(state, allowed);
    if (state.thread_index() == 0) {
        state.counters["entries"] = double(g_store->activeKeys());
        g_store.reset();
    }
}
BENCHMARK(BM_DefaultRules_SpreadKeys)->Threads(1)->Threads(2)->UseRealTime();

// What the shared tick counter of BM_DefaultRules_SameKey costs alone.
void BM_SharedClockOnly(benchmark::State &state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(g_ticks.fetch_add(1, std::memory_order_relaxed));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedClockOnly)->Threads(1)->Threads(2)->UseRealTime();

// (c) One decideAt on one key with a single GCRA rule: the store's fixed cost (its state is
// in cache).
void BM_SingleGcra_OneKey(benchmark::State &state)
{
    MemoryLimitStore store;
    LimitRequest request = gcraRequest(1, 50, 100);
    qint64 now = kT0;
    qint64 allowed = 0;
    for (auto _ : state) {
        setId(request, 1);
        const LimitDecision d = store.decideAt(request, now);
        allowed += d.allowed;
        now += kGcraStepUs;
    }
    setResults(state, allowed);
    state.counters["entries"] = double(store.activeKeys());
}
BENCHMARK(BM_SingleGcra_OneKey);

// (c) The same at a million live keys taken in random order: the state is rarely in cache.
// The store is filled once (outside timing) and kept for every run of this benchmark.
void BM_SingleGcra_1MRandomKeys(benchmark::State &state)
{
    static MemoryLimitStore *store = nullptr;
    static qint64 now = kT0;
    static quint64 rng = 0x9E3779B97F4A7C15ULL;
    if (!store) {
        store = new MemoryLimitStore;  // lives until exit
        LimitRequest r = gcraRequest(0, 0.1, 100);
        for (quint32 id = 0; id < kMillion; ++id) {
            setId(r, id);
            store->decideAt(r, now);
        }
    }
    LimitRequest request = gcraRequest(0, 0.1, 100);
    qint64 allowed = 0;
    for (auto _ : state) {
        rng ^= rng << 13;  // xorshift64
        rng ^= rng >> 7;
        rng ^= rng << 17;
        setId(request, quint32(((rng >> 32) * kMillion) >> 32));
        now += kRandomStepUs;
        const LimitDecision d = store->decideAt(request, now);
        allowed += d.allowed;
    }
    setResults(state, allowed);
    state.counters["entries"] = double(store->activeKeys());
}
BENCHMARK(BM_SingleGcra_1MRandomKeys);

// What MemoryLimitStore::hashOf used to do to each rule key (two seeded qHash calls over its
// text), next to one std::hash over the same bytes, which it does now (plus a finalizer): on
// machines where Qt 6.4's AES hash of short byte strings is slow (docs/performance.md), the old
// hash was most of a decision.
void BM_QtSeededHashOfRuleKey(benchmark::State &state)
{
    const QByteArray key = "{u:0000001}:rpm";
    for (auto _ : state) {
        benchmark::DoNotOptimize(key.constData());
        const quint64 h = qHash(QByteArrayView(key), size_t(0x9E3779B97F4A7C15ULL));
        benchmark::DoNotOptimize(
            h ^ (quint64(qHash(QByteArrayView(key), size_t(0xC2B2AE3D27D4EB4FULL))) << 1));
    }
}
BENCHMARK(BM_QtSeededHashOfRuleKey);

void BM_StdHashOfRuleKey(benchmark::State &state)
{
    const QByteArray key = "{u:0000001}:rpm";
    for (auto _ : state) {
        benchmark::DoNotOptimize(key.constData());
        benchmark::DoNotOptimize(
            std::hash<std::string_view>{}(std::string_view(key.constData(), size_t(key.size()))));
    }
}
BENCHMARK(BM_StdHashOfRuleKey);

// ---- memory --------------------------------------------------------------------------------

qint64 rssBytes()  // resident set size, from /proc/self/statm (pages)
{
    long pages = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%*d %ld", &pages) != 1)
            pages = 0;
        std::fclose(f);
    }
    return qint64(pages) * sysconf(_SC_PAGESIZE);
}

qint64 peakRssBytes()  // VmHWM from /proc/self/status; -1 when unreadable
{
    qint64 kb = -1;
    if (FILE *f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f)) {
            long long v = 0;
            if (std::sscanf(line, "VmHWM: %lld kB", &v) == 1) {
                kb = v;
                break;
            }
        }
        std::fclose(f);
    }
    return kb < 0 ? -1 : kb * 1024;
}

bool resetPeakRss()  // VmHWM := current RSS (Linux >= 4.0)
{
    FILE *f = std::fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    const bool ok = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && ok;
}

qint64 heapBytes()  // bytes malloc has handed out and not got back (chunk headers included)
{
    const struct mallinfo2 m = mallinfo2();
    return qint64(m.uordblks + m.hblkhd);
}

// (b) A million keys at once, all live (decided at one instant, so nothing is swept).
// single_gcra: one API key with a single GCRA rule each: 1M store entries.
// default_rules: one API key and its own user each, default rules: 1M pairs, 4M store entries.
// RSS growth counts every page the store touched, including what malloc keeps free after the
// hash tables grew; heap growth counts only what is still allocated. Run it in a process of its
// own (limiter.sh does): memory freed by earlier benchmarks would be reused and hide growth.
void BM_Memory_1MKeys(benchmark::State &state, bool pairs)
{
    for (auto _ : state) {
        const bool peakOk = resetPeakRss();
        const qint64 rss0 = rssBytes();
        const qint64 heap0 = heapBytes();
        auto store = std::make_unique<MemoryLimitStore>();
        LimitRequest r = pairs ? defaultRequest(0) : gcraRequest(0, 50, 100);
        for (quint32 id = 0; id < kMillion; ++id) {
            setId(r, id);
            benchmark::DoNotOptimize(store->decideAt(r, kT0).allowed);
        }
        const qint64 rss = rssBytes() - rss0;
        const qint64 heap = heapBytes() - heap0;
        const qint64 peak = peakOk ? peakRssBytes() - rss0 : -1;
        const double entries = double(store->activeKeys());
        state.counters["keys"] = kMillion;
        state.counters["entries"] = entries;
        state.counters["rss_MB"] = double(rss) / 1e6;
        state.counters["peak_rss_MB"] = peak < 0 ? -1 : double(peak) / 1e6;
        state.counters["B_per_key"] = double(rss) / kMillion;
        state.counters["B_per_entry"] = double(rss) / entries;
        state.counters["heap_B_per_entry"] = double(heap) / entries;
    }
}
BENCHMARK_CAPTURE(BM_Memory_1MKeys, single_gcra, false)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Memory_1MKeys, default_rules, true)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
