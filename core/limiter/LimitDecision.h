#pragma once

#include "LimitRule.h"

#include <QByteArray>
#include <vector>

namespace sluice {

// What a request asks of the limiter: every rule that applies, checked all-or-nothing.
struct LimitRequest
{
    std::vector<LimitRule> rules;
    double cost = 1;           // request count (route cost multiplier applied)
    double tokenEstimate = 0;  // reserved on token rules until settled
};

// Where one rule stands after the decision.
struct LimitStatus
{
    int rule = 0;  // index into LimitRequest::rules
    bool allowed = true;
    double remaining = 0;
    qint64 resetUs = 0;       // until the limit is back to full (rates) or its window ends
    qint64 retryAfterUs = 0;  // denied: until this request would fit
    bool neverFits = false;   // denied: the request alone is larger than the limit
};

struct LimitDecision
{
    bool allowed = true;
    qint64 nowUs = 0;  // epoch µs the store decided at (Redis TIME for the Redis store)
    std::vector<LimitRule> rules;
    std::vector<LimitStatus> statuses;  // one per rule, same order
    int denied = -1;                    // status index of the denying rule (longest wait)
    double cost = 1;
    double tokenEstimate = 0;
    const char *store = "memory";  // the store that decided ("memory" | "redis")
    // The store could not decide (Redis error or timeout): `error` says why; a fallback store
    // decides instead. `unavailable`: nobody decided and the request must be refused (503),
    // the fail-closed choice.
    bool failed = false;
    bool unavailable = false;
    QByteArray error;

    // The status the single-valued headers describe: the denying one, else the lowest share
    // remaining (ties: the one that takes longer to reset). -1 when no rule applies.
    int closest() const;
    // Same, among request-counting or token-counting rules only (OpenAI/Anthropic headers).
    int closestOf(bool tokens) const;
    qint64 retryAfterUs() const { return denied >= 0 ? statuses[denied].retryAfterUs : 0; }
};

// What the limiter is told when a request ends: the real token count replaces the estimate.
struct LimitSettlement
{
    std::vector<LimitRule> rules;  // the token rules of the decision
    double tokenDelta = 0;         // actual - estimate (negative gives tokens back)
    const char *store = "memory";  // the store whose reservation this settles
};

}  // namespace sluice
