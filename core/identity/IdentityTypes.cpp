#include "IdentityTypes.h"

namespace sluice {

bool LimitOverrides::isEmpty() const
{
    return !requestsPerSecond && !burst && !requestsPerMinute && !tokensPerMinute &&
           !monthlyRequests && !monthlyTokens && !concurrentRequests;
}

LimitOverrides LimitOverrides::overlaidWith(const LimitOverrides &over) const
{
    LimitOverrides r = *this;
    if (over.requestsPerSecond)
        r.requestsPerSecond = over.requestsPerSecond;
    if (over.burst)
        r.burst = over.burst;
    if (over.requestsPerMinute)
        r.requestsPerMinute = over.requestsPerMinute;
    if (over.tokensPerMinute)
        r.tokensPerMinute = over.tokensPerMinute;
    if (over.monthlyRequests)
        r.monthlyRequests = over.monthlyRequests;
    if (over.monthlyTokens)
        r.monthlyTokens = over.monthlyTokens;
    if (over.concurrentRequests)
        r.concurrentRequests = over.concurrentRequests;
    return r;
}

}  // namespace sluice
