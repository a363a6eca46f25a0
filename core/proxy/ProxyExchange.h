#pragma once

#include "ApiFamily.h"
#include "HttpResponder.h"
#include "LimitDecision.h"
#include "Limiter.h"
#include "SseParser.h"
#include "TokenUsage.h"
#include "UpstreamGuard.h"
#include "UpstreamPool.h"

#include <QJsonObject>
#include <QList>
#include <memory>
#include <optional>

namespace sluice {

class ProxyHandler;
struct Principal;
struct UpstreamConfig;

// One proxied request, from routing to the ledger row. Lives on the worker thread that
// accepted the request; kept alive by the upstream callbacks and the client-abort hook.
class ProxyExchange : public std::enable_shared_from_this<ProxyExchange>
{
public:
    ProxyExchange(const ProxyHandler &handler, HttpResponder responder, const Principal &principal);

    // Validates the request and starts the first attempt; answers errors itself.
    void start(bool listModels);

private:
    // Asks the next candidate upstream whether it takes the request now (its own quota and
    // 429 pauses), and sends it there; none left: 429 with the shortest wait.
    void attempt();
    void onAdmission(const UpstreamConfig *upstream, UpstreamGuard::Admission admission);
    void send(const UpstreamConfig *upstream);
    void rejectUpstreamsBusy();
    void onHead(const HttpMessageHead &head);
    void onBody(QByteArrayView data);
    void onComplete();
    void onError(const UpstreamError &error);
    void onClientGone();
    void onDecision(LimitDecision decision);
    // A denial into the violations table; monthly quotas that moved to the alert monitor.
    void recordLimitEvents(const LimitDecision &decision);
    // Token quotas once the real count of an allowed request is known.
    void observeMonthlyTokens(const LimitDecision &decision, double actualTokens);
    double tokenEstimate(const QJsonObject &request) const;
    bool failOver(const QString &why);
    void onEvent(const SseParser::Event &event);
    void reject(int status, QByteArrayView code, QByteArrayView message);
    void finish(int status);
    UpstreamRequest buildRequest(const UpstreamConfig &upstream) const;
    HttpHeaders responseHeaders(const HttpHeaders &upstream) const;
    double sinceStart() const;

    const ProxyHandler &m_handler;
    HttpResponder m_responder;
    ApiFamily m_family;
    bool m_anthropic = false;
    qint64 m_userId = 0;
    qint64 m_keyId = 0;
    QByteArray m_userName;
    QStringList m_allowedModels;
    LimitSubject m_subject;
    QList<ResolvedModelLimit> m_modelLimits;  // the key's, most specific first
    std::optional<LimitDecision> m_decision;  // set once the limiter has allowed the request
    double m_tokenEstimate = 0;

    QString m_model;
    QByteArray m_body;  // what goes upstream (the client's bytes unless usage had to be asked for)
    bool m_streamRequested = false;
    bool m_stripUsageChunk = false;  // we asked for usage the client did not want
    bool m_countsTokens = true;

    QList<const UpstreamConfig *> m_candidates;
    int m_index = -1;
    int m_attempts = 0;
    std::shared_ptr<UpstreamCall> m_call;
    const UpstreamConfig *m_upstream = nullptr;
    UpstreamGuard::Admission m_admission;  // the current upstream's reservation
    qint64 m_busyWaitMs = -1;              // shortest wait of an upstream that refused

    int m_status = 0;
    bool m_streaming = false;
    bool m_clientStarted = false;
    bool m_done = false;
    HttpHeaders m_headers;
    QByteArray m_buffered;
    SseParser m_sse;
    TokenUsage m_usage;
    qint64 m_contentBytes = 0;
    qint64 m_startNs = 0;
    qint64 m_attemptStartNs = 0;
    qint64 m_firstByteNs = 0;
};

}  // namespace sluice
