#pragma once

#include "HttpMessage.h"

#include <QByteArray>
#include <QObject>
#include <functional>

namespace sluice {

class ServerConnection;

// One request's place in its connection's pipeline. Responses leave in request order: only the
// slot at the head of the pipeline writes to the socket, later ones buffer until they are at
// the head. `connection` is cleared when the connection goes away, which turns every write
// into a no-op: a handler can never touch a dead socket.
struct ResponseSlot
{
    enum class State
    {
        Waiting,
        Streaming,
        Done
    };

    ServerConnection *connection = nullptr;
    QObject *context = nullptr;  // the worker: lives on this thread as long as the thread serves
    HttpRequest request;
    QByteArray requestId;
    QByteArray route;
    qint64 startNs = 0;
    State state = State::Waiting;
    bool headRequest = false;  // HEAD: headers only
    bool closeAfter = false;   // Connection: close, HTTP/1.0 without keep-alive, or an error
    bool chunked = false;      // streaming over HTTP/1.1
    int status = 0;
    qint64 bytesOut = 0;
    QByteArray buffered;  // output produced while an earlier response was still going out
    QByteArray userId;
    QByteArray keyId;
    std::function<void()> onAbort;  // the client left before the response was complete
};

}  // namespace sluice
