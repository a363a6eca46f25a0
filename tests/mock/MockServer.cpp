#include "MockServer.h"

#include <sys/socket.h>
#include <zlib.h>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>
#include <functional>

namespace sluice::mock {

namespace {

constexpr qsizetype kMaxHead = 64 * 1024;
constexpr qsizetype kMaxBody = 256 * 1024 * 1024;

enum class Parse
{
    Incomplete,
    Complete,
    Bad
};

// Decodes a chunked body that starts at `pos`; on Complete `*end` is the offset after it.
Parse dechunk(const QByteArray &buf, qsizetype pos, QByteArray *body, qsizetype *end)
{
    for (;;) {
        const qsizetype eol = buf.indexOf("\r\n", pos);
        if (eol < 0)
            return Parse::Incomplete;
        bool ok = false;
        const qsizetype size =
            buf.mid(pos, eol - pos).split(';').first().trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0 || body->size() + size > kMaxBody)
            return Parse::Bad;
        pos = eol + 2;
        if (size == 0) {
            for (;;) {  // trailers, then an empty line
                const qsizetype lineEnd = buf.indexOf("\r\n", pos);
                if (lineEnd < 0)
                    return Parse::Incomplete;
                const bool empty = lineEnd == pos;
                pos = lineEnd + 2;
                if (empty) {
                    *end = pos;
                    return Parse::Complete;
                }
            }
        }
        if (buf.size() < pos + size + 2)
            return Parse::Incomplete;
        body->append(buf.constData() + pos, size);
        pos += size + 2;
    }
}

// One request from the front of `buf`. `*headDone` tells whether its head is complete.
Parse parseRequest(const QByteArray &buf, MockRequest *r, qsizetype *consumed, bool *headDone)
{
    *headDone = false;
    const qsizetype headEnd = buf.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return buf.size() > kMaxHead ? Parse::Bad : Parse::Incomplete;
    if (headEnd > kMaxHead)
        return Parse::Bad;
    const QList<QByteArray> lines = buf.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1."))
        return Parse::Bad;
    r->method = requestLine[0];
    r->target = requestLine[1];
    const qsizetype query = r->target.indexOf('?');
    r->path = query < 0 ? r->target : r->target.left(query);
    r->version = requestLine[2];
    r->headers.clear();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (line.endsWith('\r'))
            line.chop(1);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return Parse::Bad;
        r->headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    *headDone = true;
    const qsizetype bodyStart = headEnd + 4;
    r->body.clear();
    if (r->header("transfer-encoding").toLower().contains("chunked"))
        return dechunk(buf, bodyStart, &r->body, consumed);
    const QByteArray lengthText = r->header("content-length");
    qsizetype length = 0;
    if (!lengthText.isNull()) {
        bool ok = false;
        length = lengthText.trimmed().toLongLong(&ok);
        if (!ok || length < 0 || length > kMaxBody)
            return Parse::Bad;
    }
    if (buf.size() < bodyStart + length)
        return Parse::Incomplete;
    r->body = buf.mid(bodyStart, length);
    *consumed = bodyStart + length;
    return Parse::Complete;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 529:
            return "Overloaded";
        default:
            return "Status";
    }
}

