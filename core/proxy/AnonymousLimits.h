#pragma once

#include "HttpResponder.h"
#include "KeyAuthenticator.h"

namespace sluice {

class KeyCache;
class Limiter;

// Requests without a valid key count against their client address under the "anonymous"
// tier's limits, in the gateway's limit store: with Redis, every gateway sharing it shares
// the budget. Within it they get the 401 authentication decided; past it a 429 with the
// rate-limit headers (X-RateLimit-Type: ip). KeyAuthenticator's own per-address throttle
// still refuses an address before its key is looked at, within this gateway.
class AnonymousLimits
{
public:
    AnonymousLimits(Limiter &limiter, const KeyCache &keys);

    // Answers a request authentication refused (`outcome.rejection`).
    void refuse(HttpResponder responder, KeyAuthenticator::Outcome outcome) const;

private:
    Limiter &m_limiter;
    const KeyCache &m_keys;
};

}  // namespace sluice
