#pragma once

#include "ApiFamily.h"
#include "AuthFailureThrottle.h"
#include "TrustedProxies.h"

#include <optional>

namespace sluice {

class CounterFamily;
class KeyCache;
class MetricsRegistry;
struct Principal;

// Authenticates a /v1 request from `Authorization: Bearer <key>` or Anthropic's
// `x-api-key: <key>` against the KeyCache: one SHA-256 and one hash lookup, no database.
// Failures answer 401 in the caller's API shape and count against the client IP; an IP past
// the anonymous tier's budget gets 429 before its key is even looked at.
class KeyAuthenticator
{
public:
    struct Outcome
    {
        const Principal *principal = nullptr;  // valid for the synchronous part of the handler
        std::optional<HttpResponse> rejection;
        QByteArray clientAddress;
    };

    KeyAuthenticator(const KeyCache &cache, TrustedProxies proxies, MetricsRegistry &metrics);
    Outcome authenticate(const HttpRequest &request, ApiFamily family);

    // The key as presented, or empty: Bearer first, then x-api-key.
    static QByteArrayView presentedKey(const HttpHeaders &headers);

private:
    Outcome reject(Outcome outcome, ApiFamily family, QByteArrayView reason, int status,
                   QByteArrayView code, QByteArrayView message, qint64 nowMs);

    const KeyCache &m_cache;
    TrustedProxies m_proxies;
    AuthFailureThrottle m_throttle;
    CounterFamily &m_failures;
    CounterFamily &m_requestsByTier;
};

}  // namespace sluice
