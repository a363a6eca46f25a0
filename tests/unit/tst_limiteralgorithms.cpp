// The pure rate-limit algorithms with a fake clock: GCRA (requests per second with burst), the
// sliding-window counter (per minute), UTC calendar months, and the rule's advertised policy.
#include "CalendarMonth.h"
#include "Gcra.h"
#include "LimitRule.h"
#include "SlidingWindow.h"

#include <QDateTime>
#include <QtTest>

using namespace sluice;

namespace {

constexpr qint64 kSecond = 1'000'000;
constexpr qint64 kMinute = 60 * kSecond;
// A realistic epoch time (2024-03-14T15:09:26.535897Z): µs this large lose precision as doubles.
constexpr qint64 kEpoch = 1'710'428'966'535'897;

qint64 utcUs(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0)
{
    return QDateTime(QDate(y, m, d), QTime(hh, mm, ss), Qt::UTC).toMSecsSinceEpoch() * 1000;
}

Gcra::Policy policy(double perSecond, double burst)
{
    Gcra::Policy p;
    p.perSecond = perSecond;
    p.burst = burst;
    return p;
}

// Takes `cost` until denied at a fixed time; returns how many were allowed and the state.
int drain(qint64 *tat, qint64 now, const Gcra::Policy &p, double cost = 1, int cap = 100000)
{
    int allowed = 0;
    while (allowed < cap) {
        const Gcra::Result r = Gcra::take(*tat, now, p, cost);
        if (!r.allowed)
            break;
        *tat = r.tat;
        ++allowed;
    }
    return allowed;
}

SlidingWindow::State windowState(qint64 start, double current, double previous)
{
    SlidingWindow::State s;
    s.windowStartUs = start;
    s.current = current;
    s.previous = previous;
    return s;
}

LimitRule rule(LimitKind kind, double limit, double burst = 0, LimitScope scope = LimitScope::Key)
{
    LimitRule r;
    r.key = "{k:1}:x";
    r.name = "key-x";
    r.scope = scope;
    r.kind = kind;
    r.limit = limit;
    r.burst = burst;
    return r;
}

}  // namespace

class TestLimiterAlgorithms : public QObject
{
    Q_OBJECT

private slots:
    // GCRA
    void gcraFreshBucketAllowsExactlyBurst_data();
    void gcraFreshBucketAllowsExactlyBurst();
    void gcraRefillsAtTheSteadyRate();
    void gcraLongRunKeepsToRatePlusBurst_data();
    void gcraLongRunKeepsToRatePlusBurst();
    void gcraRemainingAndResetCountDown();
    void gcraRetryAfterIsExact_data();
    void gcraRetryAfterIsExact();
    void gcraDenialLeavesStateAlone();
    void gcraFractionalCostsAddUp_data();
    void gcraFractionalCostsAddUp();
    void gcraCostLargerThanBurstNeverFits();
    void gcraZeroCostIsAlwaysAllowed();
    void gcraBurstBelowOneActsAsOne();
    void gcraClockAtZeroAndGoingBack();
    void gcraIdleLifetime();

    // Sliding window
    void windowRollsAtExactBoundaries();
    void windowCountsUpToTheLimit();
    void windowWeightsThePreviousWindow();
    void windowRetryAfterIsExact_data();
    void windowRetryAfterIsExact();
    void windowRetryAfterStaysCorrectOverAWholeWindow();
    void windowResetIsTheEndOfTheFixedWindow();
    void windowFractionalCostsAddUp();
    void windowCostLargerThanLimitNeverFits();
    void windowZeroAndNegativeTimes();
    void windowAdjust();
    void windowAdjustGivesBackAcrossTheBoundary();

    // Calendar months
    void monthIndexAroundTheEpoch();
    void monthMatchesQDate();
    void monthDecemberToJanuary();
    void monthLeapFebruary_data();
    void monthLeapFebruary();

    // LimitRule
    void ruleQuotaAndWindow();
    void ruleTypeNames();
};

// ---- GCRA -------------------------------------------------------------------------------------

void TestLimiterAlgorithms::gcraFreshBucketAllowsExactlyBurst_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("burst");
    QTest::addColumn<qint64>("now");

    QTest::newRow("1/s burst 1") << 1.0 << 1.0 << kEpoch;
    QTest::newRow("10/s burst 20") << 10.0 << 20.0 << kEpoch;
    // Intervals that are not whole microseconds (333333.3 µs, 666666.7 µs, 142857.1 µs).
    QTest::newRow("3/s burst 3") << 3.0 << 3.0 << kEpoch;
    QTest::newRow("1.5/s burst 4") << 1.5 << 4.0 << kEpoch;
    QTest::newRow("7/s burst 10") << 7.0 << 10.0 << kEpoch;
    QTest::newRow("3/s burst 1000") << 3.0 << 1000.0 << kEpoch;
    QTest::newRow("0.3/s burst 7") << 0.3 << 7.0 << kEpoch;
    QTest::newRow("1000/s burst 100") << 1000.0 << 100.0 << kEpoch;
    QTest::newRow("3/s burst 3 at t=1s") << 3.0 << 3.0 << kSecond;
}

