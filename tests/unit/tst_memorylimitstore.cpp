// The in-memory limit store (all-or-nothing decisions over several rules, token reservations
// settled later, monthly seeds, idle eviction, accuracy under contention) and the Limiter that
// builds a request's rules from a key's and a user's effective limits.
#include "CalendarMonth.h"
#include "CounterFamily.h"
#include "LimitTestRules.h"
#include "Limiter.h"
#include "MemoryLimitStore.h"
#include "MetricsRegistry.h"

#include <QDateTime>
#include <QThread>
#include <QtTest>
#include <atomic>
#include <thread>

using namespace sluice;
using namespace sluice::test;

namespace {

constexpr qint64 kSecond = 1'000'000;
constexpr qint64 kMinute = 60 * kSecond;
// 2024-03-14T15:09:00Z: the start of a minute, mid-month.
constexpr qint64 kT0 = 1'710'428'940'000'000;
static_assert(kT0 % kMinute == 0);

qint64 utcUs(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0)
{
    return QDateTime(QDate(y, m, d), QTime(hh, mm, ss), Qt::UTC).toMSecsSinceEpoch() * 1000;
}

// Negligible refill: a bucket of `burst` that comes back at one request per ~30 years.
LimitRule rps(const QByteArray &key, double burst, double perSecond = 1e-9)
{
    return makeRule(key, LimitKind::RequestRate, perSecond, burst);
}

// What is left of `rule` at `now`, read without changing it: a request larger than the rule
// allows is denied, and a denial commits nothing.
double remainingOf(MemoryLimitStore &store, const LimitRule &rule, qint64 now)
{
    const double tooMuch = rule.quota() + 1;
    const LimitDecision d = store.decideAt(request({rule}, tooMuch, tooMuch), now);
    Q_ASSERT(!d.allowed);
    return d.statuses[0].remaining;
}

LimitSettlement settlement(std::vector<LimitRule> rules, double delta)
{
    LimitSettlement s;
    s.rules = std::move(rules);
    s.tokenDelta = delta;
    return s;
}

EffectiveLimits limits(double perSecond, qint64 burst, qint64 perMinute, qint64 tokensPerMinute,
                       qint64 monthly, qint64 monthlyTok)
{
    EffectiveLimits l;
    l.requestsPerSecond = perSecond;
    l.burst = burst;
    l.requestsPerMinute = perMinute;
    l.tokensPerMinute = tokensPerMinute;
    l.monthlyRequests = monthly;
    l.monthlyTokens = monthlyTok;
    return l;
}

// A store that records settlements and decides with a memory store at a fixed time.
class RecordingStore final : public LimitStore
{
public:
    const char *name() const override { return "recording"; }
    void decide(const LimitRequest &request, Done done) override
    {
        done(memory.decideAt(request, kT0));
    }
    void settle(const LimitSettlement &s) override { settlements.push_back(s); }
    void seedMonthly(const LimitRule &rule, double used) override
    {
        seeds.emplace_back(rule, used);
        memory.seedMonthly(rule, used, kT0);
    }
    void release(const std::vector<LimitRule> &rules, const char *) override
    {
        releases += int(rules.size());
        memory.release(rules);
    }
    qint64 activeKeys() const override { return memory.activeKeys(); }

    MemoryLimitStore memory;
    int releases = 0;
    std::vector<LimitSettlement> settlements;
    std::vector<std::pair<LimitRule, double>> seeds;
};

}  // namespace

class TestMemoryLimitStore : public QObject
{
    Q_OBJECT

private slots:
    // Concurrency: slots taken per request (not scaled by cost), given back by release().
    void concurrencySlotsTakenAndReleased()
    {
        MemoryLimitStore store;
        LimitRule rule;
        rule.key = "{k:1}:concurrency";
        rule.name = "key-concurrency";
        rule.kind = LimitKind::Concurrency;
        rule.limit = 2;
        LimitRequest req;
        req.rules = {rule};
        req.cost = 0.5;
        QVERIFY(store.decideAt(req, kT0).allowed);
        const LimitDecision second = store.decideAt(req, kT0);
        QVERIFY(second.allowed);
        QCOMPARE(second.statuses[0].remaining, 0.0);
        const LimitDecision third = store.decideAt(req, kT0 + 3'600'000'000LL);
        QVERIFY(!third.allowed);  // slots never expire while held
        QCOMPARE(third.denied, 0);
        QVERIFY(third.statuses[0].retryAfterUs > 0);
        QVERIFY(!third.statuses[0].neverFits);
        store.release({rule});
        QVERIFY(store.decideAt(req, kT0).allowed);
        store.release({rule});
        store.release({rule});
        QCOMPARE(store.activeKeys(), 0);
        store.release({rule});  // more releases than slots: nothing goes negative
        QVERIFY(store.decideAt(req, kT0).allowed);
        QVERIFY(store.decideAt(req, kT0).allowed);
        QVERIFY(!store.decideAt(req, kT0).allowed);
    }

    void emptyRequestIsAllowed();
    void decisionDescribesEveryRule();
    void allowedCommitsEveryRule();
    void denialByOneRuleCommitsNothing_data();
    void denialByOneRuleCommitsNothing();
    void deniedNamesTheLongestWait();
    void neverFittingRuleOutranksALongerWait();
    void fractionalCostsShareTheLimits();
    void rateRetryAfterThroughTheStore();
    void tokenReservationSettled();
    void tokenSettlementAcrossTheMinute();
    void settlementIgnoresWhatItShould();
    void monthlyTokensSettledWithinTheMonth();
    void monthlyQuotaDecemberToJanuary();
    void monthlyQuotaLeapFebruary();
    void seedMonthlyNeverLowers();
    void seedMonthlyStartsAFreshMonth();
    void evictIdleDropsOnlyIdleEntries();
    void sweepHappensAsShardsAreUsed();
    void activeKeysCountsEntries();
    void shardBitsAreClamped_data();
    void shardBitsAreClamped();
    void concurrentStdThreadsAllowExactlyTheBurst_data();
    void concurrentStdThreadsAllowExactlyTheBurst();
    void concurrentQThreadsAcrossSeveralRules_data();
    void concurrentQThreadsAcrossSeveralRules();
    void decideWithTheRealClock();

    void limiterRulesNamesAndKeys();
    void limiterBurstDefaultsToOneSecond();
    void limiterTokenRulesOnlyWhenCounted();
    void limiterSkipsUnlimited();
    void limiterRequestForAppliesCost();
    void limiterCheckCountsDecisions();
    void limiterSettleSendsTheDelta();
    void limiterCheckWithoutADecision();
    void limiterSeedsMonthlyUnderTheRulesKeys();
    void limiterAgainstTheMemoryStore();
    void limiterModelRulesUnderTheKeysTag();
    void limiterIpRulesCountRequestsOnly();
    void limiterCountsShadowHitsApart();
};

void TestMemoryLimitStore::emptyRequestIsAllowed()
{
    MemoryLimitStore store;
    const LimitDecision d = store.decideAt(request({}), kT0);
    QVERIFY(d.allowed);
    QCOMPARE(d.denied, -1);
    QVERIFY(d.statuses.empty());
    QCOMPARE(d.nowUs, kT0);
    QCOMPARE(d.retryAfterUs(), 0);
    QCOMPARE(store.activeKeys(), 0);
}

void TestMemoryLimitStore::decisionDescribesEveryRule()
{
    MemoryLimitStore store;
    const LimitRequest r =
        request({rps("a", 5), rpm("b", 10), tpm("c", 1000), monthlyRequests("d", 100)}, 2, 300);
    const LimitDecision d = store.decideAt(r, kT0 + 7);
    QVERIFY(d.allowed);
    QCOMPARE(d.nowUs, kT0 + 7);
    QCOMPARE(d.cost, 2.0);
    QCOMPARE(d.tokenEstimate, 300.0);
    QCOMPARE(d.rules.size(), size_t(4));
    QCOMPARE(d.statuses.size(), size_t(4));
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(d.statuses[size_t(i)].rule, i);
        QVERIFY(d.statuses[size_t(i)].allowed);
        QCOMPARE(d.rules[size_t(i)].key, r.rules[size_t(i)].key);
    }
    // Request rules count the cost, token rules the estimate.
    QCOMPARE(d.statuses[0].remaining, 3.0);
    QCOMPARE(d.statuses[1].remaining, 8.0);
    QCOMPARE(d.statuses[2].remaining, 700.0);
    QCOMPARE(d.statuses[3].remaining, 98.0);
    QCOMPARE(d.statuses[1].resetUs, kMinute - 7);
    QCOMPARE(d.statuses[3].resetUs, utcUs(2024, 4, 1) - (kT0 + 7));
}

