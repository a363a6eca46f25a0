#include "AnonymousLimits.h"

#include "ApiFamily.h"
#include "IdentitySnapshot.h"
#include "KeyCache.h"
#include "Limiter.h"
#include "RateLimitHeaders.h"

namespace sluice {

namespace {
const QByteArray kTier = QByteArrayLiteral("anonymous");
}

AnonymousLimits::AnonymousLimits(Limiter &limiter, const KeyCache &keys)
    : m_limiter(limiter), m_keys(keys)
{}

void AnonymousLimits::refuse(HttpResponder responder, KeyAuthenticator::Outcome outcome) const
{
    const IdentitySnapshot *snapshot = m_keys.current();
    LimitRequest request;
    if (snapshot && outcome.rejection->status == 401)
        request.rules = Limiter::ipRules(outcome.clientAddress, snapshot->anonymousLimits());
    if (request.rules.empty()) {
        responder.send(std::move(*outcome.rejection));
        return;
    }
    const ApiFamily family = apiFamilyOf(responder.request());
    auto rejection = std::make_shared<HttpResponse>(std::move(*outcome.rejection));
    m_limiter.check(request, kTier, [responder, rejection, family](LimitDecision d) mutable {
        if (!d.allowed && d.denied >= 0) {
            responder.send(RateLimitHeaders::denial(d, family, kTier));
            return;
        }
        if (d.allowed)
            RateLimitHeaders::apply(rejection->headers, d, family, kTier);
        responder.send(std::move(*rejection));
    });
}

}  // namespace sluice