QByteArray httpDate()
{
    return QLocale::c()
               .toString(QDateTime::currentDateTimeUtc(),
                         QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
               .toLatin1() +
           " GMT";
}

bool hasToken(const QByteArray &value, QByteArrayView token)
{
    for (const QByteArray &part : value.split(',')) {
        const QByteArray name = part.split(';').first().trimmed();  // "gzip;q=1.0"
        if (QByteArrayView(name).compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// The gzip format (RFC 1952) of `data`; empty on failure.
QByteArray gzipped(const QByteArray &data)
{
    z_stream z = {};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return {};
    QByteArray out(qsizetype(deflateBound(&z, uLong(data.size()))) + 32, Qt::Uninitialized);
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.constData()));
    z.avail_in = uInt(data.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = uInt(out.size());
    const int result = deflate(&z, Z_FINISH);
    out.resize(qsizetype(z.total_out));
    deflateEnd(&z);
    return result == Z_STREAM_END ? out : QByteArray();
}

QJsonObject jsonOf(const RecordedRequest &rec)
{
    QJsonObject headers;
    QJsonArray raw;
    for (const auto &[name, value] : rec.request.headers) {
        const QString key = QString::fromLatin1(name).toLower();
        const QString v = QString::fromUtf8(value);
        const QJsonValue before = headers.value(key);
        headers.insert(key, before.isString() ? before.toString() + QStringLiteral(", ") + v : v);
        raw.append(QJsonArray{QString::fromLatin1(name), v});
    }
    return QJsonObject{{QStringLiteral("seq"), qint64(rec.seq)},
                       {QStringLiteral("time_ms"), rec.timeMs},
                       {QStringLiteral("method"), QString::fromLatin1(rec.request.method)},
                       {QStringLiteral("path"), QString::fromUtf8(rec.request.target)},
                       {QStringLiteral("version"), QString::fromLatin1(rec.request.version)},
                       {QStringLiteral("headers"), headers},
                       {QStringLiteral("raw_headers"), raw},
                       {QStringLiteral("body"), QString::fromUtf8(rec.request.body)},
                       {QStringLiteral("remote"), QString::fromLatin1(rec.remote)},
                       {QStringLiteral("tls"), rec.tls}};
}

MockAnswer jsonAnswer(int status, const QJsonDocument &doc)
{
    MockAnswer a;
    a.status = status;
    a.headers.emplaceBack("content-type", "application/json");
    a.body = doc.toJson(QJsonDocument::Compact);
    return a;
}

// ---- one client connection ------------------------------------------------------------------

class MockConnection : public QObject
{
public:
    MockConnection(MockServer *server, QTcpSocket *socket, bool tls)
        : QObject(server), m_server(server), m_socket(socket), m_tls(tls)
    {
        m_socket->setParent(this);
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_remote = m_socket->peerAddress().toString().toLatin1() + ':' +
                   QByteArray::number(m_socket->peerPort());
        m_timer.setSingleShot(true);
        m_timer.setTimerType(Qt::PreciseTimer);  // a coarse timer may fire 5 % early
        m_idle.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            auto action = std::move(m_action);
            m_action = nullptr;
            if (action)
                action();
        });
        connect(&m_idle, &QTimer::timeout, this, [this] { m_socket->disconnectFromHost(); });
        connect(m_socket, &QTcpSocket::readyRead, this, &MockConnection::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &MockConnection::onDisconnected);
        m_server->connectionOpened();
        armIdle();
    }

    void onReadyRead()
    {
        m_in += m_socket->readAll();
        processBuffer();
    }

private:
    void schedule(int ms, std::function<void()> action)
    {
        m_action = std::move(action);
        m_timer.start(ms);
    }

    void armIdle()
    {
        if (m_server->idleTimeoutMs() > 0)
            m_idle.start(m_server->idleTimeoutMs());
    }

    qint64 pendingOutput() const
    {
        qint64 n = m_socket->bytesToWrite();
        if (m_tls)
            n += static_cast<QSslSocket *>(m_socket)->encryptedBytesToWrite();
        return n;
    }

    void processBuffer()
    {
        if (m_processing)
            return;
        m_processing = true;
        while (!m_busy && !m_gone) {
            while (m_in.startsWith("\r\n"))
                m_in.remove(0, 2);
            if (m_in.isEmpty())
                break;
            MockRequest request;
            qsizetype consumed = 0;
            bool headDone = false;
            const Parse result = parseRequest(m_in, &request, &consumed, &headDone);
            if (result == Parse::Incomplete) {
                if (headDone && !m_continueSent &&
                    hasToken(request.header("expect"), "100-continue")) {
                    m_continueSent = true;
                    m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
                }
                break;
            }
            if (result == Parse::Bad) {
                m_socket->write(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: "
                    "12\r\nconnection: close\r\n\r\nbad request\n");
                m_busy = true;
                m_socket->disconnectFromHost();
                break;
            }
            m_in.remove(0, consumed);
            m_continueSent = false;
            handle(request);
        }
        m_processing = false;
    }

    void handle(const MockRequest &request)
    {
        m_idle.stop();
        m_busy = true;
        m_http10 = request.version == "HTTP/1.0";
        m_keepAlive = !m_http10 && !hasToken(request.header("connection"), "close");
        if (request.path.startsWith("/mock/")) {
            m_answer = m_server->control(request);
        } else {
            m_open = true;
            m_answer = planAnswer(request, m_server->requestStarted(request, m_remote),
                                  m_server->apiKeys());
        }
        const bool gzip = m_server->gzip() || hasToken(request.header("x-mock-gzip"), "1");
        if (gzip && !m_answer.stream && !m_answer.body.isEmpty() &&
            hasToken(request.header("accept-encoding"), "gzip")) {
            const QByteArray compressed = gzipped(m_answer.body);
            if (!compressed.isEmpty()) {
                m_answer.body = compressed;
                m_answer.headers.emplaceBack("content-encoding", "gzip");
                m_answer.headers.emplaceBack("vary", "Accept-Encoding");
            }
        }
        if (m_answer.close || (m_answer.stream && m_http10))
            m_keepAlive = false;
        m_nextEvent = 0;
        m_bodyWritten = 0;
        switch (m_answer.mode) {
            case MockAnswer::Mode::Hang:
                return;  // open until the client leaves
            case MockAnswer::Mode::Drop:
                resetConnection();
                return;
            case MockAnswer::Mode::Answer:
                break;
        }
        if (m_answer.delayMs > 0)
            schedule(m_answer.delayMs, [this] { begin(); });
        else
            begin();
    }

    void begin()
    {
        QByteArray head = "HTTP/1.1 " + QByteArray::number(m_answer.status) + ' ' +
                          reasonPhrase(m_answer.status) + "\r\n";
        for (const auto &[name, value] : m_answer.headers)
            head += name + ": " + value + "\r\n";
        head += "date: " + httpDate() + "\r\nserver: sluice-mock-llm\r\n";
        if (!m_answer.stream)
            head += "content-length: " + QByteArray::number(m_answer.body.size()) + "\r\n";
        else if (!m_http10)
            head += "transfer-encoding: chunked\r\n";
        head += m_keepAlive ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
        m_socket->write(head);
        if (m_answer.resetAfterBytes == 0) {
            resetConnection();
            return;
        }
        if (!m_answer.stream) {
            if (writeBody(m_answer.body))
                finish();
            return;
        }
        writeEvents();
    }

    // Writes events until the next pause (x-mock-chunk-delay-ms) or the end.
    void writeEvents()
    {
        while (m_nextEvent < m_answer.events.size()) {
            const QByteArray &event = m_answer.events[m_nextEvent++];
            const QByteArray wire =
                m_http10 ? event : QByteArray::number(event.size(), 16) + "\r\n" + event + "\r\n";
            if (!writeBody(wire))
                return;
            if (m_answer.chunkDelayMs > 0 && m_nextEvent < m_answer.events.size()) {
                schedule(m_answer.chunkDelayMs, [this] { writeEvents(); });
                return;
            }
        }
        if (m_http10 || writeBody("0\r\n\r\n"))
            finish();
    }

    // False when x-mock-reset-after-bytes cut the body here (the connection is being reset).
    bool writeBody(const QByteArray &wire)
    {
        const qint64 limit = m_answer.resetAfterBytes;
        if (limit >= 0 && m_bodyWritten + wire.size() >= limit) {
            m_socket->write(wire.left(limit - m_bodyWritten));
            m_bodyWritten = limit;
            resetConnection();
            return false;
        }
        m_socket->write(wire);
        m_bodyWritten += wire.size();
        return true;
    }

    void finish()
    {
        if (m_open) {
            m_open = false;
            m_server->requestEnded(true, false, false);
        }
        m_busy = false;
        if (!m_keepAlive) {
            m_busy = true;
            m_socket->disconnectFromHost();  // after the write buffer is out
            return;
        }
        armIdle();
        processBuffer();  // a pipelined request that waited
    }

    // An abrupt end: what was written so far reaches the peer, then an RST (SO_LINGER 0).
    void resetConnection()
    {
        if (m_open) {
            m_open = false;
            m_server->requestEnded(false, false, true);
        }
        m_busy = true;
        m_socket->flush();
        waitThenReset(0);
    }

    void waitThenReset(int rounds)
    {
        if (m_gone)
            return;
        m_socket->flush();
        if (pendingOutput() > 0 && rounds < 400) {
            schedule(5, [this, rounds] { waitThenReset(rounds + 1); });
            return;
        }
        // A moment for the loopback peer to take the bytes before the RST overtakes them.
        schedule(20, [this] {
            const qintptr fd = m_socket->socketDescriptor();
            if (fd >= 0) {
                const struct linger lingerOff = {1, 0};
                ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &lingerOff, sizeof lingerOff);
            }
            m_socket->abort();
            onDisconnected();
        });
    }

    void onDisconnected()
    {
        if (m_gone)
            return;
        m_gone = true;
        m_timer.stop();
        m_idle.stop();
        if (m_open) {
            m_open = false;
            m_server->requestEnded(false, true, false);
        }
        m_server->connectionClosed();
        deleteLater();
    }

    MockServer *m_server;
    QTcpSocket *m_socket;
    bool m_tls;
    QByteArray m_remote;
    QByteArray m_in;
    bool m_processing = false;
    bool m_busy = false;  // answering (later pipelined requests wait in m_in)
    bool m_open = false;  // counted in open_requests
    bool m_gone = false;
    bool m_continueSent = false;
    bool m_keepAlive = true;
    bool m_http10 = false;
    MockAnswer m_answer;
    qsizetype m_nextEvent = 0;
    qint64 m_bodyWritten = 0;
    QTimer m_timer;
    QTimer m_idle;
    std::function<void()> m_action;
};

}  // namespace

