// UpstreamRetryAfter: how long an upstream that answered 429 asked to be left alone, from each
// provider's headers.
#include "HttpHeaders.h"
#include "UpstreamRetryAfter.h"

#include <QDateTime>
#include <QTest>

using namespace sluice;

class TestUpstreamRetryAfter : public QObject
{
    Q_OBJECT

    static constexpr qint64 kNow = 1'790'000'000'000;  // epoch ms

    static HttpHeaders headers(std::initializer_list<std::pair<const char *, QByteArray>> fields)
    {
        HttpHeaders h;
        for (const auto &[name, value] : fields)
            h.add(name, value);
        return h;
    }
    static QByteArray rfc3339(qint64 ms)
    {
        return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate).toLatin1();
    }

private slots:
    void openAiDurations_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<qint64>("ms");
        QTest::newRow("ms") << QByteArray("20ms") << qint64(20);
        QTest::newRow("s") << QByteArray("1s") << qint64(1000);
        QTest::newRow("fraction") << QByteArray("1.5s") << qint64(1500);
        QTest::newRow("m s") << QByteArray("6m0s") << qint64(360'000);
        QTest::newRow("h m s") << QByteArray("1h2m3s") << qint64(3'723'000);
        QTest::newRow("m ms") << QByteArray("1m20ms") << qint64(60'020);
        QTest::newRow("empty") << QByteArray("") << qint64(-1);
        QTest::newRow("no unit") << QByteArray("15") << qint64(-1);
        QTest::newRow("junk") << QByteArray("soon") << qint64(-1);
    }
    void openAiDurations()
    {
        QFETCH(QByteArray, text);
        QFETCH(qint64, ms);
        QCOMPARE(UpstreamRetryAfter::parseDurationMs(text), ms);
    }

    void retryAfterFirst()
    {
        // retry-after-ms beats Retry-After, which beats the per-limit resets.
        QCOMPARE(UpstreamRetryAfter::waitMs(
                     headers({{"retry-after-ms", "1500"}, {"Retry-After", "9"}}), kNow),
                 1500);
        QCOMPARE(UpstreamRetryAfter::waitMs(
                     headers({{"Retry-After", "9"}, {"x-ratelimit-reset-requests", "1m0s"}}), kNow),
                 9000);
        // An HTTP date.
        const QByteArray date = QDateTime::fromMSecsSinceEpoch(kNow + 30'000, Qt::UTC)
                                    .toString(Qt::RFC2822Date)
                                    .toLatin1();
        QCOMPARE(UpstreamRetryAfter::waitMs(headers({{"Retry-After", date}}), kNow), 30'000);
    }

    void openAiResetOfTheExhaustedLimit()
    {
        // Tokens are spent (remaining 0): their reset, not the requests' longer one.
        const HttpHeaders h = headers({{"x-ratelimit-remaining-requests", "12"},
                                       {"x-ratelimit-reset-requests", "2m0s"},
                                       {"x-ratelimit-remaining-tokens", "0"},
                                       {"x-ratelimit-reset-tokens", "7.5s"}});
        QCOMPARE(UpstreamRetryAfter::waitMs(h, kNow), 7500);
        // Nothing says which one is spent: the longer wait.
        const HttpHeaders unsure =
            headers({{"x-ratelimit-reset-requests", "2m0s"}, {"x-ratelimit-reset-tokens", "7.5s"}});
        QCOMPARE(UpstreamRetryAfter::waitMs(unsure, kNow), 120'000);
    }

    void anthropicResetTimes()
    {
        const HttpHeaders h =
            headers({{"anthropic-ratelimit-requests-remaining", "0"},
                     {"anthropic-ratelimit-requests-reset", rfc3339(kNow + 12'000)},
                     {"anthropic-ratelimit-tokens-remaining", "5000"},
                     {"anthropic-ratelimit-tokens-reset", rfc3339(kNow + 50'000)}});
        QCOMPARE(UpstreamRetryAfter::waitMs(h, kNow), 12'000);
        const HttpHeaders input =
            headers({{"anthropic-ratelimit-input-tokens-remaining", "0"},
                     {"anthropic-ratelimit-input-tokens-reset", rfc3339(kNow + 4'000)}});
        QCOMPARE(UpstreamRetryAfter::waitMs(input, kNow), 4'000);
    }

    void boundsAndDefault()
    {
        QCOMPARE(UpstreamRetryAfter::waitMs(headers({}), kNow), UpstreamRetryAfter::kDefaultMs);
        QCOMPARE(UpstreamRetryAfter::waitMs(headers({{"Retry-After", "never"}}), kNow),
                 UpstreamRetryAfter::kDefaultMs);
        // A week is capped: a broken header cannot bench an upstream for days.
        QCOMPARE(UpstreamRetryAfter::waitMs(headers({{"Retry-After", "604800"}}), kNow),
                 UpstreamRetryAfter::kMaxMs);
        // "Retry now" and a reset already past: no rest at all.
        QCOMPARE(UpstreamRetryAfter::waitMs(headers({{"Retry-After", "0"}}), kNow), 0);
        QCOMPARE(UpstreamRetryAfter::waitMs(
                     headers({{"anthropic-ratelimit-requests-remaining", "0"},
                              {"anthropic-ratelimit-requests-reset", rfc3339(kNow - 5'000)}}),
                     kNow),
                 0);
    }
};

QTEST_APPLESS_MAIN(TestUpstreamRetryAfter)
#include "tst_upstreamretryafter.moc"
