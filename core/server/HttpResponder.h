#pragma once

#include "HttpResponse.h"
#include "ResponseSlot.h"

#include <memory>

namespace sluice {

// The handle a route handler answers through, now or later, once. Copyable; every copy refers
// to the same pending response. Use it only on the worker thread that called the handler
// (hop back with QMetaObject::invokeMethod on a context object of that thread). Writing after
// the client left does nothing.
class HttpResponder
{
public:
    explicit HttpResponder(std::shared_ptr<ResponseSlot> slot) : m_slot(std::move(slot)) {}

    const HttpRequest &request() const { return m_slot->request; }
    const QByteArray &requestId() const { return m_slot->requestId; }
    // A QObject of the handler's worker thread, to post asynchronous results back to.
    QObject *context() const { return m_slot->context; }
    // True while the client is connected and the response is not complete.
    bool isOpen() const;

    void send(HttpResponse response);
    void send(int status, QByteArray contentType, QByteArray body);

    // Streaming: chunked on HTTP/1.1, close-delimited on HTTP/1.0.
    void beginStream(int status, HttpHeaders headers);
    void write(QByteArrayView data);
    void end();

    // Cuts the connection (an upstream stream broke after its first bytes went out: a clean end
    // would tell the client the answer was complete).
    void abort();

    // Who made the request, for the access log (never key material: ids only).
    void setPrincipal(QByteArray userId, QByteArray keyId);
    // Called once if the client disconnects before the response is complete.
    void onAbort(std::function<void()> callback);

private:
    std::shared_ptr<ResponseSlot> m_slot;
};

}  // namespace sluice