void TestMemoryLimitStore::allowedCommitsEveryRule()
{
    MemoryLimitStore store;
    const std::vector<LimitRule> rules{rps("a", 3), rpm("b", 10), monthlyRequests("m", 50)};
    for (int i = 1; i <= 3; ++i) {
        const LimitDecision d = store.decideAt(request(rules), kT0 + i);
        QVERIFY(d.allowed);
        QCOMPARE(d.statuses[0].remaining, double(3 - i));
        QCOMPARE(d.statuses[1].remaining, double(10 - i));
        QCOMPARE(d.statuses[2].remaining, double(50 - i));
    }
    QCOMPARE(remainingOf(store, rules[0], kT0 + 10), 0.0);
    QCOMPARE(remainingOf(store, rules[1], kT0 + 10), 7.0);
    QCOMPARE(remainingOf(store, rules[2], kT0 + 10), 47.0);
    QCOMPARE(store.activeKeys(), 3);
}

void TestMemoryLimitStore::denialByOneRuleCommitsNothing_data()
{
    QTest::addColumn<int>("denier");  // which rule of the request runs out first

    QTest::newRow("first rule denies") << 0;
    QTest::newRow("middle rule denies") << 1;
    QTest::newRow("last rule denies") << 2;
}

void TestMemoryLimitStore::denialByOneRuleCommitsNothing()
{
    QFETCH(int, denier);
    MemoryLimitStore store;
    // Three rules of 10; the denier has only 2. Requests cost 1 request and 100 tokens.
    std::vector<LimitRule> rules{rps("rate", 10), tpm("tokens", 1000),
                                 monthlyRequests("month", 10)};
    LimitRule &small = rules[size_t(denier)];
    if (small.kind == LimitKind::RequestRate)
        small.burst = 2;
    else
        small.limit = small.kind == LimitKind::TokensPerMinute ? 200 : 2;

    QVERIFY(store.decideAt(request(rules, 1, 100), kT0).allowed);
    QVERIFY(store.decideAt(request(rules, 1, 100), kT0 + 1).allowed);
    for (int i = 0; i < 5; ++i) {
        const LimitDecision d = store.decideAt(request(rules, 1, 100), kT0 + 2 + i);
        QVERIFY(!d.allowed);
        QCOMPARE(d.denied, denier);
        for (int j = 0; j < 3; ++j)
            QCOMPARE(d.statuses[size_t(j)].allowed, j != denier);
        QVERIFY(d.retryAfterUs() > 0);
    }
    // The others were charged for the two allowed requests only.
    const double expected[] = {8, 800, 8};
    for (int j = 0; j < 3; ++j) {
        if (j != denier)
            QCOMPARE(remainingOf(store, rules[size_t(j)], kT0 + 100), expected[j]);
    }
    QCOMPARE(remainingOf(store, rules[size_t(denier)], kT0 + 100), 0.0);
}

void TestMemoryLimitStore::deniedNamesTheLongestWait()
{
    MemoryLimitStore store;
    // 1/s burst 1 (back within a second) and 1 per minute (back within two minutes).
    const std::vector<LimitRule> rules{rps("fast", 1, 1), rpm("slow", 1)};
    QVERIFY(store.decideAt(request(rules), kT0).allowed);
    LimitDecision d = store.decideAt(request(rules), kT0 + 1);
    QVERIFY(!d.allowed);
    QVERIFY(!d.statuses[0].allowed);
    QVERIFY(!d.statuses[1].allowed);
    QCOMPARE(d.statuses[0].retryAfterUs, kSecond - 1);
    QCOMPARE(d.denied, 1);
    QCOMPARE(d.retryAfterUs(), d.statuses[1].retryAfterUs);
    QVERIFY(d.retryAfterUs() > kMinute);
    // When only the fast one denies, it is named.
    MemoryLimitStore other;
    const std::vector<LimitRule> rules2{rpm("roomy", 100), rps("fast", 1, 1)};
    QVERIFY(other.decideAt(request(rules2), kT0).allowed);
    d = other.decideAt(request(rules2), kT0 + 1);
    QCOMPARE(d.denied, 1);
    QCOMPARE(d.retryAfterUs(), kSecond - 1);
    QVERIFY(d.statuses[0].allowed);
}

void TestMemoryLimitStore::neverFittingRuleOutranksALongerWait()
{
    // The per-minute limit waits two minutes, but the request is larger than the token limit
    // can ever hold: waiting will not help, so the answer names the token limit.
    MemoryLimitStore store;
    const std::vector<LimitRule> rules{rpm("rpm", 1), tpm("tpm", 1000)};
    QVERIFY(store.decideAt(request(rules, 1, 10), kT0).allowed);
    const LimitDecision d = store.decideAt(request(rules, 1, 5000), kT0 + 1);
    QVERIFY(!d.allowed);
    QVERIFY(d.statuses[0].retryAfterUs > d.statuses[1].retryAfterUs);
    QVERIFY(!d.statuses[0].neverFits);
    QVERIFY(d.statuses[1].neverFits);
    QCOMPARE(d.denied, 1);

    // A request-rate rule whose burst is smaller than the cost never fits either.
    MemoryLimitStore store2;
    const LimitDecision big = store2.decideAt(request({rpm("rpm", 100), rps("r", 2, 1)}, 3), kT0);
    QVERIFY(!big.allowed);
    QCOMPARE(big.denied, 1);
    QVERIFY(big.statuses[1].neverFits);
    QCOMPARE(store2.activeKeys(), 0);
}

