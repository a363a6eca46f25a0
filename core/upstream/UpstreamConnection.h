#pragma once

#include "HttpMessageParser.h"
#include "UpstreamPool.h"

#include <QAbstractSocket>
#include <QNetworkProxy>
#include <QObject>
#include <QSslConfiguration>
#include <memory>

class QTcpSocket;

namespace sluice {

class PendingCall;

// What a connection needs to know about its endpoint, prepared once per endpoint.
struct ConnectionTarget
{
    QString host;
    quint16 port = 0;
    bool tls = false;
    QSslConfiguration ssl;  // CA certificates, peer verification, ALPN http/1.1
    QNetworkProxy proxy{QNetworkProxy::NoProxy};
    // Set when the endpoint cannot work at all (ca_file unreadable, bad proxy URL): every
    // connection attempt fails with it.
    QString setupError;
    UpstreamError::Kind setupErrorKind = UpstreamError::Kind::ConnectFailed;
};

// One HTTP/1.1 connection to an upstream, plain or TLS, direct or through an HTTP CONNECT
// proxy. It carries one request at a time: writes it, parses the answer with the shared codec
// and hands the head and body to the call as bytes arrive (no buffering). Between requests it
// sits idle in its endpoint's pool. It is always deleted with deleteLater(), never from inside
// one of its own handlers.
class UpstreamConnection : public QObject, private HttpMessageParser::Listener
{
    Q_OBJECT
public:
    // The endpoint pool that owns the connection.
    class Owner
    {
    public:
        // The answer ended and the connection can carry another request.
        virtual void connectionReleased(UpstreamConnection *connection) = 0;
        // The connection is closed (and will delete itself). `retry` is a call that failed on a
        // stale kept-alive connection and must be sent again on a fresh one.
        virtual void connectionClosed(UpstreamConnection *connection,
                                      std::shared_ptr<PendingCall> retry) = 0;

    protected:
        ~Owner() = default;
    };

    enum class State
    {
        Connecting,
        Active,
        Idle,
        Closed
    };

    UpstreamConnection(const ConnectionTarget &target, Owner *owner, QObject *parent);
    ~UpstreamConnection() override;

    // Connects, then sends the call's request.
    void open(std::shared_ptr<PendingCall> call);
    // Sends the call's request on this idle connection.
    void start(std::shared_ptr<PendingCall> call);
    // For an idle connection about to be reused: false when the server already closed it (or
    // sent bytes nobody asked for), seen without waiting for the event loop.
    bool isReusable() const;
    // Closes without telling the owner (it decided so) and without any callback.
    void close();
    // The call was cancelled: the connection is cut, since the rest of the answer would have to
    // be read before the connection could be reused.
    void cancelCall(PendingCall *call);
    // The pool is going away: forget the call without callbacks and close.
    void abandon();
    // Timeouts (connect, first byte, between bytes) and the idle keep-alive limit.
    void sweep(qint64 nowMs);

    State state() const { return m_state; }

    static qint64 nowMs();

private:
    bool onHeadersComplete(HttpMessageHead &head) override;
    void onBody(QByteArrayView chunk) override;
    void onMessageComplete() override;

    void onConnected();
    void onReadyRead();
    void onBytesWritten();
    void onSocketError(QAbstractSocket::SocketError error);
    void onDisconnected();

    void sendRequest();
    void processInput(const QByteArray &data);
    void handleEof();
    void finishResponse();
    void fail(UpstreamError::Kind kind, const QString &message);
    // The server closed an idle connection, or it timed out: tell the owner.
    void closeIdle();
    void closeSocket();
    QString peer() const;

    const ConnectionTarget &m_target;
    Owner *m_owner;
    QTcpSocket *m_socket;
    HttpMessageParser m_parser;
    std::shared_ptr<PendingCall> m_call;
    State m_state = State::Connecting;
    qint64 m_stateSinceMs = 0;    // connect start, idle start
    qint64 m_lastProgressMs = 0;  // last request byte written or response byte read
    qint64 m_keepAliveMs;         // how long an idle connection is kept
    int m_connectTimeoutMs = 0;
    int m_responses = 0;  // answers completed on this connection
    bool m_callOnReused = false;
    bool m_keepAlive = true;
    bool m_messageDone = false;
    bool m_informational = false;  // parsing a 1xx interim answer, which the caller never sees
    QString m_tlsErrors;
};

}  // namespace sluice
