// UpstreamPool against real local servers: a raw QTcpServer scripted byte by byte (plain, TLS
// with a CA made by openssl at test time, behind a scripted HTTP CONNECT proxy). Keep-alive,
// the connection bound and its queue, 256 concurrent slow requests, timeouts, resets, the
// stale-connection retry, cancel, HEAD, Connection: close, 1xx.
#include "ProcessLimits.h"
#include "UpstreamPool.h"

#include <sys/socket.h>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QPointer>
#include <QProcess>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <optional>

using namespace sluice;

namespace {

struct RawRequest
{
    QByteArray head;  // request line and header fields, CRLF-separated, without the blank line
    QByteArray body;
    int connection = 0;  // which accepted connection carried it (0, 1, ...)
    int index = 0;       // its position on that connection (0 = first)

    QByteArray requestLine() const { return head.left(head.indexOf("\r\n")); }
    QList<QByteArray> values(QByteArrayView name) const
    {
        QList<QByteArray> out;
        const QList<QByteArray> lines = head.split('\n');
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().toLower() == name.toByteArray().toLower())
                out.append(line.mid(colon + 1).trimmed());
        }
        return out;
    }
};

QByteArray response(int status, const QByteArray &body, const QByteArray &extra = {})
{
    return "HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\n" +
           extra + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray chunk(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

// An upstream scripted by the test: it splits requests (Content-Length bodies only) and hands
// each to `handler` with the server-side socket, which the handler answers as it likes.
class FakeUpstream : public QTcpServer
{
public:
    using Handler = std::function<void(QTcpSocket *socket, const RawRequest &request)>;

    explicit FakeUpstream(Handler h) : handler(std::move(h)) {}

    bool start()
    {
        setListenBacklogSize(1024);  // 256 connects at once must not overflow the accept queue
        return listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return serverPort(); }

    Handler handler;
    // TLS: set both and the server speaks HTTPS.
    QSslCertificate certificate;
    QSslKey key;

    int accepted = 0;
    int open = 0;
    int maxOpen = 0;
    int closedByPeer = 0;
    int inFlight = 0;  // handlers call answered() when they finish a request
    int maxInFlight = 0;
    QList<RawRequest> requests;
    QList<QPointer<QTcpSocket>> sockets;

    void answered() { --inFlight; }

protected:
    void incomingConnection(qintptr fd) override
    {
        QTcpSocket *socket;
        if (!certificate.isNull()) {
            auto *ssl = new QSslSocket(this);
            ssl->setSocketDescriptor(fd);
            ssl->setLocalCertificate(certificate);
            ssl->setPrivateKey(key);
            ssl->setPeerVerifyMode(QSslSocket::VerifyNone);
            ssl->startServerEncryption();
            socket = ssl;
        } else {
            socket = new QTcpSocket(this);
            socket->setSocketDescriptor(fd);
        }
        const int id = accepted++;
        maxOpen = qMax(maxOpen, ++open);
        sockets.append(socket);
        auto buffer = std::make_shared<QByteArray>();
        auto count = std::make_shared<int>(0);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer, count, id] {
            buffer->append(socket->readAll());
            for (;;) {
                const qsizetype end = buffer->indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                RawRequest r;
                r.head = buffer->left(end);
                const QList<QByteArray> cl = r.values("Content-Length");
                const qsizetype length = cl.isEmpty() ? 0 : cl.first().toLongLong();
                if (buffer->size() < end + 4 + length)
                    return;
                r.body = buffer->mid(end + 4, length);
                buffer->remove(0, end + 4 + length);
                r.connection = id;
                r.index = (*count)++;
                requests.append(r);
                maxInFlight = qMax(maxInFlight, ++inFlight);
                handler(socket, r);
                if (socket->state() != QAbstractSocket::ConnectedState)
                    return;
            }
        });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            --open;
            ++closedByPeer;
            socket->deleteLater();
        });
    }
};

// A scripted HTTP CONNECT proxy: reads the CONNECT request, opens the tunnel, then relays.
class FakeProxy : public QTcpServer
{
public:
    QList<QByteArray> connectLines;

