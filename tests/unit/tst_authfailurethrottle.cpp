// AuthFailureThrottle: failed authentications per client IP in a sliding minute.
#include "AuthFailureThrottle.h"

#include <QTest>
#include <thread>

using namespace sluice;

class TestAuthFailureThrottle : public QObject
{
    Q_OBJECT
private slots:
    void allowsUpToTheBudgetThenRefuses()
    {
        AuthFailureThrottle t;
        const qint64 t0 = 1'000'000 * 60'000LL;  // a minute boundary
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(t.retryAfter("1.2.3.4", 5, t0 + i), 0);
            t.recordFailure("1.2.3.4", t0 + i);
        }
        const int wait = t.retryAfter("1.2.3.4", 5, t0 + 10);
        QVERIFY(wait > 0 && wait <= 60);
        QCOMPARE(t.retryAfter("5.6.7.8", 5, t0 + 10), 0);  // other addresses unaffected
        QCOMPARE(t.retryAfter("1.2.3.4", 0, t0 + 10), 0);  // 0 = unlimited
    }

    void slidingWindowDecays()
    {
        AuthFailureThrottle t;
        const qint64 t0 = 2'000'000 * 60'000LL;
        for (int i = 0; i < 10; ++i)
            t.recordFailure("ip", t0 + 59'000);
        QVERIFY(t.retryAfter("ip", 10, t0 + 59'500) > 0);
        // Half a minute later the previous minute counts half: 5 of 10 used.
        QCOMPARE(t.retryAfter("ip", 10, t0 + 60'000 + 30'000), 0);
        // Two minutes later nothing is left.
        QCOMPARE(t.retryAfter("ip", 1, t0 + 180'000), 0);
    }

    void concurrentRecording()
    {
        AuthFailureThrottle t;
        const qint64 t0 = 3'000'000 * 60'000LL;
        std::vector<std::thread> threads;
        for (int n = 0; n < 4; ++n)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    t.recordFailure("ip", t0 + 1);
            });
        for (auto &th : threads)
            th.join();
        QCOMPARE(t.retryAfter("ip", 4001, t0 + 2), 0);
        QVERIFY(t.retryAfter("ip", 4000, t0 + 2) > 0);
    }
};

QTEST_GUILESS_MAIN(TestAuthFailureThrottle)
#include "tst_authfailurethrottle.moc"
