#pragma once

#include "HttpHeaders.h"

#include <QByteArray>
#include <QTcpSocket>
#include <optional>

namespace sluice::test {

struct TestResponse
{
    int status = 0;
    int versionMinor = 1;
    HttpHeaders headers;
    QByteArray body;
    QByteArray header(QByteArrayView name) const { return headers.value(name); }
};

// A blocking raw-socket HTTP/1.1 client for tests: it writes exactly the bytes a test gives it
// (pipelining, malformed requests, slow writes) and reads responses one at a time, parsed with
// the gateway's own response codec (the one the upstream client uses).
class HttpTestClient
{
public:
    bool connectTo(quint16 port, int timeoutMs = 3000);
    void send(const QByteArray &bytes);
    // Reads the next complete response; nullopt on timeout, protocol error or close.
    std::optional<TestResponse> readResponse(int timeoutMs = 5000, bool toHeadRequest = false);
    // Convenience: GET with Host header; keep-alive.
    std::optional<TestResponse> get(const QByteArray &path, const QByteArray &extraHeaders = {});
    // True once the server closed the connection (within timeoutMs).
    bool waitForClose(int timeoutMs = 5000);
    QTcpSocket &socket() { return m_socket; }
    // Bytes received but not consumed by readResponse().
    QByteArray &buffered() { return m_buffer; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

}  // namespace sluice::test
