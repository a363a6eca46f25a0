#pragma once

#include <QByteArray>

namespace sluice {

// What the front end reports about each request, so metrics and the access log live outside
// the server layer. Called on the worker thread that owns the connection.
struct CompletedRequest
{
    QByteArrayView method;
    QByteArrayView route;  // route template, or "none" when nothing matched
    QByteArrayView target;
    QByteArrayView requestId;
    QByteArrayView peer;
    QByteArrayView userId;
    QByteArrayView keyId;
    int status = 0;  // 499 when the client left before the answer was complete
    double seconds = 0;
    qint64 bytesOut = 0;
};

class RequestObserver
{
public:
    virtual ~RequestObserver() = default;
    virtual void requestStarted(QByteArrayView route) = 0;
    virtual void requestFinished(const CompletedRequest &request) = 0;
};

}  // namespace sluice
