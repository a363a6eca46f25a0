#pragma once

#include "HttpMessageParser.h"
#include "ResponseSlot.h"

#include <QObject>
#include <deque>
#include <memory>

class QTcpSocket;

namespace sluice {

struct HttpResponse;
struct WorkerContext;

// One accepted client connection, owned by the worker thread that accepted it for its whole
// life. Parses pipelined requests, dispatches them to the router, writes the answers in request
// order, and enforces the limits and timeouts the front end promises (431, 413 without
// buffering, header and idle timeouts, bounded pipeline and output).
class ServerConnection : public QObject, private HttpMessageParser::Listener
{
    Q_OBJECT
public:
    ServerConnection(qintptr fd, WorkerContext *context, QObject *parent = nullptr);
    ~ServerConnection() override;

    // Called periodically by the worker: closes connections whose timeouts expired.
    void sweep(qint64 nowMs);
    // Graceful shutdown: idle connections close now, busy ones after their current answer.
    void beginDrain();
    // Closes at once (the drain deadline passed or the gateway is stopping).
    void abort();

    // Used through HttpResponder.
    void sendResponse(ResponseSlot &slot, const HttpResponse &response);
    void beginStream(ResponseSlot &slot, int status, const HttpHeaders &headers);
    void streamData(ResponseSlot &slot, QByteArrayView data);
    void endStream(ResponseSlot &slot);
    void abortFrom(ResponseSlot &slot);

signals:
    // The socket is closed; the worker forgets and deletes the connection.
    void closed(sluice::ServerConnection *connection);

private:
    enum class Phase
    {
        Open,
        Closing,
        Closed
    };

    bool onHeadersComplete(HttpMessageHead &head) override;
    void onBody(QByteArrayView chunk) override;
    void onMessageComplete() override;

    void startTls();
    void onReadyRead();
    void onBytesWritten();
    void onDisconnected();

    void processInput();
    void dispatchRequest();
    std::shared_ptr<ResponseSlot> enqueue(HttpRequest request, QByteArray route);
    // A protocol-level error (400, 408, 413, 431): answered in order, then the connection closes.
    void reject(int status, QByteArrayView message, QByteArrayView code);
    HttpResponse errorResponse(const HttpRequest &request, int status, QByteArrayView code,
                               QByteArrayView message) const;
    // `bodyBytes`: room reserved after the head for a body the caller appends.
    QByteArray serializeHead(ResponseSlot &slot, int status, const HttpHeaders &headers,
                             qint64 contentLength, qsizetype bodyBytes = 0);
    void output(ResponseSlot &slot, QByteArray bytes);
    void writeSocket(const QByteArray &bytes);
    void complete(ResponseSlot &slot);
    void finishSlot(ResponseSlot &slot, int status);
    void advancePipeline();
    void startClosing();
    void shutdownWrite();
    void teardown();

    WorkerContext *m_ctx;
    QTcpSocket *m_socket;
    HttpMessageParser m_parser;
    HttpRequest m_request;  // the request being parsed
    bool m_requestReady = false;
    QByteArray m_input;  // read but not yet parsed
    qsizetype m_inputPos = 0;
    std::deque<std::shared_ptr<ResponseSlot>> m_pipeline;
    QByteArray m_peer;
    Phase m_phase = Phase::Open;
    bool m_processing = false;
    bool m_reprocess = false;
    bool m_stopParsing = false;  // after a Connection: close request or a protocol error
    bool m_shutdownSent = false;
    bool m_abortQueued = false;
    qint64 m_messageStartMs = 0;
    qint64 m_lastReadMs = 0;
    qint64 m_lastActivityMs = 0;
    qint64 m_closingSinceMs = 0;
};

}  // namespace sluice
