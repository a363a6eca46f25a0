#pragma once

#include <QByteArray>
#include <QString>

namespace sluice {

// Where and how to reach one upstream, as the pool needs it (parsed from [upstream.NAME]).
struct UpstreamEndpoint
{
    QString name;      // "openai": metrics label, logs
    bool tls = false;  // https
    QString host;
    quint16 port = 80;
    QByteArray basePath;  // "/v1" for https://api.openai.com/v1, "" for https://api.anthropic.com
    int connectTimeoutMs = 10'000;     // TCP + proxy CONNECT + TLS; also the longest queue wait
    int firstByteTimeoutMs = 600'000;  // timeout_ms: request sent -> first response byte
    int idleTimeoutMs = 300'000;       // idle_timeout_ms: longest gap between response bytes
    int maxConnections = 256;          // per worker thread; more requests wait for a free one
    QString caFile;                    // PEM; replaces the system CAs; empty = system CAs
    QString httpProxy;                 // http://host:port for HTTP CONNECT; empty = direct
    QByteArray hostHeader() const;     // "api.openai.com" or "host:port" when not default
};

}  // namespace sluice
