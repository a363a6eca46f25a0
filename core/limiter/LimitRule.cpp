#include "LimitRule.h"

#include "CalendarMonth.h"

#include <cmath>

namespace sluice {

double LimitRule::quota() const
{
    return kind == LimitKind::RequestRate ? std::max(1.0, burst) : limit;
}

qint64 LimitRule::windowSeconds(qint64 nowUs) const
{
    switch (kind) {
        case LimitKind::RequestRate:
            return std::max<qint64>(1, qint64(std::ceil(quota() / limit)));
        case LimitKind::RequestsPerMinute:
        case LimitKind::TokensPerMinute:
            return 60;
        case LimitKind::Concurrency:
            return 1;
        case LimitKind::MonthlyRequests:
        case LimitKind::MonthlyTokens: {
            const qint64 month = CalendarMonth::indexOf(nowUs);
            return (CalendarMonth::startUs(month + 1) - CalendarMonth::startUs(month)) / 1000000;
        }
    }
    return 1;
}

const char *LimitRule::scopeName(LimitScope scope)
{
    switch (scope) {
        case LimitScope::User:
            return "user";
        case LimitScope::Key:
            return "key";
        case LimitScope::Model:
            return "model";
        case LimitScope::Ip:
            return "ip";
        case LimitScope::Upstream:
            return "upstream";
    }
    return "key";
}

const char *LimitRule::typeName() const
{
    if (isMonthly())
        return "monthly";
    if (kind == LimitKind::TokensPerMinute)
        return "tokens";
    return scopeName(scope);
}

}  // namespace sluice
