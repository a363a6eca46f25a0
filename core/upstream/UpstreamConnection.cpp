#include "UpstreamConnection.h"

#include "LogCategories.h"
#include "PendingCall.h"

#include <sys/socket.h>
#include <QSslSocket>
#include <QTcpSocket>
#include <cerrno>
#include <chrono>

namespace sluice {
namespace {

// How long an idle connection is kept when the server does not say (nginx closes after 75 s).
constexpr qint64 kDefaultKeepAliveMs = 60'000;

bool isTlsError(QAbstractSocket::SocketError e)
{
    return e == QAbstractSocket::SslHandshakeFailedError ||
           e == QAbstractSocket::SslInternalError || e == QAbstractSocket::SslInvalidUserDataError;
}

bool isProxyError(QAbstractSocket::SocketError e)
{
    return e == QAbstractSocket::ProxyAuthenticationRequiredError ||
           e == QAbstractSocket::ProxyConnectionRefusedError ||
           e == QAbstractSocket::ProxyConnectionClosedError ||
           e == QAbstractSocket::ProxyConnectionTimeoutError ||
           e == QAbstractSocket::ProxyNotFoundError || e == QAbstractSocket::ProxyProtocolError;
}

// "Keep-Alive: timeout=5, max=100": the server closes idle connections after 5 s. Closing ours
// a second earlier keeps a request from racing the server's close on a connection it is
// dropping, the race that no client can retry safely for a POST.
qint64 keepAliveFromHint(QByteArrayView value)
{
    const qsizetype at = value.indexOf("timeout=");
    if (at < 0)
        return kDefaultKeepAliveMs;
    qint64 seconds = 0;
    bool digits = false;
    for (qsizetype i = at + 8; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
        seconds = seconds * 10 + (value[i] - '0');
        digits = true;
        if (seconds > 3600)
            break;
    }
    if (!digits)
        return kDefaultKeepAliveMs;
    const qint64 ms = seconds * 1000;
    return qMin(kDefaultKeepAliveMs, qMax(ms - 1000, ms / 2));
}

}  // namespace

qint64 UpstreamConnection::nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

UpstreamConnection::UpstreamConnection(const ConnectionTarget &target, Owner *owner,
                                       QObject *parent)
    : QObject(parent),
      m_target(target),
      m_owner(owner),
      m_socket(target.tls ? new QSslSocket(this) : new QTcpSocket(this)),
      // Responses: no body limit (the caller streams it on), 64 KiB of head at most.
      m_parser(HttpMessageParser::Kind::Response, this, {64 * 1024, -1}),
      m_keepAliveMs(kDefaultKeepAliveMs)
{
    if (target.tls) {
        auto *ssl = static_cast<QSslSocket *>(m_socket);
        connect(ssl, &QSslSocket::encrypted, this, &UpstreamConnection::onConnected);
        connect(ssl, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            for (const QSslError &e : errors) {
                if (!m_tlsErrors.isEmpty())
                    m_tlsErrors += QLatin1String("; ");
                m_tlsErrors += e.errorString();
            }
        });
    } else {
        connect(m_socket, &QAbstractSocket::connected, this, &UpstreamConnection::onConnected);
    }
    connect(m_socket, &QIODevice::readyRead, this, &UpstreamConnection::onReadyRead);
    connect(m_socket, &QIODevice::bytesWritten, this, &UpstreamConnection::onBytesWritten);
    connect(m_socket, &QAbstractSocket::errorOccurred, this, &UpstreamConnection::onSocketError);
    connect(m_socket, &QAbstractSocket::disconnected, this, &UpstreamConnection::onDisconnected);
}

UpstreamConnection::~UpstreamConnection()
{
    // The socket is deleted with us: none of its last signals may reach a half-destroyed object.
    m_socket->disconnect(this);
}

QString UpstreamConnection::peer() const
{
    return m_target.host + QLatin1Char(':') + QString::number(m_target.port);
}

// ---- requests ----------------------------------------------------------------------------

