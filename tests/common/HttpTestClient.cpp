#include "HttpTestClient.h"

#include "HttpMessageParser.h"

#include <QElapsedTimer>

namespace sluice::test {
namespace {

class Collector : public HttpMessageParser::Listener
{
public:
    bool head = false;
    bool done = false;
    TestResponse response;
    bool onHeadersComplete(HttpMessageHead &h) override
    {
        response.status = h.status;
        response.versionMinor = h.versionMinor;
        response.headers = h.headers;
        return !head && h.status != 204 && h.status != 304;
    }
    void onBody(QByteArrayView chunk) override { response.body.append(chunk); }
    void onMessageComplete() override { done = true; }
};

}  // namespace

bool HttpTestClient::connectTo(quint16 port, int timeoutMs)
{
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    return m_socket.waitForConnected(timeoutMs);
}

void HttpTestClient::send(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.waitForBytesWritten(1000);
}

std::optional<TestResponse> HttpTestClient::readResponse(int timeoutMs, bool toHeadRequest)
{
    Collector collector;
    collector.head = toHeadRequest;
    HttpMessageParser parser(HttpMessageParser::Kind::Response, &collector, {1 << 20, -1});
    QElapsedTimer timer;
    timer.start();
    qsizetype pos = 0;
    for (;;) {
        if (pos < m_buffer.size()) {
            pos += parser.feed(QByteArrayView(m_buffer).sliced(pos));
            if (parser.error() != HttpMessageParser::Error::None)
                return std::nullopt;
            if (collector.done) {
                m_buffer.remove(0, pos);
                return collector.response;
            }
        }
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0)
            return std::nullopt;
        if (m_socket.bytesAvailable() == 0 && !m_socket.waitForReadyRead(int(left))) {
            if (m_socket.state() != QAbstractSocket::ConnectedState) {
                // Close-delimited body (HTTP/1.0 streaming): EOF completes it.
                m_buffer.append(m_socket.readAll());
                if (pos < m_buffer.size())
                    pos += parser.feed(QByteArrayView(m_buffer).sliced(pos));
                parser.feedEof();
                if (collector.done) {
                    m_buffer.clear();
                    return collector.response;
                }
                return std::nullopt;
            }
            continue;
        }
        m_buffer.append(m_socket.readAll());
    }
}

std::optional<TestResponse> HttpTestClient::get(const QByteArray &path,
                                                const QByteArray &extraHeaders)
{
    send("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extraHeaders + "\r\n");
    return readResponse();
}

bool HttpTestClient::waitForClose(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (m_socket.state() == QAbstractSocket::ConnectedState) {
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0)
            return false;
        if (m_socket.waitForReadyRead(int(left)))
            m_buffer.append(m_socket.readAll());
    }
    return true;
}

}  // namespace sluice::test
