#pragma once

#include <QtGlobal>

namespace sluice {

// Generic cell rate algorithm: a token bucket kept as one "theoretical arrival time" (TAT).
// Pure functions of (state, now, policy) so they are tested with a fake clock. Times are
// microseconds on any monotonic or wall clock, as long as one bucket always sees the same one.
class Gcra
{
public:
    struct Policy
    {
        double perSecond = 0;  // steady rate; > 0
        double burst = 1;      // requests allowed at once from a full bucket; >= 1
    };
    struct Result
    {
        bool allowed = false;
        qint64 tat = 0;           // the new state (unchanged when denied)
        double remaining = 0;     // requests still allowed right now after this one
        qint64 resetUs = 0;       // until the bucket is full again
        qint64 retryAfterUs = 0;  // until `cost` would be allowed (denied only)
    };

    // `cost` requests at time `nowUs` against a bucket whose TAT is `tat` (0 = new bucket).
    static Result take(qint64 tat, qint64 nowUs, const Policy &policy, double cost);
    // How long an idle bucket takes to be full again: its state may be dropped after that.
    static qint64 idleLifetimeUs(const Policy &policy);
};

}  // namespace sluice
