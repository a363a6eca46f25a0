#include "AuthFailureThrottle.h"

#include <cmath>

namespace sluice {

void AuthFailureThrottle::Window::roll(qint64 nowMinute)
{
    if (nowMinute == minute)
        return;
    previous = (nowMinute == minute + 1) ? current : 0;
    current = 0;
    minute = nowMinute;
}

AuthFailureThrottle::Stripe &AuthFailureThrottle::stripeFor(const QByteArray &ip)
{
    return m_stripes[qHash(ip) % kStripes];
}

int AuthFailureThrottle::retryAfter(const QByteArray &ip, qint64 perMinute, qint64 nowMs)
{
    if (perMinute <= 0)
        return 0;
    Stripe &s = stripeFor(ip);
    QMutexLocker lock(&s.mutex);
    auto it = s.windows.find(ip);
    if (it == s.windows.end())
        return 0;
    const qint64 nowMinute = nowMs / 60000;
    it->roll(nowMinute);
    // Sliding window estimate: the previous minute weighted by how much of it still overlaps.
    const double elapsed = double(nowMs % 60000) / 60000.0;
    const double used = double(it->previous) * (1.0 - elapsed) + double(it->current);
    if (used < double(perMinute))
        return 0;
    return qMax(1, int(std::ceil((60000 - nowMs % 60000) / 1000.0)));
}

void AuthFailureThrottle::recordFailure(const QByteArray &ip, qint64 nowMs)
{
    Stripe &s = stripeFor(ip);
    QMutexLocker lock(&s.mutex);
    const qint64 nowMinute = nowMs / 60000;
    if (s.windows.size() >= kMaxEntriesPerStripe && !s.windows.contains(ip)) {
        for (auto it = s.windows.begin(); it != s.windows.end();) {
            if (it->minute < nowMinute - 1)
                it = s.windows.erase(it);
            else
                ++it;
        }
    }
    Window &w = s.windows[ip];
    w.roll(nowMinute);
    ++w.current;
}

}  // namespace sluice