// ---- MockServer -------------------------------------------------------------------------------

MockServer::MockServer(QObject *parent) : QTcpServer(parent)
{
    setMaxPendingConnections(4096);
    setListenBacklogSize(4096);
}

void MockServer::setTls(const QSslCertificate &certificate, const QSslKey &key)
{
    m_certificate = certificate;
    m_key = key;
}

void MockServer::incomingConnection(qintptr socketDescriptor)
{
    QTcpSocket *socket = nullptr;
    if (tls()) {
        auto *ssl = new QSslSocket;
        QSslConfiguration config = ssl->sslConfiguration();
        config.setLocalCertificate(m_certificate);
        config.setPrivateKey(m_key);
        config.setPeerVerifyMode(QSslSocket::VerifyNone);
        ssl->setSslConfiguration(config);
        socket = ssl;
    } else {
        socket = new QTcpSocket;
    }
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        delete socket;
        return;
    }
    new MockConnection(this, socket, tls());  // owned by the server, deletes itself on close
    if (tls())
        static_cast<QSslSocket *>(socket)->startServerEncryption();
}

quint64 MockServer::requestStarted(const MockRequest &request, const QByteArray &remote)
{
    ++m_seq;
    ++m_stats.total;
    ++m_stats.openRequests;
    m_stats.maxOpenRequests = qMax(m_stats.maxOpenRequests, m_stats.openRequests);
    if (m_recordLimit > 0) {
        RecordedRequest rec;
        rec.seq = m_seq;
        rec.timeMs = QDateTime::currentMSecsSinceEpoch();
        rec.request = request;
        rec.remote = remote;
        rec.tls = tls();
        m_recorded.push_back(std::move(rec));
        while (qsizetype(m_recorded.size()) > m_recordLimit)
            m_recorded.pop_front();
    }
    return m_seq;
}

