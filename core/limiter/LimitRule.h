#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace sluice {

// Who a limit counts for. `X-RateLimit-Type` names it (tokens and monthly limits are named by
// their kind instead).
enum class LimitScope : quint8
{
    User,
    Key,
    Model,
    Ip,
    Upstream,
};

enum class LimitKind : quint8
{
    RequestRate,        // requests per second with burst (GCRA)
    RequestsPerMinute,  // sliding window
    TokensPerMinute,    // sliding window over LLM tokens (reserved, then settled)
    MonthlyRequests,    // UTC calendar month
    MonthlyTokens,      // UTC calendar month (reserved, then settled)
    Concurrency,        // requests in flight at once (taken, then released at the end)
};

// One limit that applies to a request: what to count it under and how much is allowed.
struct LimitRule
{
    QByteArray key;   // store key, unique per principal and kind: "{k:17}:rps"
    QByteArray name;  // policy name in the answer's headers: "key-rps"
    LimitScope scope = LimitScope::Key;
    LimitKind kind = LimitKind::RequestRate;
    double limit = 0;  // requests per second for RequestRate, else a count per window
    double burst = 0;  // RequestRate only

    bool countsTokens() const
    {
        return kind == LimitKind::TokensPerMinute || kind == LimitKind::MonthlyTokens;
    }
    bool isMonthly() const
    {
        return kind == LimitKind::MonthlyRequests || kind == LimitKind::MonthlyTokens;
    }
    // The quota and window the IETF RateLimit-Policy advertises: a rate with burst B is "B per
    // B/rate seconds"; a month is its current length.
    double quota() const;
    qint64 windowSeconds(qint64 nowUs) const;

    static const char *scopeName(LimitScope scope);  // user | key | model | ip | upstream
    // X-RateLimit-Type: the scope, or "tokens" / "monthly" for those kinds.
    const char *typeName() const;
};

}  // namespace sluice
