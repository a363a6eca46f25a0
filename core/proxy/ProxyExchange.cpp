#include "ProxyExchange.h"

#include "CalendarMonth.h"
#include "JsonMember.h"
#include "Limiter.h"
#include "LogCategories.h"
#include "MetricsRegistry.h"
#include "ModelGlob.h"
#include "Principal.h"
#include "ProxyHandler.h"
#include "ProxyMetrics.h"
#include "QuotaAlertMonitor.h"
#include "RateLimitHeaders.h"
#include "UpstreamConfig.h"
#include "UpstreamTraffic.h"
#include "UsageLedger.h"
#include "ViolationLog.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTimer>
#include <chrono>

namespace sluice {
namespace {

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The epoch µs a decision was made at (the store's clock).
qint64 decidedAtUs(const LimitDecision &d)
{
    return d.nowUs > 0 ? d.nowUs : QDateTime::currentMSecsSinceEpoch() * 1000;
}

// Request headers that never travel upstream: hop-by-hop ones, the client's credentials (the
// upstream gets the operator's), framing the pool sets itself, compression we could not read
// usage through, and identities of the client's own OpenAI account.
bool dropRequestHeader(QByteArrayView n)
{
    static constexpr const char *names[] = {"Connection",
                                            "Keep-Alive",
                                            "Proxy-Connection",
                                            "Proxy-Authorization",
                                            "TE",
                                            "Trailer",
                                            "Transfer-Encoding",
                                            "Upgrade",
                                            "Host",
                                            "Content-Length",
                                            "Authorization",
                                            "x-api-key",
                                            "Accept-Encoding",
                                            "X-Forwarded-For",
                                            "X-Request-Id",
                                            "OpenAI-Organization",
                                            "OpenAI-Project",
                                            "Cookie",
                                            "Expect"};
    for (const char *name : names) {
        if (HttpHeaders::nameEquals(n, name))
            return true;
    }
    return false;
}

// Upstream response headers worth passing back. The provider's rate-limit headers describe the
// operator's quota, not the client's: Sluice's own replace them.
bool keepResponseHeader(QByteArrayView n)
{
    if (RateLimitHeaders::isRateLimitHeader(n))
        return false;
    return HttpHeaders::nameEquals(n, "content-type") || HttpHeaders::nameEquals(n, "request-id") ||
           HttpHeaders::nameEquals(n, "cache-control") ||
           HttpHeaders::nameStartsWith(n, "openai-") ||
           HttpHeaders::nameStartsWith(n, "anthropic-") ||
           HttpHeaders::nameEquals(n, "x-request-id");
}

// Whether an OpenAI chunk has a "usage" member that is not null. With include_usage every chunk
// carries "usage":null and only the last one has the counts: parsing each chunk as JSON just to
// find null cost a quarter of the gateway's CPU on streams.
bool carriesUsageObject(QByteArrayView data)
{
    static constexpr QByteArrayView key = "\"usage\"";
    for (qsizetype at = data.indexOf(key); at >= 0; at = data.indexOf(key, at + key.size())) {
        qsizetype i = at + key.size();
        while (i < data.size() && (data[i] == ' ' || data[i] == '\t'))
            ++i;
        if (i >= data.size() || data[i] != ':')
            continue;  // "usage" as a value, not a member name
        ++i;
        while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n'))
            ++i;
        if (!data.sliced(i).startsWith("null"))
            return true;
    }
    return false;
}

}  // namespace

ProxyExchange::ProxyExchange(const ProxyHandler &handler, HttpResponder responder,
                             const Principal &principal)
    : m_handler(handler),
      m_responder(std::move(responder)),
      m_family(apiFamilyOf(m_responder.request())),
      m_userId(principal.userId),
      m_keyId(principal.keyId),
      m_userName(principal.userName.toUtf8()),
      m_allowedModels(principal.models),
      m_modelLimits(principal.modelLimits),
      m_startNs(nowNs())
{
    m_anthropic = m_family == ApiFamily::Anthropic;
    m_subject.userId = principal.userIdText;
    m_subject.keyId = principal.keyIdText;
    m_subject.tier = principal.tier;
    m_subject.userLimits = principal.userLimits;
    m_subject.keyLimits = principal.keyLimits;
    m_subject.shadow = principal.shadow;
}

double ProxyExchange::tokenEstimate(const QJsonObject &o) const
{
    // About four bytes a token for the prompt, plus the most the answer may hold. Without a
    // max_tokens the answer is assumed to be 1,024 tokens; embeddings answer no tokens.
    const double prompt = std::max<qsizetype>(1, m_body.size() / 4);
    if (m_responder.request().path() == "/v1/embeddings")
        return prompt;
    for (const char *name : {"max_tokens", "max_completion_tokens", "max_output_tokens"}) {
        const QJsonValue v = o.value(QLatin1String(name));
        if (v.isDouble() && v.toDouble() > 0)
            return prompt + v.toDouble();
    }
    return prompt + 1024;
}

void ProxyExchange::recordLimitEvents(const LimitDecision &d)
{
    if (!d.allowed && d.denied >= 0) {
        if (ViolationLog *violations = m_handler.violationLog()) {
            const LimitRule &rule = d.rules[size_t(d.statuses[size_t(d.denied)].rule)];
            Violation v;
            v.atMs = decidedAtUs(d) / 1000;
            v.userId = m_userId;
            v.keyId = m_keyId;
            v.limitName = rule.name;
            v.limitType = rule.typeName();
            v.tier = m_subject.tier;
            v.route = m_responder.request().path().toByteArray();
            v.shadow = m_subject.shadow;
            violations->record(v);
        }
    }
    QuotaAlertMonitor *alerts = m_handler.quotaAlerts();
    if (!alerts)
        return;
    const qint64 month = CalendarMonth::indexOf(decidedAtUs(d));
    for (const LimitStatus &st : d.statuses) {
        const LimitRule &rule = d.rules[size_t(st.rule)];
        // Allowed: the request quotas now counted it (token quotas are looked at when the
        // request ends, with its real count). Denied: only the quotas that refused it, since
        // nothing was counted on the others.
        if (!rule.isMonthly() || (d.allowed ? rule.countsTokens() : st.allowed))
            continue;
        QuotaAlertMonitor::Usage u;
        u.scope = LimitRule::scopeName(rule.scope);
        u.userId = m_userId;
        u.keyId = m_keyId;
        u.limitName = rule.name;
        u.limit = rule.limit;
        u.used = rule.limit - st.remaining;
        u.refused = !st.allowed;
        u.monthIndex = month;
        alerts->observe(u);
    }
}

void ProxyExchange::observeMonthlyTokens(const LimitDecision &d, double actualTokens)
{
    QuotaAlertMonitor *alerts = m_handler.quotaAlerts();
    if (!alerts)
        return;
    for (const LimitStatus &st : d.statuses) {
        const LimitRule &rule = d.rules[size_t(st.rule)];
        if (rule.kind != LimitKind::MonthlyTokens)
            continue;
        // What was left after the reservation, corrected by what the request really used.
        QuotaAlertMonitor::Usage u;
        u.scope = LimitRule::scopeName(rule.scope);
        u.userId = m_userId;
        u.keyId = m_keyId;
        u.limitName = rule.name;
        u.limit = rule.limit;
        u.used = std::max(0.0, rule.limit - st.remaining + actualTokens - d.tokenEstimate);
        u.monthIndex = CalendarMonth::indexOf(decidedAtUs(d));
        alerts->observe(u);
    }
}

void ProxyExchange::onDecision(LimitDecision decision)
{
    Limiter *limiter = m_handler.limiter();
    recordLimitEvents(decision);
    if (m_done) {  // the client left while the store decided: give everything back
        limiter->settle(decision, 0);
        limiter->release(decision);
        return;
    }
    // Redis is down and the gateway fails closed (or a store gave no verdict at all).
    if (decision.unavailable || (!decision.allowed && decision.denied < 0)) {
        m_countsTokens = false;
        return reject(503, "rate_limiter_unavailable",
                      "The gateway cannot check rate limits right now (its shared limit store is "
                      "unreachable). Please retry shortly.");
    }
    if (!decision.allowed && m_subject.shadow) {
        // Shadow mode: counted and logged as a would-be denial, then served. A denied decision
        // took nothing from the store, so there is nothing to settle or release.
        qCDebug(lcGateway).noquote()
            << "shadow mode: key" << m_subject.keyId << "would have been denied by"
            << decision.rules[size_t(decision.denied)].name;
        return attempt();
    }
    if (!decision.allowed) {
        m_countsTokens = false;
        m_responder.send(RateLimitHeaders::denial(decision, m_family, m_subject.tier));
        finish(429);
        return;
    }
    m_decision = std::move(decision);
    attempt();
}

double ProxyExchange::sinceStart() const
{
    return double(nowNs() - m_startNs) / 1e9;
}

void ProxyExchange::reject(int status, QByteArrayView code, QByteArrayView message)
{
    HttpResponse r = apiError(m_family, status, code, message);
    if (m_decision && !m_subject.shadow)
        RateLimitHeaders::apply(r.headers, *m_decision, m_family, m_subject.tier);
    m_responder.send(std::move(r));
    finish(status);
}

void ProxyExchange::start(bool listModels)
{
    const HttpRequest &req = m_responder.request();
    const QByteArrayView path = req.path();
    if (!listModels) {
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(req.body, &parseError);
        if (!doc.isObject()) {
            m_countsTokens = false;
            return reject(400, "invalid_json",
                          QByteArray("The request body is not a JSON object (") +
                              parseError.errorString().toUtf8() + ").");
        }
        QJsonObject o = doc.object();
        m_model = o.value(QLatin1String("model")).toString();
        if (m_model.isEmpty()) {
            m_countsTokens = false;
            return reject(400, "missing_model", "The request body has no \"model\" string.");
        }
        m_streamRequested = o.value(QLatin1String("stream")).toBool();
        m_countsTokens = path != "/v1/messages/count_tokens";
        m_body = req.body;
        // OpenAI chat streams carry usage only when asked: ask, and hide the extra chunk from a
        // client that did not, so the ledger is exact and the client sees what it asked for.
        if (m_streamRequested && !m_anthropic && path == "/v1/chat/completions") {
            const QJsonObject streamOptions = o.value(QLatin1String("stream_options")).toObject();
            if (!streamOptions.value(QLatin1String("include_usage")).toBool()) {
                QJsonObject so = streamOptions;
                so.insert(QLatin1String("include_usage"), true);
                o.insert(QLatin1String("stream_options"), so);
                m_body = QJsonDocument(o).toJson(QJsonDocument::Compact);
                m_stripUsageChunk = true;
            }
        }
        if (m_countsTokens)
            m_tokenEstimate = tokenEstimate(o);
        // The key's first per-model entry that matches (most specific first) adds its limits.
        for (const ResolvedModelLimit &m : std::as_const(m_modelLimits)) {
            if (ModelGlob::matches(m.model, m_model)) {
                m_subject.modelPattern = m.model.toUtf8();
                m_subject.modelLimits = m.limits;
                break;
            }
        }
        if (!m_allowedModels.isEmpty() && !ModelGlob::matchesAny(m_allowedModels, m_model)) {
            return reject(
                403, "model_not_allowed",
                QByteArray("This API key may not use the model \"") + m_model.toUtf8() + "\".");
        }
    } else {
        m_countsTokens = false;
    }
    m_candidates = m_handler.candidates(m_anthropic, m_model);
    if (m_candidates.isEmpty()) {
        return reject(404, "model_not_found",
                      listModels
                          ? QByteArray("No upstream serves this API.")
                          : QByteArray("The model \"") + m_model.toUtf8() +
                                "\" does not exist or no upstream of this gateway serves it.");
    }
    std::weak_ptr<ProxyExchange> weak = weak_from_this();
    m_responder.onAbort([weak] {
        if (auto self = weak.lock())
            self->onClientGone();
    });
    if (Limiter *limiter = m_handler.limiter()) {
        const LimitRequest request = limiter->requestFor(m_subject, path, m_tokenEstimate);
        auto self = shared_from_this();
        limiter->check(
            request, m_subject.tier, [self](LimitDecision d) { self->onDecision(std::move(d)); },
            m_subject.shadow);
        return;
    }
    attempt();
}

UpstreamRequest ProxyExchange::buildRequest(const UpstreamConfig &upstream) const
{
    const HttpRequest &req = m_responder.request();
    UpstreamRequest out;
    out.method = req.head.method;
    // Base URLs are written the way the SDKs take them: OpenAI's include /v1, Anthropic's not.
    const QByteArrayView path = req.head.target;
    out.target =
        upstream.endpoint.basePath + (upstream.isAnthropic() ? path : path.sliced(3)).toByteArray();
    out.headers.reserve(req.head.headers.fields().size() + 4);
    QByteArray forwardedFor;
    for (const auto &[name, value] : req.head.headers.fields()) {
        if (HttpHeaders::nameEquals(name, "X-Forwarded-For"))  // several lines are one list
            forwardedFor = forwardedFor.isEmpty() ? value : forwardedFor + ", " + value;
        // Fields the client's Connection header names are hop-by-hop too (RFC 9110 7.6.1).
        if (!dropRequestHeader(name) && !req.head.headers.hasToken("Connection", name))
            out.headers.add(name, value);
    }
    forwardedFor = forwardedFor.isEmpty() ? req.peerAddress : forwardedFor + ", " + req.peerAddress;
    out.headers.add("X-Forwarded-For", forwardedFor);
    out.headers.add("X-Request-Id", m_responder.requestId());
    if (upstream.isAnthropic()) {
        if (!upstream.apiKey.isEmpty())
            out.headers.add("x-api-key", upstream.apiKey);
        if (!req.head.headers.contains("anthropic-version"))
            out.headers.add("anthropic-version", "2023-06-01");
    } else if (!upstream.apiKey.isEmpty()) {
        out.headers.add("Authorization", "Bearer " + upstream.apiKey);
    }
    out.body = m_body;
    return out;
}

void ProxyExchange::attempt()
{
    if (m_done)
        return;
    ++m_index;
    if (m_index >= m_candidates.size())
        return rejectUpstreamsBusy();
    const UpstreamConfig *upstream = m_candidates.at(m_index);
    auto self = shared_from_this();
    m_handler.upstreamGuard().admit(*upstream, m_countsTokens ? m_tokenEstimate : 0,
                                    [self, upstream](UpstreamGuard::Admission a) {
                                        self->onAdmission(upstream, std::move(a));
                                    });
}

void ProxyExchange::onAdmission(const UpstreamConfig *upstream, UpstreamGuard::Admission a)
{
    if (m_done)
        return m_handler.upstreamGuard().settle(a, 0);
    if (!a.allowed) {
        qCDebug(lcGateway).noquote() << "upstream" << upstream->name << "skipped:" << a.reason
                                     << "for another" << a.waitMs << "ms";
        m_busyWaitMs = m_busyWaitMs < 0 ? a.waitMs : std::min(m_busyWaitMs, a.waitMs);
        return attempt();
    }
    m_admission = std::move(a);
    send(upstream);
}

void ProxyExchange::rejectUpstreamsBusy()
{
    // Every upstream serving the model is at its own quota or resting after a 429: the client
    // hears when the first of them takes requests again.
    const qint64 waitMs = std::max<qint64>(1, m_busyWaitMs);
    m_countsTokens = false;
    HttpResponse r = apiError(m_family, 429, "upstream_rate_limited",
                              QByteArray("Every upstream serving this model is at its rate limit "
                                         "right now. Please try again in ") +
                                  RateLimitHeaders::openAiDuration(waitMs * 1000) + '.',
                              "requests");
    if (m_decision && !m_subject.shadow)
        RateLimitHeaders::apply(r.headers, *m_decision, m_family, m_subject.tier);
    RateLimitHeaders::addRetryAfter(r.headers, waitMs * 1000, waitMs <= 60'000);
    m_responder.send(std::move(r));
    finish(429);
}

void ProxyExchange::send(const UpstreamConfig *upstream)
{
    ++m_attempts;
    m_upstream = upstream;
    m_attemptStartNs = nowNs();
    m_firstByteNs = 0;
    auto self = shared_from_this();  // the callbacks own the exchange while the call runs
    UpstreamCallbacks cb;
    cb.onHead = [self](const HttpMessageHead &h) { self->onHead(h); };
    cb.onBody = [self](QByteArrayView d) { self->onBody(d); };
    cb.onComplete = [self] { self->onComplete(); };
    cb.onError = [self](const UpstreamError &e) { self->onError(e); };
    m_call = UpstreamPool::forCurrentThread().send(m_upstream->endpoint, buildRequest(*m_upstream),
                                                   std::move(cb));
}

bool ProxyExchange::failOver(const QString &why)
{
    if (m_done || m_clientStarted || m_index + 1 >= m_candidates.size() ||
        m_attempts >= m_handler.options().maxAttempts)
        return false;
    qCInfo(lcGateway).noquote() << "upstream" << m_upstream->name << why << "; trying"
                                << m_candidates.at(m_index + 1)->name;
    if (m_call)
        std::exchange(m_call, nullptr)->cancel();
    // The upstream spent no tokens on a request it failed: its reservation goes back.
    m_handler.upstreamGuard().settle(std::exchange(m_admission, {}), 0);
    m_status = 0;
    m_headers.clear();
    m_buffered.clear();
    m_usage = TokenUsage();
    m_contentBytes = 0;
    m_sse = SseParser();
    // Jittered backoff, so many gateways failing over together do not arrive in lockstep.
    const int base = m_handler.options().backoffMs * m_attempts;
    const int delay = base / 2 + int(QRandomGenerator::global()->bounded(qMax(1, base)));
    auto keep = shared_from_this();
    QTimer::singleShot(delay, m_responder.context(), [keep] {
        if (!keep->m_done)
            keep->attempt();
    });
    return true;
}

HttpHeaders ProxyExchange::responseHeaders(const HttpHeaders &upstream) const
{
    HttpHeaders out;
    out.reserve(upstream.fields().size() + 16);
    for (const auto &[name, value] : upstream.fields()) {
        if (!keepResponseHeader(name))
            continue;
        if (HttpHeaders::nameEquals(name, "x-request-id"))
            out.add("x-upstream-request-id", value);  // ours is X-Request-Id
        else
            out.add(name, value);
    }
    // Shadow mode leaves clients exactly as without limits: no rate-limit headers either.
    if (m_decision && !m_subject.shadow)
        RateLimitHeaders::apply(out, *m_decision, m_family, m_subject.tier);
    return out;
}

void ProxyExchange::onHead(const HttpMessageHead &head)
{
    if (m_done)
        return;
    m_firstByteNs = nowNs();
    ProxyMetrics &pm = m_handler.metrics();
    const QByteArray upstream = m_upstream->name.toUtf8();
    pm.timeToFirstByte.observe({upstream}, double(m_firstByteNs - m_attemptStartNs) / 1e9);
    pm.upstreamRequests.inc({upstream, QByteArray::number(head.status)});
    if (UpstreamTraffic *t = m_handler.traffic())
        t->record(m_upstream->name, head.status < 500, QDateTime::currentMSecsSinceEpoch());
    if (head.status >= 500 && failOver(QStringLiteral("answered %1").arg(head.status)))
        return;
    if (head.status == 429) {
        // The provider key's quota is spent: rest this upstream as long as it asked, try
        // another one, or tell the client how long to wait (never the provider's own answer:
        // it describes the operator's account).
        const qint64 wait = m_handler.upstreamGuard().rateLimited(*m_upstream, head.headers);
        m_busyWaitMs = m_busyWaitMs < 0 ? wait : std::min(m_busyWaitMs, wait);
        if (failOver(QStringLiteral("answered 429")))
            return;
        if (m_call)
            std::exchange(m_call, nullptr)->cancel();
        return rejectUpstreamsBusy();
    }
    m_status = head.status;
    m_headers = responseHeaders(head.headers);
    m_streaming = head.headers.value("Content-Type").startsWith("text/event-stream");
    if (m_streaming) {
        m_clientStarted = true;
        m_responder.beginStream(m_status, m_headers);
    }
}

void ProxyExchange::onEvent(const SseParser::Event &e)
{
    m_contentBytes += e.data.size();
    bool forward = true;
    const QByteArrayView data(e.data);
    if (m_anthropic) {
        if (e.name == "message_start" || e.name == "message_delta") {
            const QJsonObject o = QJsonDocument::fromJson(e.data).object();
            const QJsonObject usage = e.name == "message_start"
                                          ? o.value(QLatin1String("message"))
                                                .toObject()
                                                .value(QLatin1String("usage"))
                                                .toObject()
                                          : o.value(QLatin1String("usage")).toObject();
            m_usage.merge(usage);
        }
    } else if (e.name == "response.completed") {
        const QJsonObject o = QJsonDocument::fromJson(e.data).object();
        m_usage.merge(
            o.value(QLatin1String("response")).toObject().value(QLatin1String("usage")).toObject());
    } else if (carriesUsageObject(data)) {
        // Only chunks that mention usage are parsed, and then as JSON: never by string search.
        const QJsonObject o = QJsonDocument::fromJson(e.data).object();
        const QJsonValue usage = o.value(QLatin1String("usage"));
        if (usage.isObject()) {
            m_usage.merge(usage.toObject());
            const QJsonValue choices = o.value(QLatin1String("choices"));
            if (m_stripUsageChunk && choices.isArray() && choices.toArray().isEmpty())
                forward = false;
        }
    }
    if (forward)
        m_responder.write(e.raw);
}

void ProxyExchange::onBody(QByteArrayView data)
{
    if (m_done || m_status == 0)
        return;
    if (m_streaming) {
        m_sse.feed(data, [this](const SseParser::Event &e) { onEvent(e); });
    } else {
        m_buffered.append(data);
    }
}

void ProxyExchange::onComplete()
{
    if (m_done || m_status == 0)
        return;
    const QByteArray upstream = m_upstream->name.toUtf8();
    m_handler.metrics().upstreamDuration.observe({upstream},
                                                 double(nowNs() - m_attemptStartNs) / 1e9);
    m_call.reset();
    if (m_streaming) {
        const QByteArray rest = m_sse.takeRemainder();
        if (!rest.isEmpty())
            m_responder.write(rest);
        m_responder.end();
    } else {
        if (m_headers.value("Content-Type").contains("json")) {
            // Only the usage member is parsed, not the whole answer.
            const QByteArrayView usage = JsonMember::topLevel(m_buffered, "usage");
            if (usage.startsWith('{'))
                m_usage.merge(QJsonDocument::fromJson(usage.toByteArray()).object());
        }
        m_contentBytes = m_buffered.size();
        HttpResponse r;
        r.status = m_status;
        r.headers = m_headers;
        r.body = std::move(m_buffered);
        m_responder.send(std::move(r));
    }
    finish(m_status);
}

void ProxyExchange::onError(const UpstreamError &error)
{
    if (m_done || error.kind == UpstreamError::Kind::Cancelled)
        return;
    const QByteArray upstream = m_upstream->name.toUtf8();
    m_handler.metrics().upstreamErrors.inc({upstream, UpstreamError::kindName(error.kind)});
    if (UpstreamTraffic *t = m_handler.traffic())
        t->record(m_upstream->name, false, QDateTime::currentMSecsSinceEpoch());
    m_call.reset();
    qCWarning(lcGateway).noquote() << "upstream" << m_upstream->name << "failed:" << error.message;
    // Nothing reached the client yet (a JSON answer is buffered until its end): the next
    // upstream may still answer. failOver() refuses once the client got a byte.
    if (failOver(error.message))
        return;
    if (m_clientStarted) {
        // Part of a stream is out: ending it cleanly would pass a truncated answer as whole.
        m_responder.abort();
        finish(502);
        return;
    }
    const bool timeout = error.kind == UpstreamError::Kind::Timeout;
    const QByteArray message =
        QByteArray("The upstream \"") + upstream +
        (timeout ? "\" did not answer in time: " : "\" could not be reached: ") +
        error.message.toUtf8();
    reject(timeout ? 504 : 502, timeout ? "upstream_timeout" : "upstream_unavailable", message);
}

void ProxyExchange::onClientGone()
{
    if (m_done)
        return;
    if (m_call)
        std::exchange(m_call, nullptr)->cancel();  // the upstream stops generating for nobody
    finish(499);
}

void ProxyExchange::finish(int status)
{
    if (m_done)
        return;
    m_done = true;
    // Tokens are spent only when an upstream accepted the request (2xx, possibly cut short by
    // the client): the gateway's own errors and upstream error answers count none.
    const bool accepted = m_status >= 200 && m_status < 300;
    const bool estimated = m_countsTokens && !m_usage.found && accepted;
    if (estimated) {
        // No usage in the answer: about four bytes a token, flagged as an estimate.
        m_usage.prompt = qMax<qint64>(1, m_body.size() / 4);
        m_usage.completion = m_contentBytes / 4;
    }
    // Token limits reserved an estimate: the real count replaces it (none when no upstream
    // accepted the request).
    const bool counted = m_countsTokens && (m_usage.found || estimated);
    const double actual = counted ? double(m_usage.prompt + m_usage.completion) : 0;
    m_handler.upstreamGuard().settle(m_admission, actual);
    if (m_decision) {
        m_handler.limiter()->settle(*m_decision, actual);
        m_handler.limiter()->release(*m_decision);
        observeMonthlyTokens(*m_decision, actual);
    }
    ProxyMetrics &pm = m_handler.metrics();
    if (m_countsTokens && !m_model.isEmpty() && (m_usage.found || estimated)) {
        const QByteArray model = m_model.toUtf8();
        const QByteArrayView modelLabel = pm.models.admit(model);
        pm.promptTokens.inc({modelLabel}, double(m_usage.prompt));
        pm.completionTokens.inc({modelLabel}, double(m_usage.completion));
        if (pm.perUser)
            pm.tokensByUser.inc({pm.users.admit(m_userName)},
                                double(m_usage.prompt + m_usage.completion));
    }
    if (UsageLedger *ledger = m_handler.ledger()) {
        UsageRecord rec;
        rec.at = QDateTime::currentDateTimeUtc().addMSecs(-qint64(sinceStart() * 1000));
        rec.requestId = m_responder.requestId();
        rec.userId = m_userId;
        rec.keyId = m_keyId;
        rec.model = m_model.isNull() ? QStringLiteral("") : m_model;  // GET /v1/models has none
        rec.route = m_responder.request().path().toByteArray();
        rec.upstream = m_upstream ? m_upstream->name : QStringLiteral("");
        rec.status = status;
        rec.promptTokens = m_usage.prompt;
        rec.completionTokens = m_usage.completion;
        rec.cachedTokens = m_usage.cached;
        rec.cacheWriteTokens = m_usage.cacheWrite;
        rec.reasoningTokens = m_usage.reasoning;
        rec.estimated = estimated;
        rec.attempts = qMax(1, m_attempts);
        rec.latencySeconds = sinceStart();
        rec.timeToFirstByteSeconds = m_firstByteNs ? double(m_firstByteNs - m_startNs) / 1e9 : 0;
        ledger->record(std::move(rec));
    }
    m_responder.onAbort(nullptr);  // drops the hook's reference cycle
}

}  // namespace sluice