    bool start() { return listen(QHostAddress::LocalHost, 0); }

protected:
    void incomingConnection(qintptr fd) override
    {
        auto *client = new QTcpSocket(this);
        client->setSocketDescriptor(fd);
        auto *target = new QTcpSocket(this);
        auto buffer = std::make_shared<QByteArray>();
        connect(client, &QTcpSocket::readyRead, this, [this, client, target, buffer] {
            if (target->state() == QAbstractSocket::ConnectedState) {
                target->write(client->readAll());
                return;
            }
            buffer->append(client->readAll());
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0 || target->state() != QAbstractSocket::UnconnectedState)
                return;
            const QByteArray line = buffer->left(buffer->indexOf("\r\n"));
            connectLines.append(line);
            const QList<QByteArray> parts = line.split(' ');
            const QByteArray authority = parts.value(1);
            const qsizetype colon = authority.lastIndexOf(':');
            buffer->remove(0, end + 4);
            target->connectToHost(QString::fromLatin1(authority.left(colon)),
                                  quint16(authority.mid(colon + 1).toUInt()));
        });
        connect(target, &QTcpSocket::connected, this, [client, target, buffer] {
            client->write("HTTP/1.1 200 Connection established\r\n\r\n");
            if (!buffer->isEmpty())
                target->write(std::exchange(*buffer, QByteArray()));
        });
        connect(target, &QTcpSocket::readyRead, this,
                [client, target] { client->write(target->readAll()); });
        connect(target, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
        connect(client, &QTcpSocket::disconnected, target, &QTcpSocket::disconnectFromHost);
    }
};

// What the callbacks saw.
struct Result
{
    int heads = 0;
    int status = 0;
    HttpHeaders headers;
    QByteArray body;
    int bodyCalls = 0;
    bool complete = false;
    std::optional<UpstreamError> error;
    int afterEnd = 0;  // callbacks after onComplete/onError: must stay 0
    bool done() const { return complete || error.has_value(); }
};

UpstreamCallbacks recorder(const std::shared_ptr<Result> &r)
{
    UpstreamCallbacks cb;
    cb.onHead = [r](const HttpMessageHead &h) {
        r->afterEnd += r->done();
        ++r->heads;
        r->status = h.status;
        r->headers = h.headers;
    };
    cb.onBody = [r](QByteArrayView d) {
        r->afterEnd += r->done();
        ++r->bodyCalls;
        r->body.append(d);
    };
    cb.onComplete = [r] {
        r->afterEnd += r->done();
        r->complete = true;
    };
    cb.onError = [r](const UpstreamError &e) {
        r->afterEnd += r->done();
        r->error = e;
    };
    return cb;
}

UpstreamEndpoint endpointFor(quint16 port, const QString &name = QStringLiteral("test"))
{
    UpstreamEndpoint e;
    e.name = name;
    e.host = QStringLiteral("127.0.0.1");
    e.port = port;
    e.connectTimeoutMs = 3000;
    e.firstByteTimeoutMs = 10'000;
    e.idleTimeoutMs = 10'000;
    e.maxConnections = 16;
    return e;
}

UpstreamRequest request(const QByteArray &method, const QByteArray &target,
                        const QByteArray &body = {})
{
    UpstreamRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    return r;
}

// Sets SO_LINGER to 0 and aborts: the peer gets a RST, not a FIN.
void resetConnection(QTcpSocket *socket)
{
    const linger l{1, 0};
    ::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    socket->abort();
}

QString errorText(const std::shared_ptr<Result> &r)
{
    return r->error ? QString::fromLatin1(UpstreamError::kindName(r->error->kind)) +
                          QLatin1String(": ") + r->error->message
                    : QStringLiteral("no error");
}

}  // namespace

class TestUpstreamPool : public QObject
{
    Q_OBJECT

    QTemporaryDir m_certDir;
    QString m_caFile;
    QSslCertificate m_serverCert;
    QSslKey m_serverKey;

    bool openssl(const QStringList &args)
    {
        QProcess p;
        p.setWorkingDirectory(m_certDir.path());
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral("openssl"), args);
        if (!p.waitForFinished(60'000) || p.exitStatus() != QProcess::NormalExit ||
            p.exitCode() != 0) {
            qWarning().noquote() << "openssl" << args.join(QLatin1Char(' '))
                                 << "failed:" << p.readAll();
            return false;
        }
        return true;
    }

