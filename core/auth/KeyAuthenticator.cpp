#include "KeyAuthenticator.h"

#include "ApiKeyCodec.h"
#include "KeyCache.h"
#include "LogCategories.h"
#include "MetricsRegistry.h"

#include <QDateTime>

namespace sluice {

KeyAuthenticator::KeyAuthenticator(const KeyCache &cache, TrustedProxies proxies,
                                   MetricsRegistry &metrics)
    : m_cache(cache),
      m_proxies(std::move(proxies)),
      m_failures(metrics.counter("gateway_auth_failures_total",
                                 "Requests refused by authentication, by reason.", {"reason"})),
      m_requestsByTier(metrics.counter("gateway_api_key_requests_total",
                                       "Authenticated requests, by the key's effective tier.",
                                       {"tier"}))
{}

QByteArrayView KeyAuthenticator::presentedKey(const HttpHeaders &headers)
{
    for (const auto &[name, value] : headers.fields()) {
        if (HttpHeaders::nameEquals(name, "Authorization")) {
            QByteArrayView v(value);
            if (v.size() > 7 && qstrnicmp(v.data(), "bearer ", 7) == 0)
                return v.sliced(7).trimmed();
            return {};
        }
    }
    for (const auto &[name, value] : headers.fields()) {
        if (HttpHeaders::nameEquals(name, "x-api-key"))
            return QByteArrayView(value).trimmed();
    }
    return {};
}

KeyAuthenticator::Outcome KeyAuthenticator::reject(Outcome outcome, ApiFamily family,
                                                   QByteArrayView reason, int status,
                                                   QByteArrayView code, QByteArrayView message,
                                                   qint64 nowMs)
{
    m_failures.inc({reason});
    if (status == 401)
        m_throttle.recordFailure(outcome.clientAddress, nowMs);
    // Never the key itself, not even a part of it: only why and from where.
    qCInfo(lcGateway).noquote() << "authentication failed:" << reason.toByteArray() << "from"
                                << outcome.clientAddress;
    outcome.rejection = apiError(family, status, code, message);
    return outcome;
}

KeyAuthenticator::Outcome KeyAuthenticator::authenticate(const HttpRequest &request,
                                                         ApiFamily family)
{
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    Outcome outcome;
    outcome.clientAddress =
        m_proxies.clientAddress(request.peerAddress, request.header("X-Forwarded-For"));
    const IdentitySnapshot *snapshot = m_cache.current();

    if (snapshot) {
        const qint64 perMinute = snapshot->anonymousLimits().requestsPerMinute;
        if (const int wait = m_throttle.retryAfter(outcome.clientAddress, perMinute, nowMs)) {
            outcome =
                reject(std::move(outcome), family, "throttled", 429, "rate_limit_exceeded",
                       "Too many failed authentications from this address; retry later.", nowMs);
            outcome.rejection->headers.add("Retry-After", QByteArray::number(wait));
            return outcome;
        }
    }
    const QByteArrayView key = presentedKey(request.head.headers);
    const bool anthropic = family == ApiFamily::Anthropic;
    if (key.isEmpty()) {
        return reject(std::move(outcome), family, "missing", 401, "missing_api_key",
                      anthropic ? "x-api-key header is required"
                                : "You didn't provide an API key. Send it as 'Authorization: "
                                  "Bearer sk-sluice-...'.",
                      nowMs);
    }
    if (!ApiKeyCodec::looksValid(key)) {
        return reject(std::move(outcome), family, "malformed", 401, "invalid_api_key",
                      anthropic ? "invalid x-api-key" : "Incorrect API key provided.", nowMs);
    }
    const Principal *p = snapshot ? snapshot->find(ApiKeyCodec::hash(key)) : nullptr;
    if (!p) {
        return reject(std::move(outcome), family, "invalid", 401, "invalid_api_key",
                      anthropic ? "invalid x-api-key" : "Incorrect API key provided.", nowMs);
    }
    if (p->expiresAtMs != 0 && p->expiresAtMs <= nowMs)
        return reject(std::move(outcome), family, "expired", 401, "expired_api_key",
                      "This API key has expired.", nowMs);
    if (p->userDisabled)
        return reject(std::move(outcome), family, "user_disabled", 401, "user_disabled",
                      "The user this API key belongs to is disabled.", nowMs);

    p->lastUsedMs.store(nowMs, std::memory_order_relaxed);
    m_requestsByTier.inc({p->tier});
    outcome.principal = p;
    return outcome;
}

}  // namespace sluice
