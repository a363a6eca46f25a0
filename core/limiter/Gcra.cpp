#include "Gcra.h"

#include <cmath>

namespace sluice {

Gcra::Result Gcra::take(qint64 tat, qint64 nowUs, const Policy &policy, double cost)
{
    const double interval = 1e6 / policy.perSecond;  // µs per request
    const double tolerance = interval * std::max(1.0, policy.burst);
    const qint64 base = std::max(tat, nowUs);
    // Relative to now: epoch µs as doubles only resolve a quarter of a microsecond.
    const double ahead = double(base - nowUs);  // how far the TAT is past now
    const double newAhead = ahead + cost * interval;
    Result r;
    if (newAhead > tolerance) {
        r.allowed = false;
        r.tat = tat;
        r.retryAfterUs = qint64(std::ceil(newAhead - tolerance));
        r.remaining = std::max(0.0, std::floor((tolerance - ahead) / interval + 1e-9));
        r.resetUs = base - nowUs;
        return r;
    }
    r.allowed = true;
    // Rounded down: rounding the TAT up would lose up to 1 µs per request, and a burst of B
    // would no longer fit once B of those added up to a fraction of an interval (3/s, burst 3).
    r.tat = nowUs + qint64(std::floor(newAhead));
    r.remaining = std::max(0.0, std::floor((tolerance - newAhead) / interval + 1e-9));
    r.resetUs = r.tat - nowUs;
    return r;
}

qint64 Gcra::idleLifetimeUs(const Policy &policy)
{
    return qint64(std::ceil(1e6 / policy.perSecond * std::max(1.0, policy.burst)));
}

}  // namespace sluice
