#pragma once

#include "ApiFamily.h"
#include "LimitDecision.h"

namespace sluice {

// Writes a limiter decision into an answer, in every convention clients read:
// X-RateLimit-Limit/Remaining/Reset (epoch seconds)/Type, X-Quota-Tier,
// X-Quota-Monthly-Remaining, the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers-11), and OpenAI's x-ratelimit-*-requests|tokens or
// Anthropic's anthropic-ratelimit-requests|tokens-* by the route's family. Single-valued
// headers describe the limit closest to exhaustion (the denying one on a 429).
class RateLimitHeaders
{
public:
    // Replaces any rate-limit header already in `headers` (an upstream's describe the
    // operator's provider quota, not the client's).
    static void apply(HttpHeaders &headers, const LimitDecision &decision, ApiFamily family,
                      const QByteArray &tier);
    // The 429 of a denied decision: Retry-After, retry-after-ms, the headers above,
    // x-should-retry: false when waiting will not help soon, and a body in the family's error
    // shape naming the limit.
    static HttpResponse denial(const LimitDecision &decision, ApiFamily family,
                               const QByteArray &tier);

    // Go-style durations as OpenAI writes resets: "20ms", "1s", "1.5s", "6m0s", "1h2m3s".
    static QByteArray openAiDuration(qint64 us);
    // Denials a client should not retry on its own: monthly quotas, requests larger than the
    // limit, and waits over 60 s.
    static bool shouldRetry(const LimitDecision &decision);

    // Retry-After (whole seconds, rounded up), retry-after-ms, and x-should-retry: false when
    // `retry` is not.
    static void addRetryAfter(HttpHeaders &headers, qint64 waitUs, bool retry);

    static void removeRateLimitHeaders(HttpHeaders &headers);
    static bool isRateLimitHeader(QByteArrayView name);
};

}  // namespace sluice
