#pragma once

#include <QHostAddress>
#include <QString>
#include <functional>
#include <memory>

class QSslConfiguration;

#include "HttpResponse.h"

namespace sluice {
struct HttpRequest;
}

namespace sluice {

struct ServerOptions
{
    QHostAddress host = QHostAddress::LocalHost;
    quint16 port = 8081;  // 0 picks a free port
    int workers = 1;
    qsizetype maxHeaderBytes = 64 * 1024;
    qint64 maxBodyBytes = 10 * 1024 * 1024;
    int headerTimeoutMs = 10'000;   // from the first byte of a request to the end of its headers
    int idleTimeoutMs = 60'000;     // keep-alive idle, and the longest gap while reading a body
    int maxPipelinedRequests = 16;  // per connection; reading pauses while this many are queued
    qint64 maxOutputBytes = 8 * 1024 * 1024;  // unread output that marks a client as stuck
    int lingerMs = 2'000;                     // how long a closing connection drains unread input
    int listenBacklog = 1024;
    // Shapes the front end's own errors (400, 408, 413, 431, 404, 405) for the request they
    // answer, so each API family gets its own error shape; null = OpenAI's shape.
    std::function<HttpResponse(const HttpRequest &request, int status, QByteArrayView code,
                               QByteArrayView message)>
        errorFormatter;
    // Set: every connection is TLS (ServerTls::load); null: plain TCP.
    std::shared_ptr<const QSslConfiguration> tls;
    QString threadNamePrefix =
        QStringLiteral("http-worker");  // threads are PREFIX-0, PREFIX-1, ...
};

}  // namespace sluice
