#pragma once

#include "HttpHeaders.h"
#include "HttpMessage.h"
#include "UpstreamEndpoint.h"

#include <QObject>
#include <functional>
#include <memory>

namespace sluice {

struct UpstreamRequest
{
    QByteArray method = "POST";
    QByteArray target;    // origin-form, base path included: "/v1/chat/completions"
    HttpHeaders headers;  // Host, Content-Length and Connection are set by the pool
    QByteArray body;
};

struct UpstreamError
{
    enum class Kind
    {
        ConnectFailed,
        Reset,
        Timeout,
        Protocol,
        Tls,
        Cancelled
    };
    Kind kind = Kind::ConnectFailed;
    QString message;               // for logs and the client's 502/504 message
    bool responseStarted = false;  // any response byte arrived (then no failover)
    bool requestSent = false;      // any request byte was written
    // "connect", "reset", "timeout", "protocol", "tls", "cancelled". The pool never reports
    // Cancelled: after cancel() no callback runs at all.
    static const char *kindName(Kind k);
};

struct UpstreamCallbacks
{
    std::function<void(const HttpMessageHead &head)> onHead;  // status line and headers
    std::function<void(QByteArrayView data)> onBody;          // decoded body bytes, as they arrive
    std::function<void()> onComplete;                         // the response ended cleanly
    std::function<void(const UpstreamError &error)> onError;  // exactly one of onComplete/onError
};

// One request in flight; cancel() aborts it (client went away) and no callback runs after it.
class UpstreamCall
{
public:
    virtual ~UpstreamCall() = default;
    virtual void cancel() = 0;
};

// Keep-alive HTTP/1.1 connections to upstreams, one pool per worker thread (no locks): plain
// QTcpSocket or QSslSocket, optional HTTP CONNECT proxy, connect / first-byte / idle timeouts,
// at most maxConnections per endpoint (further requests queue), and one retry on a stale
// kept-alive connection when nothing of the request was sent (or it is replayable: GET, HEAD,
// OPTIONS, TRACE, or an Idempotency-Key). Callbacks run on the pool's thread, never inside
// send(). Never QNetworkAccessManager (see DESIGN.md).
class UpstreamPool : public QObject
{
    Q_OBJECT
public:
    explicit UpstreamPool(QObject *parent = nullptr);
    ~UpstreamPool() override;

    // The pool of the calling thread, created on first use and destroyed with the thread.
    static UpstreamPool &forCurrentThread();

    std::shared_ptr<UpstreamCall> send(const UpstreamEndpoint &endpoint, UpstreamRequest request,
                                       UpstreamCallbacks callbacks);

    // For tests and metrics: connections open / idle to an endpoint name.
    int openConnections(const QString &endpointName) const;
    int idleConnections(const QString &endpointName) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace sluice
