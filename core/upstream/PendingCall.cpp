#include "PendingCall.h"

#include "UpstreamConnection.h"

#include <charconv>
#include <utility>

namespace sluice {
namespace {

// Framing and hop-by-hop fields belong to this connection, not to the caller.
bool isConnectionField(QByteArrayView name)
{
    return HttpHeaders::nameEquals(name, "Host") ||
           HttpHeaders::nameEquals(name, "Content-Length") ||
           HttpHeaders::nameEquals(name, "Transfer-Encoding") ||
           HttpHeaders::nameEquals(name, "Connection") ||
           HttpHeaders::nameEquals(name, "Keep-Alive") ||
           HttpHeaders::nameEquals(name, "Proxy-Connection") ||
           HttpHeaders::nameEquals(name, "TE") || HttpHeaders::nameEquals(name, "Upgrade");
}

bool methodCarriesBody(QByteArrayView method)
{
    return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

PendingCall::PendingCall(const UpstreamRequest &request, QByteArrayView hostHeader,
                         const UpstreamEndpoint &endpoint, UpstreamCallbacks callbacks)
    : connectTimeoutMs(endpoint.connectTimeoutMs),
      firstByteTimeoutMs(endpoint.firstByteTimeoutMs),
      idleTimeoutMs(endpoint.idleTimeoutMs),
      m_body(request.body),
      m_callbacks(std::move(callbacks))
{
    const QByteArrayView method = request.method;
    m_headRequest = method == "HEAD";
    m_replayable = method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";

    // One allocation for the whole head: measure it first.
    qsizetype size = method.size() + request.target.size() + hostHeader.size() + 64;
    for (const auto &[name, value] : request.headers.fields())
        size += name.size() + value.size() + 4;
    m_head.reserve(size);
    m_head += method;
    m_head += ' ';
    if (request.target.isEmpty())
        m_head += '/';
    else
        m_head += request.target;
    m_head += " HTTP/1.1\r\nHost: ";
    m_head += hostHeader;
    m_head += "\r\n";
    if (!m_body.isEmpty() || methodCarriesBody(method)) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, m_body.size()).ptr;
        m_head += "Content-Length: ";
        m_head.append(digits, end - digits);
        m_head += "\r\n";
    }
    for (const auto &[name, value] : request.headers.fields()) {
        if (isConnectionField(name))
            continue;
        // The widely used convention (Stripe, Go's net/http) that a POST with one is replayable.
        if (HttpHeaders::nameEquals(name, "Idempotency-Key") ||
            HttpHeaders::nameEquals(name, "X-Idempotency-Key"))
            m_replayable = true;
        m_head += name;
        m_head += ": ";
        m_head += value;
        m_head += "\r\n";
    }
    m_head += "\r\n";
}

PendingCall::~PendingCall() = default;

template <typename Fn, typename... Args>
void PendingCall::invoke(Fn &fn, Args &&...args)
{
    if (!fn)
        return;
    ++m_running;
    fn(std::forward<Args>(args)...);
    if (--m_running == 0 && m_finished)
        releaseCallbacks();  // cancelled from inside the callback: drop it now that it returned
}

void PendingCall::releaseCallbacks()
{
    // A callback must not be destroyed while it runs; invoke() releases them afterwards. Dropping
    // them breaks the usual cycle (caller holds the call, the callbacks hold the caller).
    if (m_running == 0)
        m_callbacks = UpstreamCallbacks();
}

void PendingCall::cancel()
{
    const std::shared_ptr<PendingCall> keep = shared_from_this();  // the pool may drop its own
    if (m_deferred) {
        m_deferred.reset();
        releaseCallbacks();
        return;
    }
    if (m_finished)
        return;
    m_finished = true;
    if (Queue *q = std::exchange(queue, nullptr))
        q->dequeue(this);
    if (UpstreamConnection *c = std::exchange(connection, nullptr))
        c->cancelCall(this);
    releaseCallbacks();
}

void PendingCall::deliverHead(const HttpMessageHead &head)
{
    if (!m_finished)
        invoke(m_callbacks.onHead, head);
}

void PendingCall::deliverBody(QByteArrayView data)
{
    if (!m_finished)
        invoke(m_callbacks.onBody, data);
}

void PendingCall::deliverComplete()
{
    if (m_finished)
        return;
    m_finished = true;
    queue = nullptr;
    connection = nullptr;
    if (m_running > 0) {  // only from a nested event loop inside a callback
        const auto fn = m_callbacks.onComplete;
        if (fn)
            fn();
        return;
    }
    const UpstreamCallbacks callbacks = std::exchange(m_callbacks, UpstreamCallbacks());
    if (callbacks.onComplete)
        callbacks.onComplete();
}

void PendingCall::deliverError(UpstreamError::Kind kind, QString message)
{
    if (m_finished)
        return;
    m_finished = true;
    queue = nullptr;
    connection = nullptr;
    UpstreamError error;
    error.kind = kind;
    error.message = std::move(message);
    error.responseStarted = responseStarted;
    error.requestSent = requestSent;
    if (m_deferring) {
        m_deferred = std::move(error);
        return;
    }
    if (m_running > 0) {
        const auto fn = m_callbacks.onError;
        if (fn)
            fn(error);
        return;
    }
    const UpstreamCallbacks callbacks = std::exchange(m_callbacks, UpstreamCallbacks());
    if (callbacks.onError)
        callbacks.onError(error);
}

void PendingCall::flushDeferred()
{
    if (!m_deferred)
        return;  // cancelled meanwhile
    const UpstreamError error = std::move(*m_deferred);
    m_deferred.reset();
    const UpstreamCallbacks callbacks = std::exchange(m_callbacks, UpstreamCallbacks());
    if (callbacks.onError)
        callbacks.onError(error);
}

void PendingCall::abandon()
{
    m_finished = true;
    m_deferred.reset();
    queue = nullptr;
    connection = nullptr;
    releaseCallbacks();
}

}  // namespace sluice
