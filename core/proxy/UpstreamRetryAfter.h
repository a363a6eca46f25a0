#pragma once

#include <QByteArrayView>
#include <QtGlobal>

namespace sluice {

class HttpHeaders;

// How long an upstream that answered 429 asked to be left alone, read from whatever it sent:
// retry-after-ms, Retry-After (seconds or an HTTP date), OpenAI's x-ratelimit-reset-* durations
// ("6m0s", "20ms") and Anthropic's anthropic-ratelimit-*-reset times (RFC 3339). The reset of
// an exhausted limit (remaining 0) is preferred to the others. Pure; unit-tested.
class UpstreamRetryAfter
{
public:
    static constexpr qint64 kDefaultMs = 1000;       // a 429 that says nothing
    static constexpr qint64 kMaxMs = 3600LL * 1000;  // a broken header cannot bench it for days

    static qint64 waitMs(const HttpHeaders &headers, qint64 nowMs);
    // OpenAI's reset durations: "1h2m3.5s", "6m0s", "20ms"; -1 when unreadable.
    static qint64 parseDurationMs(QByteArrayView text);
};

}  // namespace sluice
