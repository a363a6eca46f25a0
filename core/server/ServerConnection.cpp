#include "ServerConnection.h"

#include "HttpResponder.h"
#include "HttpResponse.h"
#include "HttpStatus.h"
#include "LogCategories.h"
#include "RequestId.h"
#include "RequestObserver.h"
#include "Router.h"
#include "ServerWorker.h"

#include <sys/socket.h>
#include <QDateTime>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <chrono>

namespace sluice {
namespace {

qint64 monotonicNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

qint64 monotonicMs()
{
    return monotonicNs() / 1'000'000;
}

// The Date header changes once a second; format it once per second per thread.
const QByteArray &httpDate()
{
    thread_local QByteArray cached;
    thread_local qint64 cachedSecond = -1;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    if (now != cachedSecond) {
        cachedSecond = now;
        cached = QLocale::c()
                     .toString(QDateTime::fromSecsSinceEpoch(now, Qt::UTC),
                               QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
                     .toLatin1();
    }
    return cached;
}

bool bodyForbidden(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// Framing headers belong to the connection layer, not to handlers.
bool isFramingHeader(QByteArrayView name)
{
    return HttpHeaders::nameEquals(name, "Content-Length") ||
           HttpHeaders::nameEquals(name, "Transfer-Encoding") ||
           HttpHeaders::nameEquals(name, "Connection") ||
           HttpHeaders::nameEquals(name, "Keep-Alive") ||
           HttpHeaders::nameEquals(name, "X-Request-Id") || HttpHeaders::nameEquals(name, "Date");
}

}  // namespace

ServerConnection::ServerConnection(qintptr fd, WorkerContext *context, QObject *parent)
    : QObject(parent),
      m_ctx(context),
      m_socket(context->options.tls ? new QSslSocket(this) : new QTcpSocket(this)),
      m_parser(HttpMessageParser::Kind::Request, this,
               {context->options.maxHeaderBytes, context->options.maxBodyBytes})
{
    m_socket->setSocketDescriptor(fd);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    // Bounded read buffer: while the pipeline is full we stop reading and TCP pushes back.
    m_socket->setReadBufferSize(256 * 1024);
    m_peer = m_socket->peerAddress().toString().toLatin1();
    m_lastActivityMs = m_lastReadMs = monotonicMs();
    connect(m_socket, &QTcpSocket::readyRead, this, &ServerConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &ServerConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &ServerConnection::onDisconnected);
    ++m_ctx->openConnections;
    if (context->options.tls)
        startTls();
}

void ServerConnection::startTls()
{
    auto *tls = static_cast<QSslSocket *>(m_socket);
    tls->setSslConfiguration(*m_ctx->options.tls);
    // bytesWritten reports plaintext taken in; the close waits until the ciphertext is out too.
    connect(tls, &QSslSocket::encryptedBytesWritten, this, &ServerConnection::onBytesWritten);
    connect(tls, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::SslHandshakeFailedError &&
            e != QAbstractSocket::SslInternalError && e != QAbstractSocket::SslInvalidUserDataError)
            return;
        // A plaintext client on the HTTPS port, or a client that refused our certificate.
        qCInfo(lcServer).noquote()
            << "TLS handshake with" << m_peer << "failed:" << m_socket->errorString();
        QMetaObject::invokeMethod(this, &ServerConnection::abort, Qt::QueuedConnection);
    });
    tls->startServerEncryption();
}

ServerConnection::~ServerConnection()
{
    teardown();
    --m_ctx->openConnections;
}

// ---- input -------------------------------------------------------------------------------

void ServerConnection::onReadyRead()
{
    if (m_phase == Phase::Open) {
        processInput();
    } else {
        m_socket->readAll();  // closing: drain and discard so the close is clean, not a reset
    }
}

void ServerConnection::processInput()
{
    if (m_processing) {
        m_reprocess = true;  // re-entered from a handler that answered synchronously
        return;
    }
    m_processing = true;
    do {
        m_reprocess = false;
        while (m_phase == Phase::Open) {
            if (m_stopParsing) {
                m_input.clear();
                m_inputPos = 0;
                m_socket->readAll();
                break;
            }
            if (qsizetype(m_pipeline.size()) >= m_ctx->options.maxPipelinedRequests)
                break;  // resumes from advancePipeline() once an answer went out
            if (m_inputPos >= m_input.size()) {
                m_input.clear();
                m_inputPos = 0;
                if (m_socket->bytesAvailable() <= 0)
                    break;
                m_input = m_socket->readAll();
                m_lastReadMs = monotonicMs();
            }
            const bool wasInMessage = m_parser.inMessage();
            const qsizetype n = m_parser.feed(QByteArrayView(m_input).sliced(m_inputPos));
            if (!wasInMessage && n > 0)
                m_messageStartMs = m_lastReadMs;  // the header timeout runs from the first byte
            m_inputPos += n;
            if (m_parser.error() != HttpMessageParser::Error::None) {
                switch (m_parser.error()) {
                    case HttpMessageParser::Error::HeadersTooLarge:
                        reject(431, "request header fields exceed the limit", "headers_too_large");
                        break;
                    case HttpMessageParser::Error::BodyTooLarge:
                        reject(413,
                               QByteArray("request body exceeds the limit of ") +
                                   QByteArray::number(m_ctx->options.maxBodyBytes) + " bytes",
                               "request_too_large");
                        break;
                    default:
                        reject(400,
                               QByteArray("malformed HTTP request: ") + m_parser.errorDescription(),
                               "bad_request");
                }
                break;
            }
            if (m_requestReady) {
                m_requestReady = false;
                dispatchRequest();
            }
        }
    } while (m_reprocess && m_phase == Phase::Open);
    m_processing = false;
}

bool ServerConnection::onHeadersComplete(HttpMessageHead &head)
{
    if (head.contentLength > 0)
        m_request.body.reserve(head.contentLength);
    // Expect: 100-continue: the body is within the limit (the parser checked), so ask for it.
    // Only at the head of the pipeline, where the interim answer cannot overtake another one.
    if (m_pipeline.empty() && head.versionMinor >= 1 &&
        head.headers.hasToken("Expect", "100-continue"))
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    m_request.head = std::move(head);
    return true;
}

void ServerConnection::onBody(QByteArrayView chunk)
{
    m_request.body.append(chunk);
}

void ServerConnection::onMessageComplete()
{
    m_requestReady = true;
}

void ServerConnection::dispatchRequest()
{
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    request.peerAddress = m_peer;
    const Router::Match match = m_ctx->router->match(request.head.method, request.head.path());
    QByteArray route =
        match.kind == Router::Match::Kind::Found ? match.route->name : QByteArrayLiteral("none");
    std::shared_ptr<ResponseSlot> slot = enqueue(std::move(request), std::move(route));
    HttpResponder responder(slot);
    switch (match.kind) {
        case Router::Match::Kind::Found:
            try {
                match.route->handler(responder);
            } catch (const std::exception &e) {
                qCCritical(lcServer) << "handler for" << slot->route << "threw:" << e.what();
                responder.send(
                    errorResponse(slot->request, 500, "internal_error", "internal error"));
            }
            break;
        case Router::Match::Kind::MethodNotAllowed: {
            HttpResponse r =
                errorResponse(slot->request, 405, "method_not_allowed",
                              QByteArray("method ") + slot->request.head.method +
                                  " is not allowed on " + slot->request.head.path().toByteArray());
            r.headers.add(QByteArrayLiteral("Allow"), match.allow);
            responder.send(std::move(r));
            break;
        }
        case Router::Match::Kind::NotFound:
            responder.send(errorResponse(
                slot->request, 404, "not_found",
                QByteArray("no route for ") + slot->request.head.path().toByteArray()));
            break;
    }
}

std::shared_ptr<ResponseSlot> ServerConnection::enqueue(HttpRequest request, QByteArray route)
{
    auto slot = std::make_shared<ResponseSlot>();
    slot->connection = this;
    slot->context = m_ctx->worker;
    slot->startNs = monotonicNs();
    const QByteArray clientId = request.head.headers.value("X-Request-Id");
    slot->requestId = RequestId::isSane(clientId) ? clientId : RequestId::generate();
    slot->headRequest = request.head.method == "HEAD";
    slot->closeAfter = !request.head.keepAlive || m_ctx->draining;
    slot->route = std::move(route);
    slot->request = std::move(request);
    if (slot->closeAfter)
        m_stopParsing = true;
    m_pipeline.push_back(slot);
    ++m_ctx->inFlight;
    if (m_ctx->observer)
        m_ctx->observer->requestStarted(slot->route);
    return slot;
}

void ServerConnection::reject(int status, QByteArrayView message, QByteArrayView code)
{
    qCDebug(lcHttp).noquote() << "closing connection from" << m_peer << "with" << status << message;
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    if (request.head.method.isEmpty())
        request.head = m_parser.head();  // e.g. a body refused at its headers: the head is known
    request.peerAddress = m_peer;
    request.head.keepAlive = false;  // every protocol error closes the connection
    QByteArray route = QByteArrayLiteral("none");
    if (!request.head.method.isEmpty()) {
        const Router::Match match = m_ctx->router->match(request.head.method, request.head.path());
        if (match.kind == Router::Match::Kind::Found)
            route = match.route->name;
    }
    auto slot = enqueue(std::move(request), std::move(route));
    HttpResponder(slot).send(errorResponse(slot->request, status, code, message));
}

HttpResponse ServerConnection::errorResponse(const HttpRequest &request, int status,
                                             QByteArrayView code, QByteArrayView message) const
{
    if (m_ctx->options.errorFormatter)
        return m_ctx->options.errorFormatter(request, status, code, message);
    return HttpResponse::jsonError(status, message,
                                   status >= 500 ? "server_error" : "invalid_request_error", code);
}

// ---- output ------------------------------------------------------------------------------

QByteArray ServerConnection::serializeHead(ResponseSlot &slot, int status,
                                           const HttpHeaders &headers, qint64 contentLength,
                                           qsizetype bodyBytes)
{
    slot.status = status;
    // One allocation for the head and the body that follows it: a proxied answer carries some
    // twenty headers, and growing the buffer piece by piece showed in profiles.
    qsizetype size = 160 + slot.requestId.size() + bodyBytes;
    for (const auto &[name, value] : headers.fields())
        size += name.size() + value.size() + 4;
    QByteArray out;
    out.reserve(size);
    out += "HTTP/1.1 ";
    out += QByteArray::number(status);
    out += ' ';
    out += httpReasonPhrase(status);
    out += "\r\n";
    for (const auto &[name, value] : headers.fields()) {
        if (isFramingHeader(name))
            continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!bodyForbidden(status)) {
        if (contentLength >= 0) {
            out += "Content-Length: ";
            out += QByteArray::number(contentLength);
            out += "\r\n";
        } else if (slot.chunked) {
            out += "Transfer-Encoding: chunked\r\n";
        }
    }
    out += "X-Request-Id: ";
    out += slot.requestId;
    out += "\r\nDate: ";
    out += httpDate();
    out += "\r\n";
    if (slot.closeAfter || m_ctx->draining) {
        slot.closeAfter = true;
        out += "Connection: close\r\n";
    } else if (slot.request.head.isHttp10()) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    return out;
}

void ServerConnection::sendResponse(ResponseSlot &slot, const HttpResponse &response)
{
    const bool withBody = !slot.headRequest && !bodyForbidden(response.status);
    QByteArray out = serializeHead(slot, response.status, response.headers,
                                   bodyForbidden(response.status) ? -1 : response.body.size(),
                                   withBody ? response.body.size() : 0);
    if (withBody)
        out += response.body;
    slot.state = ResponseSlot::State::Done;
    output(slot, std::move(out));
    complete(slot);
}

void ServerConnection::beginStream(ResponseSlot &slot, int status, const HttpHeaders &headers)
{
    if (slot.request.head.isHttp10())
        slot.closeAfter = true;  // no chunked encoding in HTTP/1.0: the close ends the body
    else
        slot.chunked = true;
    slot.state = ResponseSlot::State::Streaming;
    output(slot, serializeHead(slot, status, headers, -1));
}

void ServerConnection::streamData(ResponseSlot &slot, QByteArrayView data)
{
    if (slot.headRequest)
        return;
    QByteArray out;
    if (slot.chunked) {
        out.reserve(data.size() + 12);
        out += QByteArray::number(data.size(), 16);
        out += "\r\n";
        out += data;
        out += "\r\n";
    } else {
        out = data.toByteArray();
    }
    output(slot, std::move(out));
}

void ServerConnection::endStream(ResponseSlot &slot)
{
    slot.state = ResponseSlot::State::Done;
    if (slot.chunked && !slot.headRequest)
        output(slot, QByteArrayLiteral("0\r\n\r\n"));
    complete(slot);
}

void ServerConnection::abortFrom(ResponseSlot &slot)
{
    // Deferred like the stuck-reader drop: the handler calling us keeps a live connection.
    // The slot is recorded with the status it started with; the client sees a cut stream.
    finishSlot(slot, slot.status ? slot.status : 502);
    if (!m_abortQueued) {
        m_abortQueued = true;
        QMetaObject::invokeMethod(this, &ServerConnection::abort, Qt::QueuedConnection);
    }
}

void ServerConnection::output(ResponseSlot &slot, QByteArray bytes)
{
    slot.bytesOut += bytes.size();
    if (m_phase == Phase::Closed)
        return;
    if (!m_pipeline.empty() && m_pipeline.front().get() == &slot)
        writeSocket(bytes);
    else
        slot.buffered += bytes;
}

void ServerConnection::writeSocket(const QByteArray &bytes)
{
    if (m_abortQueued)
        return;
    m_socket->write(bytes);
    if (m_socket->bytesToWrite() > m_ctx->options.maxOutputBytes) {
        // The client does not read: drop it rather than buffer without bound. Deferred, so the
        // handler that is writing right now never sees the connection vanish under it.
        qCInfo(lcServer) << "dropping client" << m_peer << "with" << m_socket->bytesToWrite()
                         << "unread bytes";
        m_abortQueued = true;
        QMetaObject::invokeMethod(this, &ServerConnection::abort, Qt::QueuedConnection);
    }
}

void ServerConnection::complete(ResponseSlot &slot)
{
    finishSlot(slot, slot.status);
    if (!m_pipeline.empty() && m_pipeline.front().get() == &slot)
        advancePipeline();
}

void ServerConnection::finishSlot(ResponseSlot &slot, int status)
{
    slot.state = ResponseSlot::State::Done;
    if (slot.startNs == 0)
        return;  // already reported
    --m_ctx->inFlight;
    if (m_ctx->observer) {
        CompletedRequest done;
        done.method = slot.request.head.method;
        done.route = slot.route;
        done.target = slot.request.head.target;
        done.requestId = slot.requestId;
        done.peer = m_peer;
        done.userId = slot.userId;
        done.keyId = slot.keyId;
        done.status = status;
        done.seconds = double(monotonicNs() - slot.startNs) / 1e9;
        done.bytesOut = slot.bytesOut;
        m_ctx->observer->requestFinished(done);
    }
    slot.startNs = 0;
}

void ServerConnection::advancePipeline()
{
    while (!m_pipeline.empty() && m_pipeline.front()->state == ResponseSlot::State::Done) {
        const std::shared_ptr<ResponseSlot> done = std::move(m_pipeline.front());
        m_pipeline.pop_front();
        done->connection = nullptr;
        if (done->closeAfter) {
            startClosing();
            return;
        }
        if (!m_pipeline.empty() && !m_pipeline.front()->buffered.isEmpty())
            writeSocket(std::exchange(m_pipeline.front()->buffered, QByteArray()));
    }
    m_lastActivityMs = monotonicMs();
    if (m_phase == Phase::Open && m_pipeline.empty() && m_ctx->draining && !m_parser.inMessage()) {
        startClosing();
        return;
    }
    processInput();  // the pipeline has room again: parse what is waiting
}

// ---- closing -----------------------------------------------------------------------------

void ServerConnection::startClosing()
{
    if (m_phase != Phase::Open)
        return;
    m_phase = Phase::Closing;
    m_stopParsing = true;
    m_closingSinceMs = monotonicMs();
    if (m_socket->bytesToWrite() == 0)
        shutdownWrite();
    // else onBytesWritten() half-closes once the answer is out
}

void ServerConnection::onBytesWritten()
{
    if (m_phase == Phase::Closing && !m_shutdownSent && m_socket->bytesToWrite() == 0)
        shutdownWrite();
}

void ServerConnection::shutdownWrite()
{
    // Lingering close: send FIN but keep reading (and discarding) for a moment, so a client
    // that still sends (a refused body, pipelined requests) reads our answer instead of a reset.
    m_shutdownSent = true;
    m_closingSinceMs = monotonicMs();
    if (m_ctx->options.tls) {
        // TLS cannot half-close under the session: close_notify, then the socket closes.
        m_socket->disconnectFromHost();
        return;
    }
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    m_socket->readAll();
}

void ServerConnection::beginDrain()
{
    if (m_phase != Phase::Open)
        return;
    if (m_pipeline.empty() && !m_parser.inMessage()) {
        startClosing();
        return;
    }
    // Busy: the current answers go out, then the connection closes. A request still arriving is
    // answered with Connection: close (the worker's draining flag).
    if (!m_pipeline.empty()) {
        m_stopParsing = true;
        m_pipeline.back()->closeAfter = true;
    }
}

void ServerConnection::sweep(qint64 nowMs)
{
    const ServerOptions &o = m_ctx->options;
    switch (m_phase) {
        case Phase::Open:
            if (m_parser.inMessage()) {
                if (qsizetype(m_pipeline.size()) >= o.maxPipelinedRequests)
                    return;  // we paused reading ourselves; not the client's fault
                if (!m_parser.headersComplete() && nowMs - m_messageStartMs > o.headerTimeoutMs)
                    reject(408, "request headers not received in time", "request_timeout");
                else if (m_parser.headersComplete() && nowMs - m_lastReadMs > o.idleTimeoutMs)
                    reject(408, "request body not received in time", "request_timeout");
            } else if (m_pipeline.empty() && nowMs - m_lastActivityMs > o.idleTimeoutMs) {
                startClosing();  // keep-alive idle timeout: close quietly
            }
            break;
        case Phase::Closing:
            if ((m_shutdownSent && nowMs - m_closingSinceMs > o.lingerMs) ||
                (!m_shutdownSent && nowMs - m_closingSinceMs > o.idleTimeoutMs))
                abort();
            break;
        case Phase::Closed:
            break;
    }
}

void ServerConnection::abort()
{
    if (m_phase == Phase::Closed)
        return;
    m_socket->abort();  // emits disconnected() when it was connected
    teardown();
}

void ServerConnection::onDisconnected()
{
    teardown();
}

void ServerConnection::teardown()
{
    if (m_phase == Phase::Closed)
        return;
    m_phase = Phase::Closed;
    // Requests still waiting for an answer: the client left (499); their handlers learn it
    // through onAbort and every later write through their responder is a no-op.
    auto pending = std::move(m_pipeline);
    m_pipeline.clear();
    for (const auto &slot : pending) {
        slot->connection = nullptr;
        if (slot->state != ResponseSlot::State::Done) {
            finishSlot(*slot, 499);
            if (slot->onAbort)
                std::exchange(slot->onAbort, nullptr)();
        }
    }
    emit closed(this);
}

}  // namespace sluice