    // A throwaway CA and a certificate for "localhost" signed by it (EC keys: fast to make).
    bool makeCertificates()
    {
        if (!m_caFile.isEmpty())
            return true;
        const QString dir = m_certDir.path();
        QFile ext(dir + QLatin1String("/server.ext"));
        if (!ext.open(QIODevice::WriteOnly))
            return false;
        ext.write(
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
        ext.close();
        const QString ec = QStringLiteral("ec");
        const QString curve = QStringLiteral("ec_paramgen_curve:prime256v1");
        if (!openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), ec,
                      QStringLiteral("-pkeyopt"), curve, QStringLiteral("-nodes"),
                      QStringLiteral("-keyout"), QStringLiteral("ca.key"), QStringLiteral("-out"),
                      QStringLiteral("ca.pem"), QStringLiteral("-days"), QStringLiteral("2"),
                      QStringLiteral("-subj"), QStringLiteral("/CN=Sluice Test CA"),
                      QStringLiteral("-addext"),
                      QStringLiteral("basicConstraints=critical,CA:TRUE"),
                      QStringLiteral("-addext"),
                      QStringLiteral("keyUsage=critical,keyCertSign,cRLSign")}) ||
            !openssl({QStringLiteral("req"), QStringLiteral("-newkey"), ec,
                      QStringLiteral("-pkeyopt"), curve, QStringLiteral("-nodes"),
                      QStringLiteral("-keyout"), QStringLiteral("server.key"),
                      QStringLiteral("-out"), QStringLiteral("server.csr"), QStringLiteral("-subj"),
                      QStringLiteral("/CN=localhost")}) ||
            !openssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                      QStringLiteral("server.csr"), QStringLiteral("-CA"), QStringLiteral("ca.pem"),
                      QStringLiteral("-CAkey"), QStringLiteral("ca.key"),
                      QStringLiteral("-CAcreateserial"), QStringLiteral("-out"),
                      QStringLiteral("server.pem"), QStringLiteral("-days"), QStringLiteral("2"),
                      QStringLiteral("-extfile"), QStringLiteral("server.ext")}))
            return false;
        QFile cert(dir + QLatin1String("/server.pem"));
        QFile key(dir + QLatin1String("/server.key"));
        if (!cert.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly))
            return false;
        m_serverCert = QSslCertificate(cert.readAll(), QSsl::Pem);
        m_serverKey = QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem);
        if (m_serverCert.isNull() || m_serverKey.isNull())
            return false;
        m_caFile = dir + QLatin1String("/ca.pem");
        return true;
    }

