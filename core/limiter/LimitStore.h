#pragma once

#include "LimitDecision.h"

#include <functional>

namespace sluice {

// Where limit state lives: memory (one gateway) or Redis (several). A decision checks every
// rule of the request at once and commits all of them or none.
class LimitStore
{
public:
    using Done = std::function<void(LimitDecision)>;
    virtual ~LimitStore() = default;

    virtual const char *name() const = 0;  // "memory" | "redis" (metrics label)
    // Calls `done` exactly once, on the calling thread; possibly before returning.
    virtual void decide(const LimitRequest &request, Done done) = 0;
    // Applies the real token count of a finished request.
    virtual void settle(const LimitSettlement &settlement) = 0;
    // Raises a monthly counter to `used` for the current month (never lowers it): the ledger's
    // month-to-date totals at start, so a restart never hands out a fresh month.
    virtual void seedMonthly(const LimitRule &rule, double used) = 0;
    // Gives back the in-flight slots an allowed decision took on its concurrency rules;
    // `store` is the decision's (a fallback store releases where the slot was taken).
    virtual void release(const std::vector<LimitRule> &rules, const char *store) = 0;
    // Limit-state entries held (the gateway_rate_limit_keys_active gauge).
    virtual qint64 activeKeys() const = 0;
};

}  // namespace sluice