void UpstreamConnection::open(std::shared_ptr<PendingCall> call)
{
    m_state = State::Connecting;
    m_stateSinceMs = nowMs();
    m_connectTimeoutMs = call->connectTimeoutMs;
    start(std::move(call));
    if (!m_target.setupError.isEmpty()) {
        fail(m_target.setupErrorKind, m_target.setupError);
        return;
    }
    qCDebug(lcUpstream).noquote() << "connecting to" << peer()
                                  << (m_target.tls ? "with TLS" : "in plain text");
    // Explicit even when direct: never the application-wide or system proxy by accident.
    m_socket->setProxy(m_target.proxy);
    if (m_target.tls) {
        auto *ssl = static_cast<QSslSocket *>(m_socket);
        ssl->setSslConfiguration(m_target.ssl);
        ssl->connectToHostEncrypted(m_target.host, m_target.port);  // verifies the name = host
    } else {
        m_socket->connectToHost(m_target.host, m_target.port);
    }
}

void UpstreamConnection::start(std::shared_ptr<PendingCall> call)
{
    m_call = std::move(call);
    m_call->connection = this;
    m_callOnReused = m_responses > 0;
    m_keepAlive = true;
    m_messageDone = false;
    m_informational = false;
    if (m_responses > 0)
        m_parser.reset();
    if (m_state != State::Connecting)
        sendRequest();
}

void UpstreamConnection::sendRequest()
{
    m_state = State::Active;
    m_lastProgressMs = nowMs();
    // Head and body as two writes into the socket buffer: a small body joins the head's chunk
    // (one send), a large one is shared, not copied.
    m_socket->write(m_call->head());
    if (!m_call->body().isEmpty())
        m_socket->write(m_call->body());
}

void UpstreamConnection::onConnected()
{
    if (m_state != State::Connecting)
        return;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    qCDebug(lcUpstream).noquote() << "connected to" << peer();
    if (m_call)
        sendRequest();
    else
        closeIdle();  // not reached: a cancelled call closes its connection
}

void UpstreamConnection::onBytesWritten()
{
    if (m_state == State::Active && m_call) {
        m_call->requestSent = true;
        m_lastProgressMs = nowMs();  // the first-byte timeout runs from the request written
    }
}

bool UpstreamConnection::isReusable() const
{
    if (m_state != State::Idle || m_socket->state() != QAbstractSocket::ConnectedState)
        return false;
    if (!m_target.tls && m_socket->bytesAvailable() > 0)
        return false;
    const int fd = int(m_socket->socketDescriptor());
    if (fd < 0)
        return true;
    // The server's FIN or RST may have arrived after the event loop last looked: one
    // non-blocking peek sees it before a request is written into a dead connection.
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return false;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK;
    // Bytes on an idle plain connection answer nothing we asked; on TLS they may be a session
    // ticket the socket has not processed yet.
    return m_target.tls;
}

// ---- responses ---------------------------------------------------------------------------

void UpstreamConnection::onReadyRead()
{
    if (m_state == State::Active) {
        const QByteArray data = m_socket->readAll();
        if (!data.isEmpty())
            processInput(data);
    } else if (m_state == State::Idle && !m_socket->readAll().isEmpty()) {
        qCDebug(lcUpstream).noquote()
            << "closing idle connection to" << peer() << "after unexpected bytes";
        closeIdle();
    }
}

void UpstreamConnection::processInput(const QByteArray &data)
{
    const std::shared_ptr<PendingCall> call = m_call;  // a callback may cancel and drop the last
    m_lastProgressMs = nowMs();
    call->responseStarted = true;
    const QByteArrayView input(data);
    qsizetype pos = 0;
    while (pos < input.size()) {
        pos += m_parser.feed(input.sliced(pos));
        if (m_call != call)
            return;  // cancelled from inside a callback: the connection is already closed
        if (m_parser.error() != HttpMessageParser::Error::None) {
            fail(UpstreamError::Kind::Protocol,
                 m_parser.error() == HttpMessageParser::Error::HeadersTooLarge
                     ? QStringLiteral("response headers from %1 exceed 64 KiB").arg(peer())
                     : QStringLiteral("malformed response from %1: %2")
                           .arg(peer(), QString::fromLatin1(m_parser.errorDescription())));
            return;
        }
        if (!m_messageDone)
            return;  // everything consumed; the answer continues in a later read
        m_messageDone = false;
        if (m_informational) {
            m_informational = false;  // 100 Continue, 103 Early Hints: the real answer follows
            continue;
        }
        if (pos < input.size())
            m_keepAlive = false;  // bytes after the answer: this connection is out of step
        finishResponse();
        return;
    }
}

