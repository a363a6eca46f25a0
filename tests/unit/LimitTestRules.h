#pragma once

#include "LimitDecision.h"

#include <QByteArray>
#include <vector>

// Rule and request builders shared by the limit store tests (memory and Redis).
namespace sluice::test {

inline LimitRule makeRule(const QByteArray &key, LimitKind kind, double limit, double burst = 0,
                          LimitScope scope = LimitScope::Key)
{
    LimitRule r;
    r.key = key;
    r.name = "key-" + key;
    r.scope = scope;
    r.kind = kind;
    r.limit = limit;
    r.burst = burst;
    return r;
}
inline LimitRule rpm(const QByteArray &key, double limit)
{
    return makeRule(key, LimitKind::RequestsPerMinute, limit);
}
inline LimitRule tpm(const QByteArray &key, double limit)
{
    return makeRule(key, LimitKind::TokensPerMinute, limit);
}
inline LimitRule monthlyRequests(const QByteArray &key, double limit)
{
    return makeRule(key, LimitKind::MonthlyRequests, limit);
}
inline LimitRule monthlyTokens(const QByteArray &key, double limit)
{
    return makeRule(key, LimitKind::MonthlyTokens, limit);
}

inline LimitRequest request(std::vector<LimitRule> rules, double cost = 1, double tokens = 0)
{
    LimitRequest r;
    r.rules = std::move(rules);
    r.cost = cost;
    r.tokenEstimate = tokens;
    return r;
}

}  // namespace sluice::test
