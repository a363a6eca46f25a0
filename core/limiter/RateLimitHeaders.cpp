#include "RateLimitHeaders.h"

#include <QDateTime>
#include <charconv>
#include <cmath>

namespace sluice {
namespace {

constexpr qint64 kShouldRetryMaxUs = 60'000'000;

qint64 whole(double v)
{
    return qint64(std::floor(v + 1e-9));
}

QByteArray number(double v)
{
    return QByteArray::number(whole(v));
}

// Appends decimal digits in place: header values are built in one buffer, not from temporaries
// (these headers go on every answer, and the allocations showed in profiles).
void appendNumber(QByteArray &out, qint64 v)
{
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out.append(digits, qsizetype(end - digits));
}

// One structured-field member: "NAME";KEY1=V1;KEY2=V2 (our names never need escaping).
void appendMember(QByteArray &out, const QByteArray &name, char key1, qint64 v1, char key2,
                  qint64 v2)
{
    out.append('"').append(name).append('"').append(';').append(key1).append('=');
    appendNumber(out, v1);
    out.append(';').append(key2).append('=');
    appendNumber(out, v2);
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

// A string literal as a QByteArray that wraps it: no allocation, no copy.
QByteArray literal(const char *text)
{
    return QByteArray::fromRawData(text, qstrlen(text));
}

void setFamilyHeaders(HttpHeaders &h, const LimitDecision &d, ApiFamily family, bool tokens)
{
    const int i = d.closestOf(tokens);
    if (i < 0)
        return;
    const LimitStatus &st = d.statuses[size_t(i)];
    const LimitRule &rule = d.rules[size_t(st.rule)];
    // Each family's three names for requests and for tokens.
    struct Names
    {
        const char *limit, *remaining, *reset;
    };
    static constexpr Names kOpenAi[2] = {
        {"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
         "x-ratelimit-reset-requests"},
        {"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"}};
    static constexpr Names kAnthropic[2] = {
        {"anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
         "anthropic-ratelimit-requests-reset"},
        {"anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining",
         "anthropic-ratelimit-tokens-reset"}};
    const bool openAi = family == ApiFamily::OpenAI;
    const Names &n = (openAi ? kOpenAi : kAnthropic)[tokens ? 1 : 0];
    // add, not set: apply() removed every rate-limit header first.
    h.add(literal(n.limit), number(rule.quota()));
    h.add(literal(n.remaining), number(st.remaining));
    h.add(literal(n.reset),
          openAi ? RateLimitHeaders::openAiDuration(st.resetUs) : rfc3339(d.nowUs + st.resetUs));
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
    h.fields().reserve(h.fields().size() + 16);
    if (!tier.isEmpty())
        h.add(QByteArrayLiteral("X-Quota-Tier"), tier);
    const int c = d.closest();
    if (c < 0)
        return;
    const LimitStatus &st = d.statuses[size_t(c)];
    const LimitRule &rule = d.rules[size_t(st.rule)];
    h.add(QByteArrayLiteral("X-RateLimit-Limit"), number(rule.quota()));
    h.add(QByteArrayLiteral("X-RateLimit-Remaining"), number(st.remaining));
    h.add(QByteArrayLiteral("X-RateLimit-Reset"),
          QByteArray::number(ceilSeconds(d.nowUs + st.resetUs)));
    h.add(QByteArrayLiteral("X-RateLimit-Type"), literal(rule.typeName()));

    double monthly = -1;
    QByteArray policy;
    policy.reserve(qsizetype(d.statuses.size()) * 48);
    for (const LimitStatus &s : d.statuses) {
        const LimitRule &r = d.rules[size_t(s.rule)];
        if (r.kind == LimitKind::MonthlyRequests)
            monthly = monthly < 0 ? s.remaining : std::min(monthly, s.remaining);
        // Concurrency has no time window: not an IETF quota policy.
        if (r.kind == LimitKind::Concurrency)
            continue;
        if (!policy.isEmpty())
            policy.append(", ");
        appendMember(policy, r.name, 'q', whole(r.quota()), 'w', r.windowSeconds(d.nowUs));
    }
    if (monthly >= 0)
        h.add(QByteArrayLiteral("X-Quota-Monthly-Remaining"), number(monthly));
    h.add(QByteArrayLiteral("RateLimit-Policy"), std::move(policy));
    QByteArray current;
    current.reserve(rule.name.size() + 32);
    appendMember(current, rule.name, 'r', whole(st.remaining), 't', ceilSeconds(st.resetUs));
    h.add(QByteArrayLiteral("RateLimit"), std::move(current));
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