bool UpstreamConnection::onHeadersComplete(HttpMessageHead &head)
{
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
        m_informational = true;
        return true;  // the codec knows 1xx answers have no body
    }
    if (head.isHttp10() || head.status == 101)
        m_keepAlive = false;
    const QByteArray hint = head.headers.value("Keep-Alive");
    if (!hint.isEmpty())
        m_keepAliveMs = keepAliveFromHint(hint);
    if (!m_call)
        return true;
    const bool expectBody = !m_call->isHeadRequest();
    m_call->deliverHead(head);
    return expectBody;
}

void UpstreamConnection::onBody(QByteArrayView chunk)
{
    if (m_call)
        m_call->deliverBody(chunk);
}

void UpstreamConnection::onMessageComplete()
{
    m_messageDone = true;
}

void UpstreamConnection::finishResponse()
{
    const std::shared_ptr<PendingCall> call = std::exchange(m_call, nullptr);
    call->connection = nullptr;
    ++m_responses;
    // Connection: close, HTTP/1.0, a request still being written (the server answered early)
    // or a closing socket: done with this connection.
    const bool reusable = m_keepAlive && m_parser.lastKeepAlive() &&
                          m_socket->bytesToWrite() == 0 &&
                          m_socket->state() == QAbstractSocket::ConnectedState;
    if (reusable) {
        m_state = State::Idle;
        m_stateSinceMs = nowMs();
        m_owner->connectionReleased(this);  // may hand it a waiting request right away
    } else {
        closeSocket();
        m_owner->connectionClosed(this, nullptr);
    }
    call->deliverComplete();  // last: the caller may send its next request from here
}

void UpstreamConnection::onDisconnected()
{
    handleEof();
}

void UpstreamConnection::handleEof()
{
    switch (m_state) {
        case State::Closed:
            return;
        case State::Idle:
            qCDebug(lcUpstream).noquote() << "idle connection to" << peer() << "closed by server";
            closeIdle();
            return;
        case State::Connecting:
            fail(UpstreamError::Kind::ConnectFailed,
                 QStringLiteral("connection to %1 closed while connecting").arg(peer()));
            return;
        case State::Active:
            break;
    }
    m_keepAlive = false;
    const QByteArray rest = m_socket->readAll();
    if (!rest.isEmpty()) {
        const std::shared_ptr<PendingCall> call = m_call;
        processInput(rest);
        if (m_state != State::Active || m_call != call)
            return;
    }
    // A body delimited by the close (no Content-Length, not chunked) ends here.
    if (m_parser.inMessage() && m_parser.headersComplete()) {
        m_parser.feedEof();
        if (m_messageDone && !m_informational) {
            m_messageDone = false;
            finishResponse();
            return;
        }
    }
    const bool started = m_call && m_call->responseStarted;
    fail(UpstreamError::Kind::Reset,
         started
             ? QStringLiteral("%1 closed the connection in the middle of its response").arg(peer())
             : QStringLiteral("%1 closed the connection without answering").arg(peer()));
}

void UpstreamConnection::onSocketError(QAbstractSocket::SocketError error)
{
    switch (m_state) {
        case State::Closed:
            return;
        case State::Idle:
            closeIdle();
            return;
        case State::Connecting:
            if (isTlsError(error)) {
                fail(UpstreamError::Kind::Tls,
                     QStringLiteral("TLS handshake with %1 failed: %2")
                         .arg(peer(),
                              m_tlsErrors.isEmpty() ? m_socket->errorString() : m_tlsErrors));
            } else if (isProxyError(error)) {
                fail(
                    UpstreamError::Kind::ConnectFailed,
                    QStringLiteral("proxy for %1 failed: %2").arg(peer(), m_socket->errorString()));
            } else {
                fail(UpstreamError::Kind::ConnectFailed,
                     QStringLiteral("connecting to %1 failed: %2")
                         .arg(peer(), m_socket->errorString()));
            }
            return;
        case State::Active:
            break;
    }
    if (error == QAbstractSocket::RemoteHostClosedError) {
        handleEof();  // may still complete a close-delimited body
        return;
    }
    fail(isTlsError(error) ? UpstreamError::Kind::Tls : UpstreamError::Kind::Reset,
         QStringLiteral("connection to %1 failed: %2").arg(peer(), m_socket->errorString()));
}