void TestLimiterAlgorithms::gcraFreshBucketAllowsExactlyBurst()
{
    QFETCH(double, rate);
    QFETCH(double, burst);
    QFETCH(qint64, now);
    qint64 tat = 0;
    QCOMPARE(drain(&tat, now, policy(rate, burst)), int(burst));
    // A different bucket that waited a long time is just as full, never fuller.
    qint64 idle = now - 3600 * kSecond;
    QCOMPARE(drain(&idle, now, policy(rate, burst)), int(burst));
}

void TestLimiterAlgorithms::gcraRefillsAtTheSteadyRate()
{
    const Gcra::Policy p = policy(2, 4);  // one every 500 ms
    qint64 tat = 0;
    QCOMPARE(drain(&tat, kEpoch, p), 4);
    // One comes back every 500 ms, not before.
    for (int i = 1; i <= 10; ++i) {
        const qint64 at = kEpoch + i * 500'000;
        QVERIFY(!Gcra::take(tat, at - 1, p, 1).allowed);
        const Gcra::Result r = Gcra::take(tat, at, p, 1);
        QVERIFY2(r.allowed, qPrintable(QString::number(i)));
        QCOMPARE(r.remaining, 0.0);
        tat = r.tat;
        QVERIFY(!Gcra::take(tat, at, p, 1).allowed);
    }
    // Idle for 1.2 s: two back (2.4, floored), and the bucket never exceeds the burst.
    const qint64 later = kEpoch + 10 * 500'000 + 1'200'000;
    QCOMPARE(drain(&tat, later, p), 2);
    QCOMPARE(drain(&tat, later + 3600 * kSecond, p), 4);
}

void TestLimiterAlgorithms::gcraLongRunKeepsToRatePlusBurst_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("burst");
    QTest::newRow("3/s burst 3") << 3.0 << 3.0;
    QTest::newRow("7/s burst 2") << 7.0 << 2.0;
    QTest::newRow("0.7/s burst 5") << 0.7 << 5.0;
    QTest::newRow("250/s burst 20") << 250.0 << 20.0;
}

void TestLimiterAlgorithms::gcraLongRunKeepsToRatePlusBurst()
{
    // A client polling every 997 µs for a minute gets the burst plus a minute's worth: never
    // more, and no fewer than one less (the last one may fall just past the minute). With a
    // burst of 2 or more a late poll loses nothing: the bucket is never full while polled.
    QFETCH(double, rate);
    QFETCH(double, burst);
    const Gcra::Policy p = policy(rate, burst);
    qint64 tat = 0;
    int allowed = 0;
    for (qint64 t = 0; t <= kMinute; t += 997) {
        const Gcra::Result r = Gcra::take(tat, kEpoch + t, p, 1);
        if (r.allowed) {
            tat = r.tat;
            ++allowed;
        }
    }
    const int most = int(std::floor(burst + rate * 60 + 1e-9));
    QVERIFY2(allowed <= most && allowed >= most - 1,
             qPrintable(QStringLiteral("%1 allowed, expected %2").arg(allowed).arg(most)));
}