void MockServer::requestEnded(bool completed, bool aborted, bool reset)
{
    --m_stats.openRequests;
    m_stats.completed += completed ? 1 : 0;
    m_stats.aborted += aborted ? 1 : 0;
    m_stats.reset += reset ? 1 : 0;
}

void MockServer::connectionOpened()
{
    ++m_stats.connectionsOpen;
    ++m_stats.connectionsTotal;
}

void MockServer::connectionClosed()
{
    --m_stats.connectionsOpen;
}

QJsonObject MockServer::statsJson() const
{
    return QJsonObject{{QStringLiteral("open_requests"), m_stats.openRequests},
                       {QStringLiteral("max_open_requests"), m_stats.maxOpenRequests},
                       {QStringLiteral("total"), m_stats.total},
                       {QStringLiteral("completed"), m_stats.completed},
                       {QStringLiteral("aborted"), m_stats.aborted},
                       {QStringLiteral("reset"), m_stats.reset},
                       {QStringLiteral("connections_open"), m_stats.connectionsOpen},
                       {QStringLiteral("connections_total"), m_stats.connectionsTotal}};
}

MockAnswer MockServer::control(const MockRequest &request)
{
    const QByteArrayView path(request.path);
    if (request.method == "GET" && path == "/mock/stats")
        return jsonAnswer(200, QJsonDocument(statsJson()));
    if (request.method == "GET" && path == "/mock/requests") {
        const QUrlQuery query(QString::fromUtf8(request.target.mid(request.path.size() + 1)));
        bool ok = false;
        const qsizetype limit = query.queryItemValue(QStringLiteral("limit")).toLongLong(&ok);
        const qsizetype count = qsizetype(m_recorded.size());
        const qsizetype first = ok && limit >= 0 && limit < count ? count - limit : 0;
        QJsonArray list;
        for (qsizetype i = first; i < count; ++i)
            list.append(jsonOf(m_recorded[size_t(i)]));
        return jsonAnswer(200, QJsonDocument(list));
    }
    if ((request.method == "POST" && path == "/mock/reset") ||
        (request.method == "DELETE" && path == "/mock/requests")) {
        m_recorded.clear();
        const qint64 open = m_stats.openRequests;
        const qint64 connections = m_stats.connectionsOpen;
        m_stats = MockStats();
        m_stats.openRequests = open;
        m_stats.maxOpenRequests = open;
        m_stats.connectionsOpen = connections;
        return jsonAnswer(200, QJsonDocument(QJsonObject{{QStringLiteral("ok"), true}}));
    }
    return jsonAnswer(404,
                      QJsonDocument(QJsonObject{
                          {QStringLiteral("error"),
                           QStringLiteral("unknown mock control endpoint; try GET /mock/stats, "
                                          "GET /mock/requests[?limit=N] or POST /mock/reset")}}));
}

}  // namespace sluice::mock