void TestMemoryLimitStore::fractionalCostsShareTheLimits()
{
    // A route costing 0.5: two of them are one request on every request-counting rule.
    MemoryLimitStore store;
    const std::vector<LimitRule> rules{rps("r", 1), rpm("m", 1), monthlyRequests("mo", 1)};
    QVERIFY(store.decideAt(request(rules, 0.5), kT0).allowed);
    QVERIFY(!store.decideAt(request(rules, 1), kT0 + 1).allowed);
    QVERIFY(store.decideAt(request(rules, 0.5), kT0 + 2).allowed);
    const LimitDecision d = store.decideAt(request(rules, 0.5), kT0 + 3);
    QVERIFY(!d.allowed);
    for (const LimitStatus &st : d.statuses) {
        QVERIFY(!st.allowed);
        QCOMPARE(st.remaining, 0.0);
    }
    // A free route (cost 0) passes even then, and takes nothing.
    QVERIFY(store.decideAt(request(rules, 0), kT0 + 4).allowed);

    // 0.1 ten times is exactly one request.
    MemoryLimitStore tenths;
    const std::vector<LimitRule> one{rpm("m", 1), monthlyRequests("mo", 1), rps("r", 1)};
    for (int i = 0; i < 10; ++i)
        QVERIFY2(tenths.decideAt(request(one, 0.1), kT0 + i).allowed,
                 qPrintable(QString::number(i)));
    QVERIFY(!tenths.decideAt(request(one, 0.1), kT0 + 10).allowed);
}

void TestMemoryLimitStore::rateRetryAfterThroughTheStore()
{
    // After waiting the decision's retryAfter the same request goes through; 1 µs earlier not.
    const std::vector<LimitRule> rules{makeRule("r", LimitKind::RequestRate, 3, 3), rpm("m", 40)};
    for (int round = 0; round < 2; ++round) {
        MemoryLimitStore store;
        for (int i = 0; i < 3; ++i)
            QVERIFY(store.decideAt(request(rules), kT0).allowed);
        const LimitDecision d = store.decideAt(request(rules), kT0 + 5);
        QVERIFY(!d.allowed);
        QCOMPARE(d.denied, 0);
        const qint64 at = kT0 + 5 + d.retryAfterUs();
        if (round == 0) {
            QVERIFY(!store.decideAt(request(rules), at - 1).allowed);
        } else {
            QVERIFY(store.decideAt(request(rules), at).allowed);
            QVERIFY(!store.decideAt(request(rules), at).allowed);
        }
    }
}

