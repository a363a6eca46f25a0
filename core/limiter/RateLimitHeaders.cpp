#include "RateLimitHeaders.h"

#include <QDateTime>
#include <cmath>

namespace sluice {
namespace {

constexpr qint64 kShouldRetryMaxUs = 60'000'000;

QByteArray number(double v)
{
    return QByteArray::number(qint64(std::floor(v + 1e-9)));
}

qint64 ceilSeconds(qint64 us)
{
    return (us + 999'999) / 1'000'000;
}

QByteArray rfc3339(qint64 epochUs)
{
    // Whole seconds (Qt::ISODate drops milliseconds), rounded up: never before the reset.
    return QDateTime::fromSecsSinceEpoch(ceilSeconds(epochUs), Qt::UTC)
        .toString(Qt::ISODate)
        .toLatin1();
}

// "key-rps" as an sf-string; our names never need escaping.
QByteArray quoted(const QByteArray &name)
{
    return '"' + name + '"';
}

void setFamilyHeaders(HttpHeaders &h, const LimitDecision &d, ApiFamily family, bool tokens)
{
    const int i = d.closestOf(tokens);
    if (i < 0)
        return;
    const LimitStatus &st = d.statuses[size_t(i)];
    const LimitRule &rule = d.rules[size_t(st.rule)];
    const QByteArray limit = number(rule.quota());
    const QByteArray remaining = number(st.remaining);
    if (family == ApiFamily::OpenAI) {
        const QByteArray what = tokens ? "tokens" : "requests";
        // add, not set: apply() removed every rate-limit header first.
        h.add("x-ratelimit-limit-" + what, limit);
        h.add("x-ratelimit-remaining-" + what, remaining);
        h.add("x-ratelimit-reset-" + what, RateLimitHeaders::openAiDuration(st.resetUs));
    } else {
        const QByteArray what =
            tokens ? "anthropic-ratelimit-tokens-" : "anthropic-ratelimit-requests-";
        h.add(what + "limit", limit);
        h.add(what + "remaining", remaining);
        h.add(what + "reset", rfc3339(d.nowUs + st.resetUs));
    }
}

QByteArray describe(const LimitRule &rule)
{
    switch (rule.kind) {
        case LimitKind::RequestRate:
            return "requests per second";
        case LimitKind::RequestsPerMinute:
            return "requests per minute";
        case LimitKind::TokensPerMinute:
            return "tokens per minute";
        case LimitKind::MonthlyRequests:
            return "monthly requests";
        case LimitKind::MonthlyTokens:
            return "monthly tokens";
        case LimitKind::Concurrency:
            return "concurrent requests";
    }
    return "requests";
}

}  // namespace

bool RateLimitHeaders::isRateLimitHeader(QByteArrayView name)
{
    // Case-insensitive, without a lower-cased copy: it runs for every header of every answer.
    const auto startsWith = [name](QByteArrayView p) {
        return HttpHeaders::nameStartsWith(name, p);
    };
    const auto equals = [name](QByteArrayView other) {
        return HttpHeaders::nameEquals(name, other);
    };
    return startsWith("x-ratelimit-") || startsWith("anthropic-ratelimit-") ||
           startsWith("ratelimit") || startsWith("x-quota-") || equals("retry-after") ||
           equals("retry-after-ms") || equals("x-should-retry");
}

void RateLimitHeaders::removeRateLimitHeaders(HttpHeaders &headers)
{
    auto &f = headers.fields();
    f.erase(std::remove_if(f.begin(), f.end(),
                           [](const HttpHeaders::Field &x) { return isRateLimitHeader(x.first); }),
            f.end());
}

QByteArray RateLimitHeaders::openAiDuration(qint64 us)
{
    if (us <= 0)
        return "0s";
    const qint64 ms = (us + 999) / 1000;  // rounded up: 999.5 ms is "1s", not "1000ms"
    if (ms < 1000)
        return QByteArray::number(ms) + "ms";
    const qint64 h = ms / 3'600'000;
    const qint64 m = ms / 60'000 % 60;
    const qint64 secMs = ms % 60'000;
    QByteArray s = QByteArray::number(double(secMs) / 1000.0, 'f', 3);
    while (s.endsWith('0'))
        s.chop(1);
    if (s.endsWith('.'))
        s.chop(1);
    QByteArray out;
    if (h > 0)
        out += QByteArray::number(h) + 'h';
    if (h > 0 || m > 0)
        out += QByteArray::number(m) + 'm';
    return out + s + 's';
}

bool RateLimitHeaders::shouldRetry(const LimitDecision &d)
{
    if (d.denied < 0)
        return true;
    const LimitStatus &st = d.statuses[size_t(d.denied)];
    return !st.neverFits && !d.rules[size_t(st.rule)].isMonthly() &&
           st.retryAfterUs <= kShouldRetryMaxUs;
}

void RateLimitHeaders::apply(HttpHeaders &h, const LimitDecision &d, ApiFamily family,
                             const QByteArray &tier)
{
    removeRateLimitHeaders(h);
    if (!tier.isEmpty())
        h.add("X-Quota-Tier", tier);
    const int c = d.closest();
    if (c < 0)
        return;
    const LimitStatus &st = d.statuses[size_t(c)];
    const LimitRule &rule = d.rules[size_t(st.rule)];
    h.add("X-RateLimit-Limit", number(rule.quota()));
    h.add("X-RateLimit-Remaining", number(st.remaining));
    h.add("X-RateLimit-Reset", QByteArray::number(ceilSeconds(d.nowUs + st.resetUs)));
    h.add("X-RateLimit-Type", rule.typeName());

    double monthly = -1;
    QByteArray policy;
    for (const LimitStatus &s : d.statuses) {
        const LimitRule &r = d.rules[size_t(s.rule)];
        if (r.kind == LimitKind::MonthlyRequests)
            monthly = monthly < 0 ? s.remaining : std::min(monthly, s.remaining);
        // Concurrency has no time window: not an IETF quota policy.
        if (r.kind == LimitKind::Concurrency)
            continue;
        if (!policy.isEmpty())
            policy += ", ";
        policy += quoted(r.name) + ";q=" + number(r.quota()) +
                  ";w=" + QByteArray::number(r.windowSeconds(d.nowUs));
    }
    if (monthly >= 0)
        h.add("X-Quota-Monthly-Remaining", number(monthly));
    h.add("RateLimit-Policy", policy);
    h.add("RateLimit", quoted(rule.name) + ";r=" + number(st.remaining) +
                           ";t=" + QByteArray::number(ceilSeconds(st.resetUs)));
    setFamilyHeaders(h, d, family, false);
    setFamilyHeaders(h, d, family, true);
}

HttpResponse RateLimitHeaders::denial(const LimitDecision &d, ApiFamily family,
                                      const QByteArray &tier)
{
    const LimitStatus &st = d.statuses[size_t(d.denied)];
    const LimitRule &rule = d.rules[size_t(st.rule)];
    const bool quota = rule.isMonthly();
    QByteArray message;
    if (st.neverFits && !quota) {
        message = "Request too large for " + rule.name + " (" + describe(rule) + "): limit " +
                  number(rule.quota()) + ", requested " +
                  number(rule.countsTokens() ? d.tokenEstimate : d.cost) +
                  ". Reduce the request's size (or max_tokens).";
    } else if (quota) {
        message = "You exceeded your monthly quota (" + rule.name + ", " + describe(rule) +
                  ": limit " + number(rule.limit) + "). It resets at " +
                  rfc3339(d.nowUs + st.resetUs) + ".";
    } else {
        message = "Rate limit reached for " + rule.name + " (" + describe(rule) + "): limit " +
                  number(rule.quota()) + ", remaining " + number(st.remaining) +
                  ". Please try again in " + openAiDuration(st.retryAfterUs) + ".";
    }
    if (!tier.isEmpty())
        message += " Tier: " + tier + ".";
    const QByteArrayView code = quota ? "insufficient_quota" : "rate_limit_exceeded";
    const QByteArrayView type =
        quota ? "insufficient_quota" : (rule.countsTokens() ? "tokens" : "requests");
    HttpResponse r = apiError(family, 429, code, message, type);
    apply(r.headers, d, family, tier);
    addRetryAfter(r.headers, st.retryAfterUs, shouldRetry(d));
    return r;
}

void RateLimitHeaders::addRetryAfter(HttpHeaders &headers, qint64 waitUs, bool retry)
{
    const qint64 wait = std::max<qint64>(waitUs, 1000);
    headers.set("Retry-After", QByteArray::number(ceilSeconds(wait)));
    headers.set("retry-after-ms", QByteArray::number((wait + 999) / 1000));
    if (!retry)
        headers.set("x-should-retry", "false");
}

}  // namespace sluice
