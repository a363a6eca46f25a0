#pragma once

#include "HttpHeaders.h"

#include <QByteArray>

namespace sluice {

// The head of a parsed HTTP/1.x message: request line or status line, and header fields.
struct HttpMessageHead
{
    QByteArray method;  // requests: "GET"
    QByteArray target;  // requests: raw request target ("/v1/models?x=1")
    int status = 0;     // responses: 200
    int versionMajor = 1;
    int versionMinor = 1;
    HttpHeaders headers;
    bool keepAlive = true;  // from the version and Connection header, as http_parser decides
    bool chunked = false;
    qint64 contentLength = -1;  // -1 when absent

    // Path without query string ("/v1/models").
    QByteArrayView path() const;
    QByteArrayView query() const;
    bool isHttp10() const { return versionMajor == 1 && versionMinor == 0; }
};

// A complete request as handed to a route handler.
struct HttpRequest
{
    HttpMessageHead head;
    QByteArray body;
    QByteArray peerAddress;  // textual IP of the TCP peer

    const QByteArray &method() const { return head.method; }
    QByteArrayView path() const { return head.path(); }
    QByteArray header(QByteArrayView name) const { return head.headers.value(name); }
};

}  // namespace sluice
