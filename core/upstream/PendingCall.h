#pragma once

#include "UpstreamPool.h"

#include <memory>
#include <optional>

namespace sluice {

class UpstreamConnection;

// One request handed to the pool: the serialized request, the caller's callbacks and where the
// request is right now (waiting in an endpoint's queue, or on a connection). It guarantees the
// callback contract: onHead/onBody while running, then exactly one of onComplete/onError, and
// nothing at all after cancel(). It may outlive the pool: the pool detaches every call it still
// holds when it is destroyed.
class PendingCall final : public UpstreamCall, public std::enable_shared_from_this<PendingCall>
{
public:
    // The endpoint queue a waiting call sits in.
    class Queue
    {
    public:
        virtual void dequeue(PendingCall *call) = 0;

    protected:
        ~Queue() = default;
    };

    PendingCall(const UpstreamRequest &request, QByteArrayView hostHeader,
                const UpstreamEndpoint &endpoint, UpstreamCallbacks callbacks);
    ~PendingCall() override;

    void cancel() override;

    // Request line and headers; the body is written after it without being copied here.
    const QByteArray &head() const { return m_head; }
    const QByteArray &body() const { return m_body; }
    bool isHeadRequest() const { return m_headRequest; }
    // Safe to send again after bytes went out (GET, HEAD, OPTIONS, TRACE, or an Idempotency-Key).
    bool isReplayable() const { return m_replayable; }
    bool isFinished() const { return m_finished; }

    void deliverHead(const HttpMessageHead &head);
    void deliverBody(QByteArrayView data);
    void deliverComplete();
    void deliverError(UpstreamError::Kind kind, QString message);

    // While send() runs, an error is held back and delivered from the event loop, so a caller
    // never sees its callbacks run before send() returned the call; hasDeferredError() says
    // whether flushDeferred() must be posted.
    void setDeferring(bool on) { m_deferring = on; }
    bool hasDeferredError() const { return m_deferred.has_value(); }
    void flushDeferred();
    // The pool is going away: forget everything, run no callback.
    void abandon();

    int connectTimeoutMs = 0;
    int firstByteTimeoutMs = 0;
    int idleTimeoutMs = 0;
    qint64 queuedSinceMs = 0;  // when it started waiting for a free connection
    // Where the call is; at most one is set, none once it finished.
    Queue *queue = nullptr;
    UpstreamConnection *connection = nullptr;
    bool requestSent = false;
    bool responseStarted = false;
    bool retried = false;

private:
    template <typename Fn, typename... Args>
    void invoke(Fn &fn, Args &&...args);
    void releaseCallbacks();

    QByteArray m_head;
    QByteArray m_body;
    UpstreamCallbacks m_callbacks;
    std::optional<UpstreamError> m_deferred;
    int m_running = 0;  // callbacks on the stack (cancel() may come from inside one)
    bool m_finished = false;
    bool m_deferring = false;
    bool m_headRequest = false;
    bool m_replayable = false;
};

}  // namespace sluice