void TestMemoryLimitStore::tokenReservationSettled()
{
    MemoryLimitStore store;
    const LimitRule tokens = tpm("tpm", 10'000);
    const LimitRule month = monthlyTokens("mtok", 1'000'000);
    // Reserve 4000 (the estimate), then the answer turns out bigger: +500.
    LimitDecision d = store.decideAt(request({tokens, month}, 1, 4000), kT0 + kSecond);
    QVERIFY(d.allowed);
    QCOMPARE(d.statuses[0].remaining, 6000.0);
    store.settleAt(settlement({tokens, month}, 500), kT0 + 2 * kSecond);
    QCOMPARE(remainingOf(store, tokens, kT0 + 2 * kSecond), 5500.0);
    QCOMPARE(remainingOf(store, month, kT0 + 2 * kSecond), 995'500.0);

    // A second request reserves 4000 and uses 1000: 3000 come back.
    d = store.decideAt(request({tokens, month}, 1, 4000), kT0 + 3 * kSecond);
    QVERIFY(d.allowed);
    QCOMPARE(d.statuses[0].remaining, 1500.0);
    QVERIFY(!store.decideAt(request({tokens, month}, 1, 4000), kT0 + 3 * kSecond).allowed);
    store.settleAt(settlement({tokens, month}, -3000), kT0 + 4 * kSecond);
    QCOMPARE(remainingOf(store, tokens, kT0 + 4 * kSecond), 4500.0);
    QCOMPARE(remainingOf(store, month, kT0 + 4 * kSecond), 994'500.0);
    QVERIFY(store.decideAt(request({tokens, month}, 1, 4000), kT0 + 5 * kSecond).allowed);

    // Giving back more than was counted stops at zero.
    store.settleAt(settlement({tokens, month}, -1e9), kT0 + 6 * kSecond);
    QCOMPARE(remainingOf(store, tokens, kT0 + 6 * kSecond), 10'000.0);
    QCOMPARE(remainingOf(store, month, kT0 + 6 * kSecond), 1'000'000.0);
}

void TestMemoryLimitStore::tokenSettlementAcrossTheMinute()
{
    // A long stream reserved 8000 at 0:59 and used 1000; it is settled at 1:01. The 7000 come
    // off the window they were counted in, so the next minute is not charged for them.
    MemoryLimitStore store;
    const LimitRule tokens = tpm("tpm", 10'000);
    QVERIFY(store.decideAt(request({tokens}, 1, 8000), kT0 + 59 * kSecond).allowed);
    const qint64 settledAt = kT0 + kMinute + kSecond;
    store.settleAt(settlement({tokens}, -7000), settledAt);
    // 1000 in the previous window, weighted 59/60.
    QCOMPARE(remainingOf(store, tokens, settledAt), 9016.0);
    QVERIFY(store.decideAt(request({tokens}, 1, 9000), settledAt).allowed);
}

void TestMemoryLimitStore::settlementIgnoresWhatItShould()
{
    MemoryLimitStore store;
    const LimitRule tokens = tpm("tpm", 10'000);
    const LimitRule requests = rpm("rpm", 10);
    QVERIFY(store.decideAt(request({requests, tokens}, 1, 1000), kT0).allowed);
    QCOMPARE(store.activeKeys(), 2);

    // A zero delta changes nothing; a request rule in a settlement is not a token rule.
    store.settleAt(settlement({requests, tokens}, 0), kT0 + 1);
    store.settleAt(settlement({requests}, 5), kT0 + 1);
    QCOMPARE(remainingOf(store, requests, kT0 + 2), 9.0);
    QCOMPARE(remainingOf(store, tokens, kT0 + 2), 9000.0);

    // A key the store does not hold (never reserved, or already evicted) is not created.
    store.settleAt(settlement({tpm("never-seen", 10), monthlyTokens("nor-this", 10)}, 50), kT0);
    QCOMPARE(store.activeKeys(), 2);

    // Settled after the entry was evicted: nothing is left to correct, and nothing is created.
    QCOMPARE(store.evictIdle(kT0 + 3 * kMinute), 2);
    store.settleAt(settlement({tokens}, 500), kT0 + 3 * kMinute);
    QCOMPARE(store.activeKeys(), 0);
    QCOMPARE(remainingOf(store, tokens, kT0 + 3 * kMinute), 10'000.0);
}

void TestMemoryLimitStore::monthlyTokensSettledWithinTheMonth()
{
    MemoryLimitStore store;
    const LimitRule month = monthlyTokens("mtok", 10'000);
    const qint64 endOfMarch = utcUs(2024, 4, 1) - kSecond;
    QVERIFY(store.decideAt(request({month}, 1, 6000), endOfMarch).allowed);
    // The answer ends in April: March's reservation is not April's usage.
    store.settleAt(settlement({month}, 3000), utcUs(2024, 4, 1) + kSecond);
    QCOMPARE(remainingOf(store, month, utcUs(2024, 4, 1) + 2 * kSecond), 10'000.0);
    QCOMPARE(remainingOf(store, month, endOfMarch), 4000.0);
    // Settled in March it counts.
    store.settleAt(settlement({month}, 3000), endOfMarch + 1);
    QCOMPARE(remainingOf(store, month, endOfMarch + 2), 1000.0);
}

void TestMemoryLimitStore::monthlyQuotaDecemberToJanuary()
{
    MemoryLimitStore store;
    const LimitRule month = monthlyRequests("month", 3);
    const qint64 newYear = utcUs(2024, 1, 1);
    const qint64 late = newYear - kMinute;  // 2023-12-31T23:59:00Z
    for (int i = 0; i < 3; ++i) {
        const LimitDecision d = store.decideAt(request({month}), late + i);
        QVERIFY(d.allowed);
        QCOMPARE(d.statuses[0].remaining, double(2 - i));
        QCOMPARE(d.statuses[0].resetUs, newYear - (late + i));
    }
    const LimitDecision denied = store.decideAt(request({month}), late + 10);
    QVERIFY(!denied.allowed);
    QCOMPARE(denied.denied, 0);
    QCOMPARE(denied.statuses[0].remaining, 0.0);
    QCOMPARE(denied.retryAfterUs(), newYear - (late + 10));
    QVERIFY(denied.statuses[0].neverFits);  // not within this month
    QVERIFY(!store.decideAt(request({month}), newYear - 1).allowed);

    // At the first microsecond of January the quota is fresh.
    const LimitDecision january = store.decideAt(request({month}), newYear);
    QVERIFY(january.allowed);
    QCOMPARE(january.statuses[0].remaining, 2.0);
    QCOMPARE(january.statuses[0].resetUs, utcUs(2024, 2, 1) - newYear);
    // And December's entry was not reused for it.
    QCOMPARE(remainingOf(store, month, newYear + 1), 2.0);
}

void TestMemoryLimitStore::monthlyQuotaLeapFebruary()
{
    MemoryLimitStore store;
    const LimitRule month = monthlyRequests("month", 1);
    const qint64 leapDay = utcUs(2024, 2, 29, 12);
    QVERIFY(store.decideAt(request({month}), utcUs(2024, 2, 1)).allowed);
    const LimitDecision d = store.decideAt(request({month}), leapDay);
    QVERIFY(!d.allowed);
    QCOMPARE(d.retryAfterUs(), utcUs(2024, 3, 1) - leapDay);
    QVERIFY(!store.decideAt(request({month}), utcUs(2024, 3, 1) - 1).allowed);
    QVERIFY(store.decideAt(request({month}), utcUs(2024, 3, 1)).allowed);
}

void TestMemoryLimitStore::seedMonthlyNeverLowers()
{
    MemoryLimitStore store;
    const LimitRule month = monthlyRequests("month", 100);
    store.seedMonthly(month, 40, kT0);
    QCOMPARE(remainingOf(store, month, kT0), 60.0);
    store.seedMonthly(month, 10, kT0 + 1);  // lower: ignored
    QCOMPARE(remainingOf(store, month, kT0 + 1), 60.0);
    store.seedMonthly(month, 55, kT0 + 2);  // higher: taken
    QCOMPARE(remainingOf(store, month, kT0 + 2), 45.0);

    // Requests counted since are not undone by a seed that missed them.
    for (int i = 0; i < 5; ++i)
        QVERIFY(store.decideAt(request({month}), kT0 + 10 + i).allowed);
    store.seedMonthly(month, 58, kT0 + 20);
    QCOMPARE(remainingOf(store, month, kT0 + 20), 40.0);

    // A seed at or over the limit denies from the start.
    const LimitRule tokens = monthlyTokens("tok", 1000);
    store.seedMonthly(tokens, 1000, kT0);
    const LimitDecision d = store.decideAt(request({tokens}, 1, 1), kT0 + 1);
    QVERIFY(!d.allowed);
    QCOMPARE(d.statuses[0].remaining, 0.0);
    store.seedMonthly(tokens, 1500, kT0 + 2);
    QCOMPARE(remainingOf(store, tokens, kT0 + 3), 0.0);
}

void TestMemoryLimitStore::seedMonthlyStartsAFreshMonth()
{
    // The store still holds February's 90; a seed for March (from the ledger) replaces it, even
    // though it is lower: February's count says nothing about March.
    MemoryLimitStore store;
    const LimitRule month = monthlyRequests("month", 100);
    const qint64 feb = utcUs(2024, 2, 20);
    store.seedMonthly(month, 90, feb);
    QCOMPARE(remainingOf(store, month, feb), 10.0);
    const qint64 march = utcUs(2024, 3, 2);
    store.seedMonthly(month, 5, march);
    QCOMPARE(remainingOf(store, month, march), 95.0);
    QCOMPARE(store.activeKeys(), 1);
    // A seed of zero on a fresh store holds nothing back.
    MemoryLimitStore fresh;
    fresh.seedMonthly(month, 0, march);
    QCOMPARE(remainingOf(fresh, month, march), 100.0);
}

void TestMemoryLimitStore::evictIdleDropsOnlyIdleEntries()
{
    MemoryLimitStore store;
    const LimitRule rate = makeRule("rate", LimitKind::RequestRate, 1, 5);  // full 1 s after
    const LimitRule busyRate = makeRule("busy", LimitKind::RequestRate, 1, 5);
    const LimitRule window = rpm("rpm", 10);
    const LimitRule month = monthlyRequests("month", 10);
    QVERIFY(store.decideAt(request({rate, window, month}), kT0).allowed);
    QCOMPARE(store.activeKeys(), 3);

    QCOMPARE(store.evictIdle(kT0 + kSecond - 1), 0);
    QCOMPARE(store.activeKeys(), 3);
    // Another bucket used later stays while the first one is back to full and goes.
    QVERIFY(store.decideAt(request({busyRate}), kT0 + kSecond / 2).allowed);
    QCOMPARE(store.evictIdle(kT0 + kSecond), 1);
    QCOMPARE(store.activeKeys(), 3);
    QCOMPARE(remainingOf(store, rate, kT0 + kSecond), 5.0);
    QCOMPARE(store.activeKeys(), 3);  // reading a fresh bucket does not create it

    // The window's count matters until two windows have passed.
    QCOMPARE(store.evictIdle(kT0 + 2 * kMinute - 1), 1);  // the busy bucket
    QCOMPARE(store.activeKeys(), 2);
    QCOMPARE(remainingOf(store, window, kT0 + kMinute), 9.0);
    QCOMPARE(remainingOf(store, window, kT0 + 2 * kMinute - 1), 9.0);  // 1/60e6 still weighs
    QCOMPARE(store.evictIdle(kT0 + 2 * kMinute), 1);
    QCOMPARE(store.activeKeys(), 1);

    // The month's count is kept until the month ends, and its count is intact meanwhile.
    const qint64 april = utcUs(2024, 4, 1);
    QCOMPARE(store.evictIdle(april - 1), 0);
    QCOMPARE(remainingOf(store, month, april - 1), 9.0);
    QCOMPARE(store.evictIdle(april), 1);
    QCOMPARE(store.activeKeys(), 0);
    QCOMPARE(store.evictIdle(april + 1), 0);
}

void TestMemoryLimitStore::sweepHappensAsShardsAreUsed()
{
    // One shard: after enough decisions on it, expired entries go without evictIdle().
    MemoryLimitStore store(0);
    for (int i = 0; i < 100; ++i) {
        const QByteArray key = "old-" + QByteArray::number(i);
        QVERIFY(
            store.decideAt(request({makeRule(key, LimitKind::RequestRate, 1000, 1)}), kT0).allowed);
    }
    QCOMPARE(store.activeKeys(), 100);
    const LimitRule live = makeRule("live", LimitKind::RequestRate, 1e-3, 1e6);
    for (int i = 0; i < 5000; ++i)
        store.decideAt(request({live}), kT0 + kSecond + i);
    QCOMPARE(store.activeKeys(), 1);
}

void TestMemoryLimitStore::activeKeysCountsEntries()
{
    MemoryLimitStore store;
    QCOMPARE(store.activeKeys(), 0);
    const LimitRule a = rps("a", 10);
    for (int i = 0; i < 5; ++i)
        QVERIFY(store.decideAt(request({a}), kT0 + i).allowed);
    QCOMPARE(store.activeKeys(), 1);
    QVERIFY(store.decideAt(request({a, rpm("b", 10), tpm("c", 100)}, 1, 5), kT0).allowed);
    QCOMPARE(store.activeKeys(), 3);
    // A denied decision creates no entry for its fresh keys.
    QVERIFY(!store.decideAt(request({rpm("d", 10), rps("e", 1)}, 2), kT0).allowed);
    QCOMPARE(store.activeKeys(), 3);
    store.seedMonthly(monthlyRequests("f", 10), 3, kT0);
    QCOMPARE(store.activeKeys(), 4);
    for (int i = 0; i < 1000; ++i)
        store.decideAt(request({rpm("many-" + QByteArray::number(i), 10)}), kT0);
    QCOMPARE(store.activeKeys(), 1004);
}

void TestMemoryLimitStore::shardBitsAreClamped_data()
{
    QTest::addColumn<int>("bits");
    QTest::newRow("negative") << -5;
    QTest::newRow("0") << 0;
    QTest::newRow("1") << 1;
    QTest::newRow("6") << 6;
    QTest::newRow("12") << 12;
    QTest::newRow("too many") << 40;
}

void TestMemoryLimitStore::shardBitsAreClamped()
{
    QFETCH(int, bits);
    MemoryLimitStore store(bits);
    for (int i = 0; i < 500; ++i) {
        const LimitRule r = rps("k" + QByteArray::number(i), 2);
        QVERIFY(store.decideAt(request({r, rpm("shared", 1000)}), kT0).allowed);
        QVERIFY(store.decideAt(request({r}), kT0).allowed);
        QVERIFY(!store.decideAt(request({r}), kT0).allowed);
    }
    QCOMPARE(store.activeKeys(), 501);
    QCOMPARE(remainingOf(store, rpm("shared", 1000), kT0), 500.0);
    QCOMPARE(store.evictIdle(kT0 + 2 * kMinute), 1);  // the per-minute entry; buckets refill slowly
}

void TestMemoryLimitStore::concurrentStdThreadsAllowExactlyTheBurst_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("2 threads") << 2;
    QTest::newRow("4 threads") << 4;
    QTest::newRow("8 threads") << 8;
}

void TestMemoryLimitStore::concurrentStdThreadsAllowExactlyTheBurst()
{
    QFETCH(int, threads);
    constexpr int kBurst = 1000;
    constexpr int kPerThread = 1500;
    MemoryLimitStore store;
    const LimitRule rule = rps("{k:1}:rps", kBurst);
    std::atomic<int> allowed{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            while (!go.load())
                std::this_thread::yield();
            int mine = 0;
            for (int i = 0; i < kPerThread; ++i) {
                // Each thread's own fake clock, microseconds apart: refill stays negligible.
                if (store.decideAt(request({rule}), kT0 + t * kPerThread + i).allowed)
                    ++mine;
            }
            allowed += mine;
        });
    }
    go = true;
    for (std::thread &t : pool)
        t.join();
    QCOMPARE(allowed.load(), kBurst);
    QCOMPARE(store.activeKeys(), 1);
    QCOMPARE(remainingOf(store, rule, kT0 + kSecond), 0.0);
}

void TestMemoryLimitStore::concurrentQThreadsAcrossSeveralRules_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("2 threads") << 2;
    QTest::newRow("3 threads") << 3;
    QTest::newRow("8 threads") << 8;
}

void TestMemoryLimitStore::concurrentQThreadsAcrossSeveralRules()
{
    // Every request needs a shared bucket (600), a shared per-minute limit (500) and a bucket
    // of its own thread; half the threads list the shared rules in the other order (locks are
    // taken in one order whatever the rules' order). Exactly 500 go through, and the shared
    // bucket was charged for exactly those: all or nothing under contention.
    QFETCH(int, threads);
    MemoryLimitStore store(3);
    const LimitRule bucket = rps("{u:1}:rps", 600);
    const LimitRule minute = rpm("{u:1}:rpm", 500);
    std::atomic<int> allowed{0};
    std::vector<QThread *> pool;
    std::vector<LimitRule> own;
    for (int t = 0; t < threads; ++t)
        own.push_back(rps("{k:" + QByteArray::number(t) + "}:rps", 1e6));
    for (int t = 0; t < threads; ++t) {
        pool.push_back(QThread::create([&, t] {
            const std::vector<LimitRule> rules =
                t % 2 ? std::vector<LimitRule>{own[size_t(t)], minute, bucket}
                      : std::vector<LimitRule>{bucket, minute, own[size_t(t)]};
            for (int i = 0; i < 400; ++i) {
                const LimitDecision d = store.decideAt(request(rules), kT0 + i);
                if (d.allowed)
                    ++allowed;
            }
        }));
    }
    for (QThread *t : pool)
        t->start();
    for (QThread *t : pool) {
        QVERIFY(t->wait(QDeadlineTimer(60'000)));
        delete t;
    }
    const int expected = std::min(500, 400 * threads);
    QCOMPARE(allowed.load(), expected);
    QCOMPARE(remainingOf(store, bucket, kT0 + 1000), double(600 - expected));
    QCOMPARE(remainingOf(store, minute, kT0 + 1000), double(500 - expected));
    double ownUsed = 0;
    for (const LimitRule &r : own)
        ownUsed += 1e6 - remainingOf(store, r, kT0 + 1000);
    QCOMPARE(ownUsed, double(expected));
}

void TestMemoryLimitStore::decideWithTheRealClock()
{
    // decide() and settle() use the wall clock; nothing here depends on how much time passes.
    MemoryLimitStore store;
    QCOMPARE(store.name(), "memory");
    const LimitRule rule = rps("real", 1);
    const qint64 before = MemoryLimitStore::nowUs();
    int calls = 0;
    LimitDecision first;
    store.decide(request({rule}), [&](LimitDecision d) {
        ++calls;
        first = std::move(d);
    });
    const qint64 after = MemoryLimitStore::nowUs();
    QCOMPARE(calls, 1);  // before decide() returned
    QVERIFY(first.allowed);
    QVERIFY(first.nowUs >= before && first.nowUs <= after);
    store.decide(request({rule}), [&](LimitDecision d) {
        ++calls;
        QVERIFY(!d.allowed);
    });
    QCOMPARE(calls, 2);

    // settle() gives tokens back on the real clock (to a fresh month, should one begin now).
    const LimitRule tokens = monthlyTokens("real-tokens", 1000);
    store.decide(request({tokens}, 1, 800), [&](LimitDecision d) { QVERIFY(d.allowed); });
    store.settle(settlement({tokens}, -700));
    store.decide(request({tokens}, 1, 900), [&](LimitDecision d) { QVERIFY(d.allowed); });
}

// ---- Limiter ----------------------------------------------------------------------------------

void TestMemoryLimitStore::limiterRulesNamesAndKeys()
{
    LimitSubject s;
    s.keyId = "17";
    s.userId = "4";
    s.keyLimits = limits(5, 20, 100, 1000, 10'000, 1'000'000);
    s.userLimits = limits(50, 80, 600, 5000, 90'000, 9'000'000);
    const std::vector<LimitRule> rules = Limiter::rulesFor(s, true);
    struct Expected
    {
        const char *key;
        const char *name;
        LimitScope scope;
        LimitKind kind;
        double limit;
        double burst;
    };
    const Expected expected[] = {
        {"{k:17}:rps", "key-rps", LimitScope::Key, LimitKind::RequestRate, 5, 20},
        {"{k:17}:rpm", "key-rpm", LimitScope::Key, LimitKind::RequestsPerMinute, 100, 0},
        {"{k:17}:monthly-requests", "key-monthly-requests", LimitScope::Key,
         LimitKind::MonthlyRequests, 10'000, 0},
        {"{k:17}:tpm", "key-tpm", LimitScope::Key, LimitKind::TokensPerMinute, 1000, 0},
        {"{k:17}:monthly-tokens", "key-monthly-tokens", LimitScope::Key, LimitKind::MonthlyTokens,
         1'000'000, 0},
        {"{u:4}:rps", "user-rps", LimitScope::User, LimitKind::RequestRate, 50, 80},
        {"{u:4}:rpm", "user-rpm", LimitScope::User, LimitKind::RequestsPerMinute, 600, 0},
        {"{u:4}:monthly-requests", "user-monthly-requests", LimitScope::User,
         LimitKind::MonthlyRequests, 90'000, 0},
        {"{u:4}:tpm", "user-tpm", LimitScope::User, LimitKind::TokensPerMinute, 5000, 0},
        {"{u:4}:monthly-tokens", "user-monthly-tokens", LimitScope::User, LimitKind::MonthlyTokens,
         9'000'000, 0},
    };
    QCOMPARE(rules.size(), std::size(expected));
    for (size_t i = 0; i < rules.size(); ++i) {
        const LimitRule &r = rules[i];
        const Expected &e = expected[i];
        QCOMPARE(r.key, QByteArray(e.key));
        QCOMPARE(r.name, QByteArray(e.name));
        QCOMPARE(r.scope, e.scope);
        QCOMPARE(r.kind, e.kind);
        QCOMPARE(r.limit, e.limit);
        if (r.kind == LimitKind::RequestRate)
            QCOMPARE(r.burst, e.burst);
    }
    // Every store key is distinct (one state per principal and kind).
    QSet<QByteArray> keys;
    for (const LimitRule &r : rules)
        keys.insert(r.key);
    QCOMPARE(keys.size(), qsizetype(rules.size()));
}

void TestMemoryLimitStore::limiterBurstDefaultsToOneSecond()
{
    LimitSubject s;
    s.keyId = "1";
    s.userId = "2";
    s.keyLimits = limits(25, 0, 0, 0, 0, 0);    // no burst: one second's worth
    s.userLimits = limits(0.2, 0, 0, 0, 0, 0);  // under 1/s: at least one
    std::vector<LimitRule> rules = Limiter::rulesFor(s, false);
    QCOMPARE(rules.size(), size_t(2));
    QCOMPARE(rules[0].burst, 25.0);
    QCOMPARE(rules[1].burst, 1.0);
    QCOMPARE(rules[1].limit, 0.2);
    s.keyLimits.burst = 3;  // configured: taken as is
    rules = Limiter::rulesFor(s, false);
    QCOMPARE(rules[0].burst, 3.0);
    QCOMPARE(rules[0].quota(), 3.0);
}

void TestMemoryLimitStore::limiterTokenRulesOnlyWhenCounted()
{
    LimitSubject s;
    s.keyId = "9";
    s.userId = "3";
    s.keyLimits = limits(1, 1, 10, 100, 1000, 10'000);
    s.userLimits = limits(0, 0, 0, 200, 0, 20'000);
    const std::vector<LimitRule> without = Limiter::rulesFor(s, false);
    QCOMPARE(without.size(), size_t(3));
    for (const LimitRule &r : without)
        QVERIFY(!r.countsTokens());
    const std::vector<LimitRule> with = Limiter::rulesFor(s, true);
    QCOMPARE(with.size(), size_t(7));
    int tokenRules = 0;
    for (const LimitRule &r : with)
        tokenRules += r.countsTokens();
    QCOMPARE(tokenRules, 4);
    QCOMPARE(with[5].key, QByteArray("{u:3}:tpm"));
    QCOMPARE(with[6].key, QByteArray("{u:3}:monthly-tokens"));
}

void TestMemoryLimitStore::limiterSkipsUnlimited()
{
    // Zero is unlimited: no rule at all (a subject with no limits is never checked).
    LimitSubject s;
    s.keyId = "1";
    s.userId = "1";
    QVERIFY(Limiter::rulesFor(s, true).empty());
    s.keyLimits.burst = 50;  // a burst without a rate is no rule
    QVERIFY(Limiter::rulesFor(s, true).empty());
    s.userLimits.requestsPerMinute = 7;
    const std::vector<LimitRule> rules = Limiter::rulesFor(s, true);
    QCOMPARE(rules.size(), size_t(1));
    QCOMPARE(rules[0].key, QByteArray("{u:1}:rpm"));
    QCOMPARE(rules[0].name, QByteArray("user-rpm"));
}

void TestMemoryLimitStore::limiterRequestForAppliesCost()
{
    MetricsRegistry metrics;
    CostTable costs;
    costs.set(QStringLiteral("embeddings"), 0.5);
    costs.set(QStringLiteral("models"), 0);
    Limiter limiter(std::make_unique<MemoryLimitStore>(), costs, metrics);
    LimitSubject s;
    s.keyId = "5";
    s.userId = "6";
    s.keyLimits = limits(10, 10, 0, 1000, 0, 0);

    LimitRequest r = limiter.requestFor(s, "/v1/embeddings", 0);
    QCOMPARE(r.cost, 0.5);
    QCOMPARE(r.tokenEstimate, 0.0);
    QCOMPARE(r.rules.size(), size_t(1));  // no estimate: token rules are not checked
    r = limiter.requestFor(s, "/v1/chat/completions", 2048);
    QCOMPARE(r.cost, 1.0);
    QCOMPARE(r.tokenEstimate, 2048.0);
    QCOMPARE(r.rules.size(), size_t(2));
    QCOMPARE(r.rules[1].kind, LimitKind::TokensPerMinute);
    QCOMPARE(limiter.requestFor(s, "/v1/models", 0).cost, 0.0);
    QCOMPARE(limiter.requestFor(s, "/v1/unknown", 0).cost, 1.0);
    QCOMPARE(limiter.costs().costOf("/v1/embeddings"), 0.5);
}

void TestMemoryLimitStore::limiterCheckCountsDecisions()
{
    MetricsRegistry metrics;
    auto *store = new RecordingStore;
    Limiter limiter(std::unique_ptr<LimitStore>(store), CostTable(), metrics);
    QCOMPARE(&limiter.store(), static_cast<LimitStore *>(store));
    LimitSubject s;
    s.keyId = "8";
    s.userId = "2";
    s.keyLimits = limits(1e-9, 2, 0, 0, 0, 0);
    s.userLimits = limits(0, 0, 0, 0, 1, 0);
    const LimitRequest r = limiter.requestFor(s, "/v1/chat/completions", 0);

    std::vector<LimitDecision> seen;
    const auto check = [&] {
        limiter.check(r, "gold", [&](LimitDecision d) { seen.push_back(std::move(d)); });
    };
    check();  // allowed (uses the user's only monthly request)
    check();  // denied by the user's monthly quota
    QCOMPARE(seen.size(), size_t(2));
    QVERIFY(seen[0].allowed);
    QVERIFY(!seen[1].allowed);
    QCOMPARE(seen[1].rules[size_t(seen[1].denied)].name, QByteArray("user-monthly-requests"));

    CounterFamily &checks = metrics.counter("gateway_rate_limit_checks_total", "", {"store"});
    CounterFamily &hits = metrics.counter("gateway_rate_limit_hits_total", "", {"type", "tier"});
    QCOMPARE(checks.value({"memory"}), 2.0);  // labelled by the store that decided
    QCOMPARE(hits.value({"monthly", "gold"}), 1.0);
    QCOMPARE(hits.value({"key", "gold"}), 0.0);

    QVERIFY(metrics.exposeText().contains("gateway_rate_limit_keys_active 2"));
}

void TestMemoryLimitStore::limiterSettleSendsTheDelta()
{
    MetricsRegistry metrics;
    auto *store = new RecordingStore;
    Limiter limiter(std::unique_ptr<LimitStore>(store), CostTable(), metrics);
    LimitSubject s;
    s.keyId = "1";
    s.userId = "1";
    s.keyLimits = limits(10, 10, 100, 10'000, 0, 0);
    s.userLimits = limits(0, 0, 0, 0, 0, 100'000);
    LimitDecision decision;
    limiter.check(limiter.requestFor(s, "/v1/chat/completions", 1000), {},
                  [&](LimitDecision d) { decision = std::move(d); });
    QVERIFY(decision.allowed);

    limiter.settle(decision, 1000);  // as estimated: nothing to tell
    QVERIFY(store->settlements.empty());
    limiter.settle(decision, 250);
    QCOMPARE(store->settlements.size(), size_t(1));
    const LimitSettlement &down = store->settlements.back();
    QCOMPARE(down.tokenDelta, -750.0);
    QCOMPARE(down.rules.size(), size_t(2));  // the token rules only
    QCOMPARE(down.rules[0].key, QByteArray("{k:1}:tpm"));
    QCOMPARE(down.rules[1].key, QByteArray("{u:1}:monthly-tokens"));
    QCOMPARE(QByteArray(down.store), QByteArray(decision.store));
    limiter.settle(decision, 1300);
    QCOMPARE(store->settlements.back().tokenDelta, 300.0);
    limiter.settle(decision, 0);  // the upstream never took it: everything back
    QCOMPARE(store->settlements.back().tokenDelta, -1000.0);
    QCOMPARE(store->settlements.size(), size_t(3));

    // Denied decisions reserved nothing; decisions without token rules have nothing to settle.
    LimitDecision denied = decision;
    denied.allowed = false;
    limiter.settle(denied, 5);
    LimitDecision noTokens;
    limiter.check(limiter.requestFor(s, "/v1/models", 0), {},
                  [&](LimitDecision d) { noTokens = std::move(d); });
    QVERIFY(noTokens.allowed);
    limiter.settle(noTokens, 50);
    QCOMPARE(store->settlements.size(), size_t(3));
}

void TestMemoryLimitStore::limiterCheckWithoutADecision()
{
    // A store that could not decide at all (fail closed): not a check, not a hit, no crash on
    // the missing denying rule, and `done` still runs once.
    class DownStore final : public LimitStore
    {
    public:
        const char *name() const override { return "redis"; }
        void decide(const LimitRequest &request, Done done) override
        {
            LimitDecision d;
            d.rules = request.rules;
            d.statuses.resize(request.rules.size());
            d.allowed = false;
            d.unavailable = true;
            d.failed = true;
            d.store = "redis";
            done(std::move(d));
        }
        void settle(const LimitSettlement &) override {}
        void seedMonthly(const LimitRule &, double) override {}
        void release(const std::vector<LimitRule> &, const char *) override {}
        qint64 activeKeys() const override { return 0; }
    };
    MetricsRegistry metrics;
    Limiter limiter(std::make_unique<DownStore>(), CostTable(), metrics);
    LimitSubject s;
    s.keyId = "1";
    s.userId = "1";
    s.keyLimits = limits(1, 1, 0, 0, 0, 0);
    int calls = 0;
    limiter.check(limiter.requestFor(s, "/v1/models", 0), "free", [&](LimitDecision d) {
        ++calls;
        QVERIFY(d.unavailable);
        QVERIFY(!d.allowed);
    });
    QCOMPARE(calls, 1);
    CounterFamily &checks = metrics.counter("gateway_rate_limit_checks_total", "", {"store"});
    CounterFamily &hits = metrics.counter("gateway_rate_limit_hits_total", "", {"type", "tier"});
    QCOMPARE(checks.value({"redis"}), 0.0);
    QCOMPARE(hits.value({"key", "free"}), 0.0);
}

void TestMemoryLimitStore::limiterSeedsMonthlyUnderTheRulesKeys()
{
    // The ledger's month-to-date totals land on the very keys the rules of the same user and
    // key are decided under (a different key would seed nothing).
    MetricsRegistry metrics;
    auto *store = new RecordingStore;
    Limiter limiter(std::unique_ptr<LimitStore>(store), CostTable(), metrics);
    QCOMPARE(Limiter::ruleKey(LimitScope::Key, "17", "rps"), QByteArray("{k:17}:rps"));
    QCOMPARE(Limiter::ruleKey(LimitScope::User, "4", "monthly-tokens"),
             QByteArray("{u:4}:monthly-tokens"));

    limiter.seedMonthly(LimitScope::User, "4", 60, 7000);
    limiter.seedMonthly(LimitScope::Key, "17", 2.5, 0);  // no tokens used: nothing to seed
    limiter.seedMonthly(LimitScope::Key, "18", 0, 0);
    QCOMPARE(store->seeds.size(), size_t(3));
    QCOMPARE(store->seeds[0].first.key, QByteArray("{u:4}:monthly-requests"));
    QCOMPARE(store->seeds[0].first.kind, LimitKind::MonthlyRequests);
    QCOMPARE(store->seeds[0].second, 60.0);
    QCOMPARE(store->seeds[1].first.key, QByteArray("{u:4}:monthly-tokens"));
    QCOMPARE(store->seeds[1].first.kind, LimitKind::MonthlyTokens);
    QCOMPARE(store->seeds[1].second, 7000.0);
    QCOMPARE(store->seeds[2].first.key, QByteArray("{k:17}:monthly-requests"));
    QCOMPARE(store->seeds[2].second, 2.5);

    LimitSubject s;
    s.keyId = "17";
    s.userId = "4";
    s.keyLimits = limits(0, 0, 0, 0, 10, 0);
    s.userLimits = limits(0, 0, 0, 0, 100, 10'000);
    LimitDecision d;
    limiter.check(limiter.requestFor(s, "/v1/chat/completions", 1000), {},
                  [&](LimitDecision x) { d = std::move(x); });
    QVERIFY(d.allowed);
    QCOMPARE(d.rules.size(), size_t(3));
    QCOMPARE(d.statuses[0].remaining, 6.0);     // key: 10 - 2.5 - 1, floored
    QCOMPARE(d.statuses[1].remaining, 39.0);    // user: 100 - 60 - 1
    QCOMPARE(d.statuses[2].remaining, 2000.0);  // user tokens: 10000 - 7000 - 1000
}

void TestMemoryLimitStore::limiterAgainstTheMemoryStore()
{
    // The real pieces together, on a fake clock: costs of 0.5 share the key's one-request
    // bucket, and the settled token count is what the next minute's check sees.
    MetricsRegistry metrics;
    CostTable costs;
    costs.set(QStringLiteral("embeddings"), 0.5);
    auto *memory = new MemoryLimitStore;
    Limiter limiter(std::unique_ptr<LimitStore>(memory), costs, metrics);
    LimitSubject s;
    s.keyId = "42";
    s.userId = "7";
    s.keyLimits = limits(1e-6, 1, 0, 5000, 0, 0);
    const LimitRequest embed = limiter.requestFor(s, "/v1/embeddings", 0);
    QVERIFY(memory->decideAt(embed, kT0).allowed);
    QVERIFY(memory->decideAt(embed, kT0 + 1).allowed);
    QVERIFY(!memory->decideAt(embed, kT0 + 2).allowed);

    LimitSubject tokensOnly = s;
    tokensOnly.keyLimits.requestsPerSecond = 0;
    const LimitRequest chat = limiter.requestFor(tokensOnly, "/v1/chat/completions", 4000);
    const LimitDecision d = memory->decideAt(chat, kT0 + 3);
    QVERIFY(d.allowed);
    QCOMPARE(d.statuses[0].remaining, 1000.0);
    QVERIFY(!memory->decideAt(chat, kT0 + 4).allowed);
    LimitSettlement back;
    back.rules = {d.rules[0]};
    back.tokenDelta = -3000;
    memory->settleAt(back, kT0 + 5);
    QVERIFY(memory->decideAt(chat, kT0 + 6).allowed);
}

void TestMemoryLimitStore::limiterModelRulesUnderTheKeysTag()
{
    // A key's per-model entry adds its own rules, between the key's and the user's, named
    // "model-*" and stored under the key's hash tag (one Redis script call, one cluster slot).
    LimitSubject s;
    s.keyId = "17";
    s.userId = "4";
    s.keyLimits = limits(0, 0, 100, 0, 0, 0);
    s.userLimits = limits(0, 0, 600, 0, 0, 0);
    s.modelPattern = "gpt-4o*";
    s.modelLimits = limits(0, 0, 10, 2000, 0, 50'000);
    const std::vector<LimitRule> rules = Limiter::rulesFor(s, true);
    QCOMPARE(rules.size(), size_t(5));
    QCOMPARE(rules[0].key, QByteArray("{k:17}:rpm"));
    QCOMPARE(rules[1].key, QByteArray("{k:17}:model:gpt-4o*:rpm"));
    QCOMPARE(rules[1].name, QByteArray("model-rpm"));
    QCOMPARE(rules[1].scope, LimitScope::Model);
    QCOMPARE(rules[1].typeName(), "model");
    QCOMPARE(rules[1].limit, 10.0);
    QCOMPARE(rules[2].key, QByteArray("{k:17}:model:gpt-4o*:tpm"));
    QCOMPARE(rules[2].typeName(), "tokens");
    QCOMPARE(rules[3].key, QByteArray("{k:17}:model:gpt-4o*:monthly-tokens"));
    QCOMPARE(rules[3].typeName(), "monthly");
    QCOMPARE(rules[4].key, QByteArray("{u:4}:rpm"));
    // Without a token estimate the model's token rules drop out like the others.
    QCOMPARE(Limiter::rulesFor(s, false).size(), size_t(3));

    // The ledger's month-to-date use of the model seeds the same key.
    MetricsRegistry metrics;
    auto *store = new RecordingStore;
    Limiter limiter(std::unique_ptr<LimitStore>(store), CostTable(), metrics);
    limiter.seedMonthlyModel("17", "gpt-4o*", 0, 1234);
    QCOMPARE(store->seeds.size(), size_t(1));
    QCOMPARE(store->seeds[0].first.key, QByteArray("{k:17}:model:gpt-4o*:monthly-tokens"));
    QCOMPARE(store->seeds[0].second, 1234.0);
}

void TestMemoryLimitStore::limiterIpRulesCountRequestsOnly()
{
    // Requests without a valid key: the anonymous tier's request limits on the address (no
    // tokens, no concurrency: nothing is forwarded).
    EffectiveLimits anonymous = limits(2, 5, 100, 9999, 1000, 9999);
    anonymous.concurrentRequests = 3;
    const std::vector<LimitRule> rules = Limiter::ipRules("2001:db8::7", anonymous);
    QCOMPARE(rules.size(), size_t(3));
    QCOMPARE(rules[0].key, QByteArray("{i:2001:db8::7}:rps"));
    QCOMPARE(rules[0].name, QByteArray("ip-rps"));
    QCOMPARE(rules[0].burst, 5.0);
    QCOMPARE(rules[1].key, QByteArray("{i:2001:db8::7}:rpm"));
    QCOMPARE(rules[1].typeName(), "ip");
    QCOMPARE(rules[2].kind, LimitKind::MonthlyRequests);
    QVERIFY(Limiter::ipRules("198.51.100.1", EffectiveLimits()).empty());
}

void TestMemoryLimitStore::limiterCountsShadowHitsApart()
{
    MetricsRegistry metrics;
    Limiter limiter(std::make_unique<MemoryLimitStore>(), CostTable(), metrics);
    LimitSubject s;
    s.keyId = "9";
    s.userId = "9";
    s.keyLimits = limits(0, 0, 1, 0, 0, 0);
    const LimitRequest r = limiter.requestFor(s, "/v1/chat/completions", 0);
    int denied = 0;
    for (int i = 0; i < 3; ++i)
        limiter.check(
            r, "pro", [&](LimitDecision d) { denied += !d.allowed; }, i == 2);
    QCOMPARE(denied, 2);
    CounterFamily &hits = metrics.counter("gateway_rate_limit_hits_total", "", {"type", "tier"});
    CounterFamily &shadow =
        metrics.counter("gateway_rate_limit_shadow_hits_total", "", {"type", "tier"});
    QCOMPARE(hits.value({"key", "pro"}), 1.0);
    QCOMPARE(shadow.value({"key", "pro"}), 1.0);
}

QTEST_GUILESS_MAIN(TestMemoryLimitStore)
#include "tst_memorylimitstore.moc"