// ---- closing -----------------------------------------------------------------------------

void UpstreamConnection::fail(UpstreamError::Kind kind, const QString &message)
{
    if (m_state == State::Closed)
        return;
    std::shared_ptr<PendingCall> call = std::exchange(m_call, nullptr);
    // A kept-alive connection the server had already closed: send again on a fresh connection,
    // once, when that cannot run the request twice (nothing of it was written, or the request
    // is replayable). A POST whose bytes went out is never retried: the server may have
    // acted on it.
    const bool retry = call && kind == UpstreamError::Kind::Reset && m_callOnReused &&
                       !call->responseStarted && !call->retried &&
                       (!call->requestSent || call->isReplayable());
    closeSocket();
    if (call)
        call->connection = nullptr;
    if (retry) {
        call->retried = true;
        qCDebug(lcUpstream).noquote() << "stale kept-alive connection to" << peer() << "("
                                      << message << "), sending again on a new connection";
    }
    m_owner->connectionClosed(this, retry ? call : nullptr);
    if (call && !retry)
        call->deliverError(kind, message);
}

void UpstreamConnection::cancelCall(PendingCall *call)
{
    if (m_call.get() != call || m_state == State::Closed)
        return;
    m_call.reset();
    qCDebug(lcUpstream).noquote() << "request to" << peer() << "cancelled; closing its connection";
    closeSocket();
    m_owner->connectionClosed(this, nullptr);
}

void UpstreamConnection::closeIdle()
{
    if (m_state == State::Closed)
        return;
    closeSocket();
    m_owner->connectionClosed(this, nullptr);
}

void UpstreamConnection::close()
{
    if (m_state != State::Closed)
        closeSocket();
}

void UpstreamConnection::abandon()
{
    if (m_call) {
        m_call->abandon();
        m_call.reset();
    }
    if (m_state != State::Closed) {
        m_state = State::Closed;
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void UpstreamConnection::closeSocket()
{
    m_state = State::Closed;
    m_socket->disconnect(this);  // no signal re-enters us while the caller is still on the stack
    m_socket->abort();
    deleteLater();
}

void UpstreamConnection::sweep(qint64 nowMs)
{
    switch (m_state) {
        case State::Connecting:
            if (m_connectTimeoutMs > 0 && nowMs - m_stateSinceMs >= m_connectTimeoutMs) {
                fail(UpstreamError::Kind::Timeout,
                     QStringLiteral("connecting to %1 timed out after %2 ms")
                         .arg(peer())
                         .arg(m_connectTimeoutMs));
            }
            break;
        case State::Active: {
            if (!m_call)
                break;
            const bool started = m_call->responseStarted;
            const int limit = started ? m_call->idleTimeoutMs : m_call->firstByteTimeoutMs;
            if (limit > 0 && nowMs - m_lastProgressMs >= limit) {
                fail(UpstreamError::Kind::Timeout,
                     started
                         ? QStringLiteral("%1 sent nothing for %2 ms in the middle of its response")
                               .arg(peer())
                               .arg(limit)
                         : QStringLiteral("%1 did not start answering within %2 ms")
                               .arg(peer())
                               .arg(limit));
            }
            break;
        }
        case State::Idle:
            if (nowMs - m_stateSinceMs >= m_keepAliveMs) {
                qCDebug(lcUpstream).noquote() << "closing idle connection to" << peer();
                closeIdle();
            }
            break;
        case State::Closed:
            break;
    }
}

}  // namespace sluice