private slots:
    void initTestCase()
    {
        raiseFileDescriptorLimit();  // 256 client connections plus their server ends
        // One line per connection is too much here; QT_LOGGING_RULES still turns it back on.
        QLoggingCategory::setFilterRules(QStringLiteral("sluice.upstream.debug=false"));
        QVERIFY(m_certDir.isValid());
    }

    void jsonResponseWithContentLength()
    {
        const QByteArray json = R"({"id":"chatcmpl-1","usage":{"prompt_tokens":3}})";
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, json, "x-request-id: up-1\r\n"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamRequest req = request("POST", "/v1/chat/completions", R"({"model":"gpt-4o"})");
        req.headers.add("Authorization", "Bearer sk-upstream");
        req.headers.add("Connection", "keep-alive, Upgrade");
        req.headers.add("Content-Length", "999");
        req.headers.add("Transfer-Encoding", "chunked");
        req.headers.add("Host", "evil.example");
        req.headers.add("X-Request-Id", "r-1");
        auto r = std::make_shared<Result>();
        auto call = pool.send(endpointFor(server.port()), req, recorder(r));
        QTRY_VERIFY2(r->done(), qPrintable(errorText(r)));
        QVERIFY2(r->complete, qPrintable(errorText(r)));
        QCOMPARE(r->heads, 1);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->headers.value("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r->headers.value("x-request-id"), QByteArray("up-1"));
        QCOMPARE(r->body, json);

        QCOMPARE(server.requests.size(), 1);
        const RawRequest &seen = server.requests.first();
        QCOMPARE(seen.requestLine(), QByteArray("POST /v1/chat/completions HTTP/1.1"));
        QCOMPARE(seen.values("Host"),
                 QList<QByteArray>{"127.0.0.1:" + QByteArray::number(server.port())});
        QCOMPARE(seen.values("Content-Length"), QList<QByteArray>{"18"});
        QVERIFY(seen.values("Transfer-Encoding").isEmpty());
        QVERIFY(seen.values("Connection").isEmpty());
        QCOMPARE(seen.values("Authorization"), QList<QByteArray>{"Bearer sk-upstream"});
        QCOMPARE(seen.values("X-Request-Id"), QList<QByteArray>{"r-1"});
        QCOMPARE(seen.body, req.body);

        call->cancel();  // after completion: nothing happens
        call->cancel();
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
        QCOMPARE(r->afterEnd, 0);
    }

    void chunkedStreamIsDeliveredIncrementally()
    {
        QPointer<QTcpSocket> serverSide;
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            serverSide = s;
            s->write(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                "Transfer-Encoding: chunked\r\n\r\n" +
                chunk("data: {\"n\":1}\n\n"));
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        auto call = pool.send(endpointFor(server.port()),
                              request("POST", "/v1/chat/completions", "{}"), recorder(r));
        // The first event arrives while the server still holds the rest back.
        QTRY_COMPARE(r->body, QByteArray("data: {\"n\":1}\n\n"));
        QCOMPARE(r->status, 200);
        QVERIFY(!r->done());
        QVERIFY(serverSide);
        serverSide->write(chunk("data: {\"n\":2}\n\n"));
        QTRY_COMPARE(r->body, QByteArray("data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"));
        QVERIFY(!r->done());
        serverSide->write(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
        QTRY_VERIFY(r->done());
        QVERIFY2(r->complete, qPrintable(errorText(r)));
        QVERIFY(r->bodyCalls >= 3);
        QCOMPARE(r->body, QByteArray("data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n"));
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
    }

    void keepAliveReusesOneConnection()
    {
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &r) {
            s->write(response(200, "n=" + QByteArray::number(r.index)));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        for (int i = 0; i < 10; ++i) {
            auto r = std::make_shared<Result>();
            pool.send(endpointFor(server.port()), request("GET", "/v1/models"), recorder(r));
            QTRY_VERIFY(r->done());
            QVERIFY2(r->complete, qPrintable(errorText(r)));
            QCOMPARE(r->body, "n=" + QByteArray::number(i));
        }
        QCOMPARE(server.accepted, 1);
        QCOMPARE(server.requests.size(), 10);
        QVERIFY(server.requests.first().values("Content-Length").isEmpty());  // GET: no body
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 1);
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
    }

    void maxConnectionsQueuesTheRest()
    {
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &r) {
            QTimer::singleShot(150, s, [&server, s, r] {
                s->write(response(200, r.body));
                server.answered();
            });
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.maxConnections = 2;
        QList<std::shared_ptr<Result>> results;
        for (int i = 0; i < 5; ++i) {
            results.append(std::make_shared<Result>());
            pool.send(ep, request("POST", "/x", QByteArray::number(i)), recorder(results.last()));
            QVERIFY(pool.openConnections(QStringLiteral("test")) <= 2);
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(results.begin(), results.end(), [](const auto &r) { return r->done(); }),
            10'000);
        for (int i = 0; i < 5; ++i) {
            QVERIFY2(results[i]->complete, qPrintable(errorText(results[i])));
            QCOMPARE(results[i]->body, QByteArray::number(i));
        }
        QCOMPARE(server.maxOpen, 2);
        QCOMPARE(server.accepted, 2);
        QVERIFY(server.maxInFlight <= 2);
        QCOMPARE(server.requests.size(), 5);
        QCOMPARE(server.requests[2].body, QByteArray("2"));  // queued in order (FIFO)
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 2);
    }

    void waitingForAConnectionIsBounded()
    {
        // Every connection is stuck: a queued request gives up after the connect timeout,
        // with nothing sent, so the caller can still fail over.
        FakeUpstream server([](QTcpSocket *, const RawRequest &) {});
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.maxConnections = 1;
        ep.connectTimeoutMs = 300;
        auto stuck = std::make_shared<Result>();
        auto queued = std::make_shared<Result>();
        pool.send(ep, request("POST", "/a", "{}"), recorder(stuck));
        pool.send(ep, request("POST", "/b", "{}"), recorder(queued));
        QTRY_VERIFY_WITH_TIMEOUT(queued->done(), 5000);
        QVERIFY(queued->error);
        QCOMPARE(queued->error->kind, UpstreamError::Kind::Timeout);
        QVERIFY(!queued->error->requestSent);
        QVERIFY(!stuck->done());
        QCOMPARE(server.requests.size(), 1);
    }

    void manyConcurrentSlowRequestsAreAllInFlight()
    {
        constexpr int kRequests = 256;
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            QTimer::singleShot(2000, s, [&server, s] {
                s->write(response(200, "{\"ok\":true}"));
                server.answered();
            });
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.maxConnections = kRequests;
        QList<std::shared_ptr<Result>> results;
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < kRequests; ++i) {
            results.append(std::make_shared<Result>());
            pool.send(ep, request("POST", "/v1/chat/completions", "{}"), recorder(results.last()));
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(results.begin(), results.end(), [](const auto &r) { return r->done(); }),
            30'000);
        const qint64 elapsed = clock.elapsed();
        qInfo() << kRequests << "concurrent 2-second requests took" << elapsed << "ms";
        for (const auto &r : results)
            QVERIFY2(r->complete, qPrintable(errorText(r)));
        QCOMPARE(server.maxInFlight, kRequests);  // all held open at the server together
        QCOMPARE(server.accepted, kRequests);
        // Together they take one request's time (~2 s), not 256 / 6 of them as through QNAM.
        QVERIFY2(elapsed < 6000, qPrintable(QStringLiteral("took %1 ms").arg(elapsed)));
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), kRequests);
    }

    void connectionRefused()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(port), request("POST", "/x", "{}"), recorder(r));
        QVERIFY(!r->done());  // never a callback before send() returned
        QTRY_VERIFY(r->done());
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::ConnectFailed);
        QVERIFY(!r->error->requestSent);
        QVERIFY(!r->error->responseStarted);
        QVERIFY2(r->error->message.contains(QString::number(port)), qPrintable(r->error->message));
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
    }

    void firstByteTimeout()
    {
        FakeUpstream server([](QTcpSocket *, const RawRequest &) {});  // reads, never answers
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.firstByteTimeoutMs = 300;
        auto r = std::make_shared<Result>();
        QElapsedTimer clock;
        clock.start();
        pool.send(ep, request("POST", "/x", "{}"), recorder(r));
        QTRY_VERIFY_WITH_TIMEOUT(r->done(), 5000);
        QVERIFY(clock.elapsed() >= 290);
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Timeout);
        QVERIFY(!r->error->responseStarted);
        QVERIFY(r->error->requestSent);
        QCOMPARE(server.requests.size(), 1);
        QTRY_COMPARE(server.closedByPeer, 1);  // the connection is closed, not reused
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
    }

    void idleTimeoutMidResponse()
    {
        FakeUpstream server([](QTcpSocket *s, const RawRequest &) {
            s->write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");  // then stalls
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.idleTimeoutMs = 300;
        auto r = std::make_shared<Result>();
        pool.send(ep, request("POST", "/x", "{}"), recorder(r));
        QTRY_VERIFY_WITH_TIMEOUT(r->done(), 5000);
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Timeout);
        QVERIFY(r->error->responseStarted);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->body, QByteArray("0123456789"));
        QTRY_COMPARE(server.closedByPeer, 1);
    }

    void resetMidResponse()
    {
        QPointer<QTcpSocket> serverSide;
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            serverSide = s;
            s->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("part"));
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "{}"), recorder(r));
        QTRY_COMPARE(r->body, QByteArray("part"));
        QVERIFY(serverSide);
        resetConnection(serverSide);
        QTRY_VERIFY(r->done());
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Reset);
        QVERIFY(r->error->responseStarted);
        QVERIFY(r->error->requestSent);
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
    }

    void closeDelimitedBodyEndsAtEof()
    {
        FakeUpstream server([](QTcpSocket *s, const RawRequest &) {
            s->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
            s->disconnectFromHost();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("GET", "/x"), recorder(r));
        QTRY_VERIFY(r->done());
        QVERIFY2(r->complete, qPrintable(errorText(r)));
        QCOMPARE(r->body, QByteArray("all of it"));
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
    }

    void serverClosingIdleConnectionIsNoticed()
    {
        // The server answers, then closes the kept-alive connection while it sits idle.
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "ok"));
            server.answered();
            QTimer::singleShot(50, s, [s] { s->disconnectFromHost(); });
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto first = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "1"), recorder(first));
        QTRY_VERIFY(first->complete);
        QTRY_COMPARE(pool.openConnections(QStringLiteral("test")), 0);
        auto second = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "2"), recorder(second));
        QTRY_VERIFY(second->done());
        QVERIFY2(second->complete, qPrintable(errorText(second)));
        QCOMPARE(server.accepted, 2);
    }

    void staleKeptAliveConnectionIsNotUsed()
    {
        // The server closed the idle connection, and the event loop has not run since: the
        // pool must see the close itself before writing a POST into it.
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "ok"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto first = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "1"), recorder(first));
        QTRY_VERIFY(first->complete);
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
        QCOMPARE(server.sockets.size(), 1);
        server.sockets.first()->abort();  // FIN to the client, no event processed yet
        QThread::msleep(50);
        auto second = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "2"), recorder(second));
        QTRY_VERIFY(second->done());
        QVERIFY2(second->complete, qPrintable(errorText(second)));
        QCOMPARE(second->body, QByteArray("ok"));
        QCOMPARE(server.accepted, 2);
        QCOMPARE(server.requests.size(), 2);
    }

    void staleConnectionRetry_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("idempotencyKey");
        QTest::addColumn<bool>("retried");
        QTest::newRow("GET is replayed") << QByteArray("GET") << QByteArray() << true;
        QTest::newRow("POST with Idempotency-Key is replayed")
            << QByteArray("POST") << QByteArray("k-1") << true;
        QTest::newRow("POST that went out is not") << QByteArray("POST") << QByteArray() << false;
    }

    void staleConnectionRetry()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, idempotencyKey);
        QFETCH(bool, retried);
        // The second request on the first connection meets a server that closes without
        // answering: what a kept-alive connection closing under a request looks like.
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &r) {
            if (r.connection == 0 && r.index == 1) {
                s->disconnectFromHost();
                return;
            }
            s->write(response(200, "ok"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto first = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request(method, "/x", "1"), recorder(first));
        QTRY_VERIFY(first->complete);
        UpstreamRequest req = request(method, "/x", "2");
        if (!idempotencyKey.isEmpty())
            req.headers.add("Idempotency-Key", idempotencyKey);
        auto second = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), req, recorder(second));
        QTRY_VERIFY(second->done());
        if (retried) {
            QVERIFY2(second->complete, qPrintable(errorText(second)));
            QCOMPARE(second->body, QByteArray("ok"));
            QCOMPARE(server.accepted, 2);
            QCOMPARE(server.requests.size(), 3);
        } else {
            QVERIFY(second->error);
            QCOMPARE(second->error->kind, UpstreamError::Kind::Reset);
            QVERIFY(second->error->requestSent);
            QVERIFY(!second->error->responseStarted);
            QCOMPARE(server.accepted, 1);
            QCOMPARE(server.requests.size(), 2);
        }
        QCOMPARE(second->afterEnd, 0);
    }

    void cancelMidStreamClosesTheConnection_data()
    {
        QTest::addColumn<bool>("inHead");
        QTest::newRow("cancel in onBody") << false;
        QTest::newRow("cancel in onHead") << true;
    }

    void cancelMidStreamClosesTheConnection()
    {
        QFETCH(bool, inHead);
        QPointer<QTcpSocket> serverSide;
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            serverSide = s;
            s->write(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                "Transfer-Encoding: chunked\r\n\r\n" +
                chunk("data: 1\n\n"));
            // Keeps streaming until the client goes away.
            auto *timer = new QTimer(s);
            QObject::connect(timer, &QTimer::timeout, s,
                             [s] { s->write(chunk("data: more\n\n")); });
            timer->start(20);
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        QByteArray body;
        std::shared_ptr<UpstreamCall> call;
        int callbacksAfterCancel = 0;
        bool cancelled = false;
        const auto cancelNow = [&] {
            cancelled = true;
            call->cancel();  // from inside the callback
            call->cancel();
        };
        UpstreamCallbacks cb;
        cb.onHead = [&](const HttpMessageHead &) {
            callbacksAfterCancel += cancelled;
            if (inHead)
                cancelNow();
        };
        cb.onBody = [&](QByteArrayView d) {
            callbacksAfterCancel += cancelled;
            body.append(d);
            if (!cancelled)
                cancelNow();
        };
        cb.onComplete = [&] { ++callbacksAfterCancel; };
        cb.onError = [&](const UpstreamError &) { ++callbacksAfterCancel; };
        call = pool.send(endpointFor(server.port()), request("POST", "/stream", "{}"), cb);
        QTRY_VERIFY(cancelled);
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
        QTRY_COMPARE(server.closedByPeer, 1);  // the server sees the connection end
        QTest::qWait(200);
        QCOMPARE(callbacksAfterCancel, 0);
        QCOMPARE(body, inHead ? QByteArray() : QByteArray("data: 1\n\n"));
    }

    void cancelWhileQueuedOrConnecting()
    {
        FakeUpstream server([](QTcpSocket *, const RawRequest &) {});
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.maxConnections = 1;
        auto a = std::make_shared<Result>();
        auto b = std::make_shared<Result>();
        auto callA = pool.send(ep, request("POST", "/a", "{}"), recorder(a));
        auto callB = pool.send(ep, request("POST", "/b", "{}"), recorder(b));  // queued
        callB->cancel();
        callA->cancel();  // still connecting, or just sent
        QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
        QTest::qWait(200);
        QVERIFY(!a->done());
        QVERIFY(!b->done());
        QVERIFY(server.requests.size() <= 1);
    }

    void tlsWithCaFile()
    {
        QVERIFY2(makeCertificates(), "could not make test certificates with openssl");
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &r) {
            s->write(response(200, "secure " + r.requestLine()));
            server.answered();
        });
        server.certificate = m_serverCert;
        server.key = m_serverKey;
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port(), QStringLiteral("tls"));
        ep.host = QStringLiteral("localhost");
        ep.tls = true;
        ep.caFile = m_caFile;
        for (int i = 0; i < 3; ++i) {
            auto r = std::make_shared<Result>();
            pool.send(ep, request("GET", "/v1/models"), recorder(r));
            QTRY_VERIFY_WITH_TIMEOUT(r->done(), 10'000);
            QVERIFY2(r->complete, qPrintable(errorText(r)));
            QCOMPARE(r->body, QByteArray("secure GET /v1/models HTTP/1.1"));
        }
        QCOMPARE(server.accepted, 1);  // kept alive over TLS too
        QCOMPARE(server.requests.first().values("Host"),
                 QList<QByteArray>{"localhost:" + QByteArray::number(server.port())});
    }

    void tlsFailures_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("withCa");
        QTest::newRow("system CAs do not know the test CA") << QStringLiteral("localhost") << false;
        QTest::newRow("name does not match the certificate") << QStringLiteral("127.0.0.1") << true;
    }

    void tlsFailures()
    {
        QFETCH(QString, host);
        QFETCH(bool, withCa);
        QVERIFY2(makeCertificates(), "could not make test certificates with openssl");
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "no"));
            server.answered();
        });
        server.certificate = m_serverCert;
        server.key = m_serverKey;
        QVERIFY(server.start());
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(server.port(), QStringLiteral("tls"));
        ep.host = host;
        ep.tls = true;
        if (withCa)
            ep.caFile = m_caFile;
        auto r = std::make_shared<Result>();
        pool.send(ep, request("GET", "/v1/models"), recorder(r));
        QTRY_VERIFY_WITH_TIMEOUT(r->done(), 10'000);
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Tls);
        QVERIFY(!r->error->requestSent);
        QVERIFY(server.requests.isEmpty());
    }

    void unreadableCaFileFailsAsTls()
    {
        UpstreamPool pool;
        UpstreamEndpoint ep = endpointFor(1, QStringLiteral("tls"));
        ep.tls = true;
        ep.caFile = QStringLiteral("/nonexistent/ca.pem");
        auto r = std::make_shared<Result>();
        pool.send(ep, request("GET", "/"), recorder(r));
        QVERIFY(!r->done());
        QTRY_VERIFY(r->done());
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Tls);
        QVERIFY(r->error->message.contains(QLatin1String("ca_file")));
    }

    void throughHttpConnectProxy()
    {
        QVERIFY2(makeCertificates(), "could not make test certificates with openssl");
        FakeUpstream plain([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "plain"));
            plain.answered();
        });
        FakeUpstream secure([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "secure"));
            secure.answered();
        });
        secure.certificate = m_serverCert;
        secure.key = m_serverKey;
        FakeProxy proxy;
        QVERIFY(plain.start());
        QVERIFY(secure.start());
        QVERIFY(proxy.start());
        const QString proxyUrl = QStringLiteral("http://127.0.0.1:%1").arg(proxy.serverPort());
        UpstreamPool pool;

        UpstreamEndpoint ep = endpointFor(plain.port(), QStringLiteral("plain"));
        ep.httpProxy = proxyUrl;
        auto r = std::make_shared<Result>();
        pool.send(ep, request("GET", "/a"), recorder(r));
        QTRY_VERIFY_WITH_TIMEOUT(r->done(), 10'000);
        QVERIFY2(r->complete, qPrintable(errorText(r)));
        QCOMPARE(r->body, QByteArray("plain"));

        UpstreamEndpoint tls = endpointFor(secure.port(), QStringLiteral("secure"));
        tls.host = QStringLiteral("localhost");
        tls.tls = true;
        tls.caFile = m_caFile;
        tls.httpProxy = proxyUrl;
        auto s = std::make_shared<Result>();
        pool.send(tls, request("GET", "/b"), recorder(s));
        QTRY_VERIFY_WITH_TIMEOUT(s->done(), 10'000);
        QVERIFY2(s->complete, qPrintable(errorText(s)));
        QCOMPARE(s->body, QByteArray("secure"));

        QCOMPARE(proxy.connectLines.size(), 2);
        QCOMPARE(proxy.connectLines[0],
                 "CONNECT 127.0.0.1:" + QByteArray::number(plain.port()) + " HTTP/1.1");
        QCOMPARE(proxy.connectLines[1],
                 "CONNECT localhost:" + QByteArray::number(secure.port()) + " HTTP/1.1");
    }

    void headResponseHasNoBody()
    {
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &r) {
            if (r.requestLine().startsWith("HEAD"))
                s->write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
            else
                s->write(response(200, "after"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto head = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("HEAD", "/v1/models"), recorder(head));
        QTRY_VERIFY(head->done());
        QVERIFY2(head->complete, qPrintable(errorText(head)));
        QCOMPARE(head->headers.value("Content-Length"), QByteArray("1234"));
        QVERIFY(head->body.isEmpty());
        // The connection is in step for the next request.
        auto next = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("GET", "/x"), recorder(next));
        QTRY_VERIFY(next->done());
        QVERIFY2(next->complete, qPrintable(errorText(next)));
        QCOMPARE(next->body, QByteArray("after"));
        QCOMPARE(server.accepted, 1);
    }

    void connectionCloseIsNotReused_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::newRow("Connection: close")
            << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        QTest::newRow("HTTP/1.0") << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        QTest::newRow("HTTP/1.0 keep-alive") << QByteArray(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    }

    void connectionCloseIsNotReused()
    {
        QFETCH(QByteArray, answer);
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(answer);
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        for (int i = 0; i < 2; ++i) {
            auto r = std::make_shared<Result>();
            pool.send(endpointFor(server.port()), request("GET", "/x"), recorder(r));
            QTRY_VERIFY(r->done());
            QVERIFY2(r->complete, qPrintable(errorText(r)));
            QCOMPARE(r->body, QByteArray("ok"));
            QCOMPARE(pool.openConnections(QStringLiteral("test")), 0);
        }
        QCOMPARE(server.accepted, 2);
        QTRY_COMPARE(server.closedByPeer, 2);
    }

    void informationalAnswersAreSkipped()
    {
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
            s->write(response(201, "made"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("POST", "/x", "{}"), recorder(r));
        QTRY_VERIFY(r->done());
        QVERIFY2(r->complete, qPrintable(errorText(r)));
        QCOMPARE(r->heads, 1);
        QCOMPARE(r->status, 201);
        QCOMPARE(r->body, QByteArray("made"));
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
    }

    void malformedResponseIsProtocolError()
    {
        FakeUpstream server(
            [](QTcpSocket *s, const RawRequest &) { s->write("SMTP ready\r\n\r\n"); });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("GET", "/x"), recorder(r));
        QTRY_VERIFY(r->done());
        QVERIFY(r->error);
        QCOMPARE(r->error->kind, UpstreamError::Kind::Protocol);
        QTRY_COMPARE(server.closedByPeer, 1);
    }

    void idleConnectionsFollowKeepAliveHint()
    {
        // "Keep-Alive: timeout=1": the server drops idle connections after a second, so the
        // pool lets them go first instead of racing the server's close.
        FakeUpstream server([&](QTcpSocket *s, const RawRequest &) {
            s->write(response(200, "ok", "Keep-Alive: timeout=1\r\n"));
            server.answered();
        });
        QVERIFY(server.start());
        UpstreamPool pool;
        auto r = std::make_shared<Result>();
        pool.send(endpointFor(server.port()), request("GET", "/x"), recorder(r));
        QTRY_VERIFY(r->complete);
        QCOMPARE(pool.idleConnections(QStringLiteral("test")), 1);
        QTRY_COMPARE_WITH_TIMEOUT(pool.idleConnections(QStringLiteral("test")), 0, 3000);
        QTRY_COMPARE(server.closedByPeer, 1);
    }

    void callOutlivesPool()
    {
        FakeUpstream server([](QTcpSocket *, const RawRequest &) {});
        QVERIFY(server.start());
        auto pool = std::make_unique<UpstreamPool>();
        UpstreamEndpoint ep = endpointFor(server.port());
        ep.maxConnections = 1;
        auto a = std::make_shared<Result>();
        auto b = std::make_shared<Result>();
        auto callA = pool->send(ep, request("POST", "/a", "{}"), recorder(a));
        auto callB = pool->send(ep, request("POST", "/b", "{}"), recorder(b));
        QTRY_COMPARE(server.requests.size(), 1);
        pool.reset();  // callbacks are dropped, never run
        callA->cancel();
        callB->cancel();
        QTRY_COMPARE(server.closedByPeer, 1);
        QVERIFY(!a->done());
        QVERIFY(!b->done());
        QCOMPARE(a.use_count(), 1);  // the callbacks (holding the result) were released
    }

    void onePoolPerThread()
    {
        UpstreamPool *mainPool = &UpstreamPool::forCurrentThread();
        QCOMPARE(&UpstreamPool::forCurrentThread(), mainPool);
        UpstreamPool *workerPool = nullptr;
        QThread *destroyedOn = nullptr;
        bool stable = false;
        QThread *worker = QThread::create([&] {
            workerPool = &UpstreamPool::forCurrentThread();
            stable = &UpstreamPool::forCurrentThread() == workerPool;
            QObject::connect(
                workerPool, &QObject::destroyed, workerPool,
                [&] { destroyedOn = QThread::currentThread(); }, Qt::DirectConnection);
        });
        worker->start();
        QVERIFY(worker->wait(5000));
        QVERIFY(workerPool);
        QVERIFY(stable);
        QVERIFY(workerPool != mainPool);
        QCOMPARE(destroyedOn, worker);  // destroyed on its own thread when it ended
        delete worker;
    }
};

QTEST_MAIN(TestUpstreamPool)
#include "tst_upstreampool.moc"