void TestLimiterAlgorithms::gcraRemainingAndResetCountDown()
{
    const Gcra::Policy p = policy(4, 5);  // 250 ms per request
    qint64 tat = 0;
    for (int i = 1; i <= 5; ++i) {
        const Gcra::Result r = Gcra::take(tat, kEpoch, p, 1);
        QVERIFY(r.allowed);
        QCOMPARE(r.remaining, double(5 - i));
        QCOMPARE(r.resetUs, i * 250'000);  // until the bucket is full again
        QCOMPARE(r.retryAfterUs, 0);
        tat = r.tat;
    }
    const Gcra::Result denied = Gcra::take(tat, kEpoch, p, 1);
    QVERIFY(!denied.allowed);
    QCOMPARE(denied.remaining, 0.0);
    QCOMPARE(denied.resetUs, 5 * 250'000);
    QCOMPARE(denied.retryAfterUs, 250'000);
    // A request of 3 with 2 back: remaining says 2, the wait is for one more.
    const Gcra::Result partial = Gcra::take(tat, kEpoch + 500'000, p, 3);
    QVERIFY(!partial.allowed);
    QCOMPARE(partial.remaining, 2.0);
    QCOMPARE(partial.retryAfterUs, 250'000);
}

void TestLimiterAlgorithms::gcraRetryAfterIsExact_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("burst");
    QTest::addColumn<double>("cost");
    QTest::addColumn<qint64>("elapsed");  // after draining the bucket

    QTest::newRow("1/s") << 1.0 << 1.0 << 1.0 << qint64(0);
    QTest::newRow("1/s after 0.3 s") << 1.0 << 1.0 << 1.0 << qint64(300'000);
    QTest::newRow("10/s burst 5") << 10.0 << 5.0 << 1.0 << qint64(0);
    QTest::newRow("3/s burst 3") << 3.0 << 3.0 << 1.0 << qint64(0);
    QTest::newRow("3/s burst 3 cost 2") << 3.0 << 3.0 << 2.0 << qint64(123'457);
    QTest::newRow("7/s burst 10 cost 2.5") << 7.0 << 10.0 << 2.5 << qint64(99'999);
    QTest::newRow("0.01/s burst 2") << 0.01 << 2.0 << 1.0 << qint64(1);
    QTest::newRow("1000/s burst 50 cost 0.5") << 1000.0 << 50.0 << 0.5 << qint64(0);
}

void TestLimiterAlgorithms::gcraRetryAfterIsExact()
{
    QFETCH(double, rate);
    QFETCH(double, burst);
    QFETCH(double, cost);
    QFETCH(qint64, elapsed);
    const Gcra::Policy p = policy(rate, burst);
    qint64 tat = 0;
    QVERIFY(drain(&tat, kEpoch, p, cost) > 0);
    const qint64 now = kEpoch + elapsed;
    const Gcra::Result denied = Gcra::take(tat, now, p, cost);
    QVERIFY(!denied.allowed);
    QVERIFY(denied.retryAfterUs >= 1);
    // After waiting retryAfter the request goes through; one microsecond earlier it does not.
    QVERIFY(!Gcra::take(tat, now + denied.retryAfterUs - 1, p, cost).allowed);
    QVERIFY(Gcra::take(tat, now + denied.retryAfterUs, p, cost).allowed);
}

void TestLimiterAlgorithms::gcraDenialLeavesStateAlone()
{
    const Gcra::Policy p = policy(1, 2);
    qint64 tat = 0;
    QCOMPARE(drain(&tat, kEpoch, p), 2);
    const Gcra::Result r = Gcra::take(tat, kEpoch + 10, p, 1);
    QVERIFY(!r.allowed);
    QCOMPARE(r.tat, tat);
}

void TestLimiterAlgorithms::gcraFractionalCostsAddUp_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("burst");
    QTest::addColumn<double>("cost");
    QTest::addColumn<int>("allowed");

    QTest::newRow("0.5 twice is 1") << 1.0 << 1.0 << 0.5 << 2;
    QTest::newRow("0.25 four times is 1") << 1.0 << 1.0 << 0.25 << 4;
    QTest::newRow("0.5 at 3/s burst 3") << 3.0 << 3.0 << 0.5 << 6;
    QTest::newRow("0.5 at 7/s burst 10") << 7.0 << 10.0 << 0.5 << 20;
    QTest::newRow("2 at burst 5") << 1.0 << 5.0 << 2.0 << 2;
    QTest::newRow("1.5 at burst 3") << 1.0 << 3.0 << 1.5 << 2;
}

void TestLimiterAlgorithms::gcraFractionalCostsAddUp()
{
    QFETCH(double, rate);
    QFETCH(double, burst);
    QFETCH(double, cost);
    QFETCH(int, allowed);
    qint64 tat = 0;
    QCOMPARE(drain(&tat, kEpoch, policy(rate, burst), cost), allowed);

    // Half-cost calls and a full one share the bucket: 0.5 + 0.5 leaves nothing for 1.
    if (cost == 0.5 && burst == 1) {
        qint64 t = 0;
        const Gcra::Policy p = policy(rate, burst);
        Gcra::Result r = Gcra::take(t, kEpoch, p, 0.5);
        QVERIFY(r.allowed);
        QVERIFY(!Gcra::take(r.tat, kEpoch, p, 1).allowed);
        r = Gcra::take(r.tat, kEpoch, p, 0.5);
        QVERIFY(r.allowed);
        QCOMPARE(r.remaining, 0.0);
        QVERIFY(!Gcra::take(r.tat, kEpoch, p, 0.5).allowed);
        // Half a second later half a request is back.
        QVERIFY(Gcra::take(r.tat, kEpoch + 500'000, p, 0.5).allowed);
        QVERIFY(!Gcra::take(r.tat, kEpoch + 500'000, p, 1).allowed);
    }
}

void TestLimiterAlgorithms::gcraCostLargerThanBurstNeverFits()
{
    const Gcra::Policy p = policy(10, 3);
    for (qint64 wait : {qint64(0), kSecond, 3600 * kSecond}) {
        const Gcra::Result r = Gcra::take(0, kEpoch + wait, p, 3.5);
        QVERIFY(!r.allowed);
        QCOMPARE(r.tat, 0);
        QCOMPARE(r.remaining, 3.0);  // the bucket is full, the request is just too large
    }
    QVERIFY(Gcra::take(0, kEpoch, p, 3).allowed);  // exactly the burst fits
}

void TestLimiterAlgorithms::gcraZeroCostIsAlwaysAllowed()
{
    const Gcra::Policy p = policy(1, 2);
    qint64 tat = 0;
    QCOMPARE(drain(&tat, kEpoch, p), 2);
    const Gcra::Result r = Gcra::take(tat, kEpoch, p, 0);
    QVERIFY(r.allowed);
    QCOMPARE(r.tat, tat);  // and takes nothing
    QCOMPARE(r.remaining, 0.0);
}

void TestLimiterAlgorithms::gcraBurstBelowOneActsAsOne()
{
    for (double burst : {0.0, 0.5, -3.0}) {
        qint64 tat = 0;
        QCOMPARE(drain(&tat, kEpoch, policy(2, burst)), 1);
        QCOMPARE(Gcra::idleLifetimeUs(policy(2, burst)), 500'000);
    }
}

void TestLimiterAlgorithms::gcraClockAtZeroAndGoingBack()
{
    // Time zero is a valid instant (a new bucket's TAT is 0 too).
    const Gcra::Policy p = policy(1, 3);
    qint64 tat = 0;
    QCOMPARE(drain(&tat, 0, p), 3);
    QCOMPARE(tat, 3 * kSecond);
    QVERIFY(Gcra::take(tat, kSecond, p, 1).allowed);

    // A clock that steps back never hands out more than the burst.
    tat = 0;
    QCOMPARE(drain(&tat, kEpoch, p), 3);
    QCOMPARE(drain(&tat, kEpoch - 10 * kSecond, p), 0);
    const Gcra::Result r = Gcra::take(tat, kEpoch - 10 * kSecond, p, 1);
    QCOMPARE(r.retryAfterUs, 11 * kSecond);
}

void TestLimiterAlgorithms::gcraIdleLifetime()
{
    const Gcra::Policy p = policy(4, 10);
    QCOMPARE(Gcra::idleLifetimeUs(p), 10 * 250'000);
    QCOMPARE(Gcra::idleLifetimeUs(policy(3, 3)), kSecond);
    // A drained bucket is full again (as good as a new one) exactly one lifetime later.
    qint64 tat = 0;
    QCOMPARE(drain(&tat, kEpoch, p), 10);
    QVERIFY(tat <= kEpoch + Gcra::idleLifetimeUs(p));
    qint64 copy = tat;
    QCOMPARE(drain(&copy, kEpoch + Gcra::idleLifetimeUs(p), p), 10);
    copy = tat;
    QCOMPARE(drain(&copy, kEpoch + Gcra::idleLifetimeUs(p) - 1, p), 9);
}

// ---- Sliding window ---------------------------------------------------------------------------

void TestLimiterAlgorithms::windowRollsAtExactBoundaries()
{
    const qint64 start = 28'506'816 * kMinute;  // a minute boundary near kEpoch
    const SlidingWindow::State s = windowState(start, 7, 3);

    // Anywhere inside the window: unchanged.
    for (qint64 t : {start, start + 1, start + kMinute - 1}) {
        const SlidingWindow::State r = SlidingWindow::roll(s, t, kMinute);
        QCOMPARE(r.windowStartUs, start);
        QCOMPARE(r.current, 7.0);
        QCOMPARE(r.previous, 3.0);
    }
    // Exactly at the next window: the current count becomes the previous one.
    SlidingWindow::State r = SlidingWindow::roll(s, start + kMinute, kMinute);
    QCOMPARE(r.windowStartUs, start + kMinute);
    QCOMPARE(r.current, 0.0);
    QCOMPARE(r.previous, 7.0);
    r = SlidingWindow::roll(s, start + 2 * kMinute - 1, kMinute);
    QCOMPARE(r.previous, 7.0);
    // Two windows on: nothing is left.
    r = SlidingWindow::roll(s, start + 2 * kMinute, kMinute);
    QCOMPARE(r.windowStartUs, start + 2 * kMinute);
    QCOMPARE(r.current, 0.0);
    QCOMPARE(r.previous, 0.0);
    r = SlidingWindow::roll(s, start + 100 * kMinute + 5, kMinute);
    QCOMPARE(r.windowStartUs, start + 100 * kMinute);
    QCOMPARE(r.previous, 0.0);
}

void TestLimiterAlgorithms::windowCountsUpToTheLimit()
{
    SlidingWindow::State s;
    const qint64 start = 28'506'816 * kMinute;
    for (int i = 1; i <= 5; ++i) {
        const SlidingWindow::Result r = SlidingWindow::take(s, start + i * kSecond, kMinute, 5, 1);
        QVERIFY(r.allowed);
        QCOMPARE(r.used, double(i));
        QCOMPARE(r.remaining, double(5 - i));
        QVERIFY(!r.neverFits);
        s = r.state;
    }
    QCOMPARE(s.windowStartUs, start);
    QCOMPARE(s.current, 5.0);
    const SlidingWindow::Result denied =
        SlidingWindow::take(s, start + 30 * kSecond, kMinute, 5, 1);
    QVERIFY(!denied.allowed);
    QVERIFY(!denied.neverFits);
    QCOMPARE(denied.used, 5.0);
    QCOMPARE(denied.remaining, 0.0);
    QCOMPARE(denied.state.current, 5.0);  // the denied cost is not added
    // Everything was used in this window: the earliest is when its weight has decayed by one
    // fifth into the next window (12 s after the boundary).
    QCOMPARE(denied.retryAfterUs, 30 * kSecond + 12 * kSecond);
}

void TestLimiterAlgorithms::windowWeightsThePreviousWindow()
{
    const qint64 start = 28'506'816 * kMinute;
    const SlidingWindow::State full = windowState(start, 10, 0);

    // A quarter into the next window, 75 % of the previous 10 still counts.
    SlidingWindow::Result r =
        SlidingWindow::take(full, start + kMinute + 15 * kSecond, kMinute, 10, 1);
    QVERIFY(r.allowed);
    QCOMPARE(r.used, 8.5);
    QCOMPARE(r.remaining, 1.0);
    r = SlidingWindow::take(r.state, start + kMinute + 15 * kSecond, kMinute, 10, 1);
    QVERIFY(r.allowed);
    QCOMPARE(r.used, 9.5);
    QCOMPARE(r.remaining, 0.0);
    r = SlidingWindow::take(r.state, start + kMinute + 15 * kSecond, kMinute, 10, 1);
    QVERIFY(!r.allowed);
    QCOMPARE(r.used, 9.5);

    // Halfway through: 5 of the previous 10 count.
    r = SlidingWindow::take(full, start + kMinute + 30 * kSecond, kMinute, 10, 5);
    QVERIFY(r.allowed);
    QCOMPARE(r.used, 10.0);
    QVERIFY(!SlidingWindow::take(full, start + kMinute + 30 * kSecond - 1, kMinute, 10, 5).allowed);

    // Right at the boundary the previous window counts in full.
    QVERIFY(!SlidingWindow::take(full, start + kMinute, kMinute, 10, 1).allowed);
    // Two windows later it no longer counts at all.
    r = SlidingWindow::take(full, start + 2 * kMinute, kMinute, 10, 10);
    QVERIFY(r.allowed);
    QCOMPARE(r.used, 10.0);
}

void TestLimiterAlgorithms::windowRetryAfterIsExact_data()
{
    QTest::addColumn<double>("previous");
    QTest::addColumn<double>("current");
    QTest::addColumn<double>("limit");
    QTest::addColumn<double>("cost");
    QTest::addColumn<qint64>("offset");  // into the current window

    // Waits within this window (the previous window's weight decays enough).
    QTest::newRow("prev 10, cur 0") << 10.0 << 0.0 << 10.0 << 1.0 << qint64(0);
    QTest::newRow("prev 10, cur 3") << 10.0 << 3.0 << 10.0 << 1.0 << 5 * kSecond;
    QTest::newRow("prev 7, cur 2, cost 3") << 7.0 << 2.0 << 9.0 << 3.0 << 17 * kSecond + 3;
    QTest::newRow("prev 100, cur 33, 0.5") << 100.0 << 33.0 << 100.0 << 0.5 << 5 * kSecond;
    QTest::newRow("prev 3, cur 0, limit 3") << 3.0 << 0.0 << 3.0 << 1.0 << qint64(1);
    // Waits into the next window (this window alone is over).
    QTest::newRow("cur full") << 0.0 << 10.0 << 10.0 << 1.0 << 10 * kSecond;
    QTest::newRow("cur full, prev too") << 10.0 << 10.0 << 10.0 << 1.0 << 59 * kSecond;
    QTest::newRow("cur 9, cost 4") << 0.0 << 9.0 << 10.0 << 4.0 << 20 * kSecond + 7;
    QTest::newRow("cur 3 of 3") << 0.0 << 3.0 << 3.0 << 1.0 << qint64(0);
    QTest::newRow("tokens") << 90'000.0 << 70'000.0 << 100'000.0 << 4096.0 << 42 * kSecond;
    QTest::newRow("tokens, cur over") << 0.0 << 120'000.0 << 100'000.0 << 4096.0 << kSecond;
}

void TestLimiterAlgorithms::windowRetryAfterIsExact()
{
    QFETCH(double, previous);
    QFETCH(double, current);
    QFETCH(double, limit);
    QFETCH(double, cost);
    QFETCH(qint64, offset);
    const qint64 start = 28'506'816 * kMinute;
    const SlidingWindow::State s = windowState(start, current, previous);
    const qint64 now = start + offset;
    const SlidingWindow::Result denied = SlidingWindow::take(s, now, kMinute, limit, cost);
    QVERIFY(!denied.allowed);
    QVERIFY(!denied.neverFits);
    QVERIFY(denied.retryAfterUs >= 1);
    const qint64 at = now + denied.retryAfterUs;
    QVERIFY2(
        !SlidingWindow::take(s, at - 1, kMinute, limit, cost).allowed,
        qPrintable(QStringLiteral("allowed 1 µs before retryAfter %1").arg(denied.retryAfterUs)));
    QVERIFY2(SlidingWindow::take(s, at, kMinute, limit, cost).allowed,
             qPrintable(QStringLiteral("denied at retryAfter %1").arg(denied.retryAfterUs)));
}

void TestLimiterAlgorithms::windowRetryAfterStaysCorrectOverAWholeWindow()
{
    // The same property at every 0.7 s through a window, for a window spent partly before.
    const qint64 start = 28'506'816 * kMinute;
    const SlidingWindow::State s = windowState(start, 4, 12);
    int checked = 0;
    for (qint64 offset = 0; offset < kMinute; offset += 700'001) {
        const qint64 now = start + offset;
        const SlidingWindow::Result r = SlidingWindow::take(s, now, kMinute, 12, 2);
        if (r.allowed)
            continue;
        ++checked;
        const qint64 at = now + r.retryAfterUs;
        QVERIFY(!SlidingWindow::take(s, at - 1, kMinute, 12, 2).allowed);
        QVERIFY(SlidingWindow::take(s, at, kMinute, 12, 2).allowed);
        QVERIFY(at <= start + kMinute);  // 12 * (1 - e) + 4 + 2 <= 12 within this window
    }
    QVERIFY(checked > 10);
}

void TestLimiterAlgorithms::windowResetIsTheEndOfTheFixedWindow()
{
    const qint64 start = 28'506'816 * kMinute;
    SlidingWindow::Result r = SlidingWindow::take({}, start, kMinute, 10, 1);
    QCOMPARE(r.resetUs, kMinute);
    r = SlidingWindow::take(r.state, start + kMinute - 1, kMinute, 10, 1);
    QCOMPARE(r.resetUs, 1);
    r = SlidingWindow::take(r.state, start + kMinute, kMinute, 10, 1);
    QCOMPARE(r.resetUs, kMinute);
    QCOMPARE(r.state.previous, 2.0);
    QCOMPARE(r.state.current, 1.0);
}

void TestLimiterAlgorithms::windowFractionalCostsAddUp()
{
    const qint64 start = 28'506'816 * kMinute;
    // 0.5 twice is one request.
    SlidingWindow::State s;
    for (int i = 0; i < 2; ++i) {
        const SlidingWindow::Result r = SlidingWindow::take(s, start, kMinute, 1, 0.5);
        QVERIFY(r.allowed);
        s = r.state;
    }
    QCOMPARE(s.current, 1.0);
    QVERIFY(!SlidingWindow::take(s, start, kMinute, 1, 0.5).allowed);

    // 0.1 ten times is exactly a limit of 1 (0.1 is not exact in binary).
    s = {};
    for (int i = 0; i < 10; ++i) {
        const SlidingWindow::Result r = SlidingWindow::take(s, start, kMinute, 1, 0.1);
        QVERIFY2(r.allowed, qPrintable(QString::number(i)));
        s = r.state;
    }
    const SlidingWindow::Result last = SlidingWindow::take(s, start, kMinute, 1, 0.1);
    QVERIFY(!last.allowed);
    QCOMPARE(last.remaining, 0.0);

    // 0.3 three times fits a limit of 1 with 0.1 to spare: remaining is floored to 0.
    s = {};
    SlidingWindow::Result r;
    for (int i = 0; i < 3; ++i) {
        r = SlidingWindow::take(s, start, kMinute, 1, 0.3);
        QVERIFY(r.allowed);
        s = r.state;
    }
    QCOMPARE(r.remaining, 0.0);
    QVERIFY(!SlidingWindow::take(s, start, kMinute, 1, 0.3).allowed);
    QVERIFY(SlidingWindow::take(s, start, kMinute, 1, 0.1).allowed);
}

void TestLimiterAlgorithms::windowCostLargerThanLimitNeverFits()
{
    const qint64 start = 28'506'816 * kMinute;
    const SlidingWindow::Result r = SlidingWindow::take({}, start + 5, kMinute, 1000, 1001);
    QVERIFY(!r.allowed);
    QVERIFY(r.neverFits);
    QCOMPARE(r.used, 0.0);
    QCOMPARE(r.remaining, 1000.0);
    QVERIFY(r.retryAfterUs > 0);
    QCOMPARE(r.state.current, 0.0);
    // Exactly the limit fits an empty window; a full window denies it without "never fits".
    const SlidingWindow::Result exact = SlidingWindow::take({}, start, kMinute, 1000, 1000);
    QVERIFY(exact.allowed);
    QCOMPARE(exact.remaining, 0.0);
    const SlidingWindow::Result busy = SlidingWindow::take(exact.state, start, kMinute, 1000, 1000);
    QVERIFY(!busy.allowed);
    QVERIFY(!busy.neverFits);
    // A zero limit: nothing but free requests fits.
    QVERIFY(SlidingWindow::take({}, start, kMinute, 0, 1).neverFits);
    QVERIFY(SlidingWindow::take({}, start, kMinute, 0, 0).allowed);
}

void TestLimiterAlgorithms::windowZeroAndNegativeTimes()
{
    // The epoch itself starts a window; a default state is an empty window at 0.
    SlidingWindow::Result r = SlidingWindow::take({}, 0, kMinute, 2, 1);
    QVERIFY(r.allowed);
    QCOMPARE(r.state.windowStartUs, 0);
    QCOMPARE(r.resetUs, kMinute);
    r = SlidingWindow::take(r.state, kMinute - 1, kMinute, 2, 1);
    QVERIFY(r.allowed);
    QVERIFY(!SlidingWindow::take(r.state, kMinute - 1, kMinute, 2, 1).allowed);

    // Before the epoch windows are still aligned to whole windows (floored, not truncated).
    SlidingWindow::State s = SlidingWindow::roll({}, -1, kMinute);
    QCOMPARE(s.windowStartUs, -kMinute);
    s = SlidingWindow::roll({}, -kMinute, kMinute);
    QCOMPARE(s.windowStartUs, -kMinute);
    s = SlidingWindow::roll({}, -kMinute - 1, kMinute);
    QCOMPARE(s.windowStartUs, -2 * kMinute);
    r = SlidingWindow::take({}, -10 * kSecond, kMinute, 5, 1);
    QVERIFY(r.allowed);
    QCOMPARE(r.resetUs, 10 * kSecond);
    // ...and roll into the window at 0 like any other.
    s = SlidingWindow::roll(r.state, 0, kMinute);
    QCOMPARE(s.windowStartUs, 0);
    QCOMPARE(s.previous, 1.0);
}

void TestLimiterAlgorithms::windowAdjust()
{
    const qint64 start = 28'506'816 * kMinute;
    SlidingWindow::State s = windowState(start, 500, 200);
    s = SlidingWindow::adjust(s, start + kSecond, kMinute, 300);
    QCOMPARE(s.current, 800.0);
    QCOMPARE(s.previous, 200.0);
    s = SlidingWindow::adjust(s, start + 2 * kSecond, kMinute, -100);
    QCOMPARE(s.current, 700.0);
    // More given back than was counted: never below zero.
    s = SlidingWindow::adjust(s, start + 3 * kSecond, kMinute, -10'000);
    QCOMPARE(s.current, 0.0);
    QVERIFY(s.previous >= 0);
    // Adjusting rolls forward first: a positive delta lands in the window holding now.
    s = SlidingWindow::adjust(windowState(start, 500, 200), start + kMinute + 1, kMinute, 50);
    QCOMPARE(s.windowStartUs, start + kMinute);
    QCOMPARE(s.previous, 500.0);
    QCOMPARE(s.current, 50.0);
    // Long after, nothing is left to adjust but the delta itself.
    s = SlidingWindow::adjust(windowState(start, 500, 200), start + 5 * kMinute, kMinute, 40);
    QCOMPARE(s.previous, 0.0);
    QCOMPARE(s.current, 40.0);
    s = SlidingWindow::adjust(windowState(start, 500, 200), start + 5 * kMinute, kMinute, -40);
    QCOMPARE(s.current, 0.0);
}

void TestLimiterAlgorithms::windowAdjustGivesBackAcrossTheBoundary()
{
    // A streamed answer reserved 4000 tokens at 0:59 and used 500; it is settled at 1:01.
    // The 3500 given back were counted in what is now the previous window, and must come off
    // it: otherwise they keep weighing on the limit for another minute.
    const qint64 start = 28'506'816 * kMinute;
    SlidingWindow::Result r = SlidingWindow::take({}, start + 59 * kSecond, kMinute, 5000, 4000);
    QVERIFY(r.allowed);
    const SlidingWindow::State settled =
        SlidingWindow::adjust(r.state, start + kMinute + kSecond, kMinute, -3500);
    QCOMPARE(settled.current, 0.0);
    QCOMPARE(settled.previous, 500.0);
    // A client that used 500 tokens may use 4500 more right away.
    QVERIFY(SlidingWindow::take(settled, start + kMinute + kSecond, kMinute, 5000, 4500).allowed);
}

// ---- Calendar months --------------------------------------------------------------------------

void TestLimiterAlgorithms::monthIndexAroundTheEpoch()
{
    QCOMPARE(CalendarMonth::indexOf(0), 0);
    QCOMPARE(CalendarMonth::indexOf(-1), -1);  // 1969-12-31T23:59:59.999999Z
    QCOMPARE(CalendarMonth::indexOf(utcUs(1969, 12, 1)), -1);
    QCOMPARE(CalendarMonth::indexOf(utcUs(1969, 12, 1) - 1), -2);
    QCOMPARE(CalendarMonth::indexOf(utcUs(1969, 1, 1)), -12);
    QCOMPARE(CalendarMonth::indexOf(utcUs(1969, 1, 1) - 1), -13);
    QCOMPARE(CalendarMonth::startUs(0), 0);
    QCOMPARE(CalendarMonth::startUs(-1), utcUs(1969, 12, 1));
    QCOMPARE(CalendarMonth::startUs(-12), utcUs(1969, 1, 1));
    QCOMPARE(CalendarMonth::startUs(-13), utcUs(1968, 12, 1));
    QCOMPARE(CalendarMonth::startUs(1), utcUs(1970, 2, 1));
    QCOMPARE(CalendarMonth::indexOf(kEpoch), (2024 - 1970) * 12 + 2);
    QCOMPARE(CalendarMonth::nextStartUs(kEpoch), utcUs(2024, 4, 1));
}

void TestLimiterAlgorithms::monthMatchesQDate()
{
    // Every month from 1900 to 2200 against Qt's calendar, on both sides of each boundary.
    for (int y = 1900; y <= 2200; ++y) {
        for (int m = 1; m <= 12; ++m) {
            const qint64 index = qint64(y - 1970) * 12 + (m - 1);
            const qint64 start = utcUs(y, m, 1);
            QCOMPARE(CalendarMonth::startUs(index), start);
            QCOMPARE(CalendarMonth::indexOf(start), index);
            QCOMPARE(CalendarMonth::indexOf(start - 1), index - 1);
            QCOMPARE(CalendarMonth::indexOf(start + 15 * 86'400 * kSecond), index);
            QCOMPARE(CalendarMonth::nextStartUs(start - 1), start);
            QCOMPARE(CalendarMonth::nextStartUs(start), utcUs(m == 12 ? y + 1 : y, m % 12 + 1, 1));
        }
    }
}

void TestLimiterAlgorithms::monthDecemberToJanuary()
{
    const qint64 newYear = utcUs(2024, 1, 1);
    const qint64 lastOfDecember = newYear - 1;  // 2023-12-31T23:59:59.999999Z
    QCOMPARE(CalendarMonth::indexOf(lastOfDecember), (2023 - 1970) * 12 + 11);
    QCOMPARE(CalendarMonth::indexOf(newYear), (2024 - 1970) * 12);
    QCOMPARE(CalendarMonth::indexOf(newYear) - CalendarMonth::indexOf(lastOfDecember), 1);
    QCOMPARE(CalendarMonth::nextStartUs(lastOfDecember), newYear);
    QCOMPARE(CalendarMonth::nextStartUs(utcUs(2023, 12, 1)), newYear);
    QCOMPARE(CalendarMonth::nextStartUs(newYear), utcUs(2024, 2, 1));
    QCOMPARE(CalendarMonth::startUs(CalendarMonth::indexOf(lastOfDecember) + 1), newYear);

    // A monthly rule's window is the length of the month it is in.
    const LimitRule monthly = rule(LimitKind::MonthlyRequests, 1000);
    QCOMPARE(monthly.windowSeconds(lastOfDecember), 31 * 86'400);
    QCOMPARE(monthly.windowSeconds(utcUs(2023, 11, 30, 12)), 30 * 86'400);
}

void TestLimiterAlgorithms::monthLeapFebruary_data()
{
    QTest::addColumn<int>("year");
    QTest::addColumn<int>("days");
    QTest::newRow("2023") << 2023 << 28;
    QTest::newRow("2024 (leap)") << 2024 << 29;
    QTest::newRow("1900 (no leap, century)") << 1900 << 28;
    QTest::newRow("2000 (leap, 400)") << 2000 << 29;
    QTest::newRow("2100 (no leap)") << 2100 << 28;
}

void TestLimiterAlgorithms::monthLeapFebruary()
{
    QFETCH(int, year);
    QFETCH(int, days);
    const qint64 feb = utcUs(year, 2, 1);
    const qint64 march = utcUs(year, 3, 1);
    QCOMPARE(CalendarMonth::nextStartUs(feb), march);
    QCOMPARE(march - feb, days * 86'400 * kSecond);
    // The last microsecond of February is still February, leap day or not.
    QCOMPARE(CalendarMonth::indexOf(march - 1), CalendarMonth::indexOf(feb));
    if (days == 29)
        QCOMPARE(CalendarMonth::indexOf(utcUs(year, 2, 29, 23, 59, 59)),
                 CalendarMonth::indexOf(feb));
    QCOMPARE(rule(LimitKind::MonthlyTokens, 1).windowSeconds(feb + 1), qint64(days) * 86'400);
}

// ---- LimitRule --------------------------------------------------------------------------------

void TestLimiterAlgorithms::ruleQuotaAndWindow()
{
    // A rate with burst B is advertised as "B per B/rate seconds".
    LimitRule r = rule(LimitKind::RequestRate, 10, 20);
    QCOMPARE(r.quota(), 20.0);
    QCOMPARE(r.windowSeconds(kEpoch), 2);
    r = rule(LimitKind::RequestRate, 50, 10);
    QCOMPARE(r.windowSeconds(kEpoch), 1);  // never 0
    r = rule(LimitKind::RequestRate, 0.5, 0);
    QCOMPARE(r.quota(), 1.0);  // burst below one counts as one
    QCOMPARE(r.windowSeconds(kEpoch), 2);
    r = rule(LimitKind::RequestRate, 3, 10);
    QCOMPARE(r.windowSeconds(kEpoch), 4);  // 3.33 s, rounded up

    r = rule(LimitKind::RequestsPerMinute, 600);
    QCOMPARE(r.quota(), 600.0);
    QCOMPARE(r.windowSeconds(kEpoch), 60);
    r = rule(LimitKind::TokensPerMinute, 100'000);
    QCOMPARE(r.quota(), 100'000.0);
    QCOMPARE(r.windowSeconds(kEpoch), 60);
    r = rule(LimitKind::MonthlyRequests, 5000);
    QCOMPARE(r.quota(), 5000.0);
    QCOMPARE(r.windowSeconds(kEpoch), 31 * 86'400);  // March 2024

    QVERIFY(!rule(LimitKind::RequestRate, 1).countsTokens());
    QVERIFY(!rule(LimitKind::RequestsPerMinute, 1).countsTokens());
    QVERIFY(rule(LimitKind::TokensPerMinute, 1).countsTokens());
    QVERIFY(!rule(LimitKind::MonthlyRequests, 1).countsTokens());
    QVERIFY(rule(LimitKind::MonthlyTokens, 1).countsTokens());
    QVERIFY(rule(LimitKind::MonthlyRequests, 1).isMonthly());
    QVERIFY(rule(LimitKind::MonthlyTokens, 1).isMonthly());
    QVERIFY(!rule(LimitKind::TokensPerMinute, 1).isMonthly());
}

void TestLimiterAlgorithms::ruleTypeNames()
{
    QCOMPARE(LimitRule::scopeName(LimitScope::User), "user");
    QCOMPARE(LimitRule::scopeName(LimitScope::Key), "key");
    QCOMPARE(LimitRule::scopeName(LimitScope::Model), "model");
    QCOMPARE(LimitRule::scopeName(LimitScope::Ip), "ip");
    QCOMPARE(LimitRule::scopeName(LimitScope::Upstream), "upstream");

    QCOMPARE(rule(LimitKind::RequestRate, 1, 1, LimitScope::User).typeName(), "user");
    QCOMPARE(rule(LimitKind::RequestsPerMinute, 1, 0, LimitScope::Key).typeName(), "key");
    QCOMPARE(rule(LimitKind::RequestRate, 1, 1, LimitScope::Ip).typeName(), "ip");
    QCOMPARE(rule(LimitKind::TokensPerMinute, 1, 0, LimitScope::User).typeName(), "tokens");
    QCOMPARE(rule(LimitKind::MonthlyRequests, 1, 0, LimitScope::Key).typeName(), "monthly");
    QCOMPARE(rule(LimitKind::MonthlyTokens, 1, 0, LimitScope::User).typeName(), "monthly");
}

QTEST_GUILESS_MAIN(TestLimiterAlgorithms)
#include "tst_limiteralgorithms.moc"
