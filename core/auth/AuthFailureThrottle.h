#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <array>

namespace sluice {

// Counts failed authentications per client IP in a sliding one-minute window (the "anonymous"
// tier's requests_per_minute), so key guessing from one address is throttled. Striped locks:
// two workers only contend when their clients hash to the same stripe. The limiter issue
// replaces this with the general Limiter keyed by IP.
class AuthFailureThrottle
{
public:
    // Seconds to wait when `ip` has used up `perMinute` failures, else 0. perMinute 0 = never.
    int retryAfter(const QByteArray &ip, qint64 perMinute, qint64 nowMs);
    void recordFailure(const QByteArray &ip, qint64 nowMs);

private:
    struct Window
    {
        qint64 minute = 0;  // epoch minute of `current`
        qint64 current = 0;
        qint64 previous = 0;
        void roll(qint64 nowMinute);
    };
    struct Stripe
    {
        QMutex mutex;
        QHash<QByteArray, Window> windows;
    };
    Stripe &stripeFor(const QByteArray &ip);
    static constexpr int kStripes = 32;
    static constexpr int kMaxEntriesPerStripe = 20000;  // bounded memory under address spraying
    std::array<Stripe, kStripes> m_stripes;
};

}  // namespace sluice
