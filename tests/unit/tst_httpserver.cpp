// The data-plane front end over real sockets: routing, limits, timeouts, pipelining, streaming,
// clients that vanish, many slow clients, and draining.
#include "HttpFrontend.h"
#include "HttpTestClient.h"
#include "ProcessLimits.h"
#include "RequestObserver.h"
#include "Router.h"

#include <QMutex>
#include <QTcpServer>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>
#include <memory>

using namespace sluice;
using sluice::test::HttpTestClient;

namespace {

class CountingObserver : public RequestObserver
{
public:
    void requestStarted(QByteArrayView) override { ++started; }
    void requestFinished(const CompletedRequest &r) override
    {
        ++finished;
        QMutexLocker lock(&mutex);
        statuses.append(r.status);
        routes.append(r.route.toByteArray());
    }
    int count(int status)
    {
        QMutexLocker lock(&mutex);
        return int(statuses.count(status));
    }
    std::atomic<int> started{0};
    std::atomic<int> finished{0};
    QMutex mutex;
    QList<int> statuses;
    QList<QByteArray> routes;
};

int queryInt(const HttpResponder &r, const char *key, int fallback)
{
    const QUrlQuery q(QString::fromLatin1(r.request().head.query()));
    bool ok = false;
    const int v = q.queryItemValue(QLatin1String(key)).toInt(&ok);
    return ok ? v : fallback;
}

// Streams `chunks` events `intervalMs` apart (0 chunks: until the client leaves).
void streamEvents(HttpResponder r, int chunks, int intervalMs, int padding = 0)
{
    HttpHeaders h;
    h.add("Content-Type", "text/event-stream");
    r.beginStream(200, h);
    auto *timer = new QTimer(r.context());
    auto sent = std::make_shared<int>(0);
    QObject::connect(timer, &QTimer::timeout, timer, [r, timer, sent, chunks, padding]() mutable {
        if (!r.isOpen()) {
            timer->deleteLater();
            return;
        }
        r.write("data: " + QByteArray::number(++*sent) + QByteArray(padding, ' ') + "\n\n");
        if (chunks > 0 && *sent >= chunks) {
            r.end();
            timer->deleteLater();
        }
    });
    timer->start(intervalMs);
}

}  // namespace

class TestHttpServer : public QObject
{
    Q_OBJECT

    Router m_router;
    CountingObserver m_observer;
    std::unique_ptr<HttpFrontend> m_server;

    void startServer(ServerOptions o)
    {
        m_server.reset();
        o.host = QHostAddress::LocalHost;
        o.port = 0;
        m_server = std::make_unique<HttpFrontend>(o, &m_router, &m_observer);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
    }
    ServerOptions defaults() const
    {
        ServerOptions o;
        o.workers = 2;
        o.maxBodyBytes = 1024;
        o.headerTimeoutMs = 2000;
        o.idleTimeoutMs = 3000;
        o.lingerMs = 500;
        return o;
    }
    HttpTestClient *connectClient(HttpTestClient &c)
    {
        if (!c.connectTo(m_server->port()))
            return nullptr;
        return &c;
    }

private slots:
    void initTestCase()
    {
        raiseFileDescriptorLimit();  // 500 slow clients plus their server ends
        m_router.add("GET", "/hello", "/hello",
                     [](HttpResponder r) { r.send(200, "text/plain", "hello"); });
        m_router.add("POST", "/echo", "/echo", [](HttpResponder r) {
            r.send(200, "application/octet-stream", r.request().body);
        });
        m_router.add("GET", "/delay", "/delay", [](HttpResponder r) {
            const int ms = queryInt(r, "ms", 100);
            QTimer::singleShot(ms, r.context(), [r]() mutable {
                r.send(200, "text/plain", "delayed " + r.request().head.query().toByteArray());
            });
        });
        m_router.add("GET", "/stream", "/stream", [](HttpResponder r) {
            streamEvents(r, queryInt(r, "chunks", 3), queryInt(r, "interval", 5),
                         queryInt(r, "pad", 0));
        });
        m_router.add("GET", "/big", "/big", [](HttpResponder r) {
            r.send(200, "application/octet-stream", QByteArray(4 * 1024 * 1024, 'x'));
        });
        m_router.add("GET", "/throw", "/throw",
                     [](HttpResponder) { throw std::runtime_error("handler bug"); });
        m_router.addPrefix("POST", "/v1/", "/v1/*",
                           [](HttpResponder r) { r.send(501, "application/json", "{}"); });
    }

    void init()
    {
        startServer(defaults());
        QMutexLocker lock(&m_observer.mutex);
        m_observer.statuses.clear();
    }
    void cleanup() { m_server.reset(); }

    void basicGetAndRequestId()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        auto r = c.get("/hello");
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->body, QByteArray("hello"));
        QCOMPARE(r->header("Content-Length"), QByteArray("5"));
        QVERIFY(!r->header("Date").isEmpty());
        const QByteArray id = r->header("X-Request-Id");
        QCOMPARE(id.size(), 32);
        QVERIFY(QByteArray::fromHex(id).size() == 16);
        // kept when sane, replaced when not
        r = c.get("/hello", "X-Request-Id: trace-abc.123:x_y\r\n");
        QCOMPARE(r->header("X-Request-Id"), QByteArray("trace-abc.123:x_y"));
        r = c.get("/hello", "X-Request-Id: bad id with spaces\r\n");
        QCOMPARE(r->header("X-Request-Id").size(), 32);
        r = c.get("/hello", "X-Request-Id: " + QByteArray(200, 'a') + "\r\n");
        QCOMPARE(r->header("X-Request-Id").size(), 32);
    }

    void notFoundAndMethodNotAllowed()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        auto r = c.get("/nope?secret=1");
        QCOMPARE(r->status, 404);
        QCOMPARE(r->header("Content-Type"), QByteArray("application/json"));
        QVERIFY(r->body.contains("\"error\""));
        QVERIFY(r->body.contains("not_found"));
        c.send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        r = c.readResponse();
        QCOMPARE(r->status, 405);
        QCOMPARE(r->header("Allow"), QByteArray("GET, HEAD"));
        QVERIFY(r->body.contains("method_not_allowed"));
        // prefix route, exact routes still win
        c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        QCOMPARE(c.readResponse()->status, 501);
        QTRY_VERIFY(m_observer.routes.contains("none"));
        QVERIFY(m_observer.routes.contains("/v1/*"));
    }

    void headRequestHasNoBody()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r = c.readResponse(3000, true);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Content-Length"), QByteArray("5"));
        QVERIFY(r->body.isEmpty());
        QVERIFY(c.get("/hello"));  // the connection is still in sync
    }

    void handlerExceptionIs500()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        auto r = c.get("/throw");
        QCOMPARE(r->status, 500);
        QCOMPARE(c.get("/hello")->status, 200);
    }

    void headersTooLargeIs431()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(70 * 1024, 'a') +
               "\r\n\r\n");
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 431);
        QCOMPARE(r->header("Connection"), QByteArray("close"));
        QVERIFY(c.waitForClose());
    }

    void bodyTooLargeIs413WithoutReadingIt()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        // Only the head is sent: the 413 must come back before any body byte.
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 413);
        QVERIFY(r->body.contains("request_too_large"));
        QCOMPARE(r->header("Connection"), QByteArray("close"));
        // The client keeps sending; the server drains briefly and closes without a reset.
        c.send(QByteArray(64 * 1024, 'z'));
        QVERIFY(c.waitForClose(3000));
    }

    void bodyTooLargeChunked()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        QByteArray req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 200; ++i)
            req += "10\r\n0123456789abcdef\r\n";
        c.send(req);
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 413);
    }

    void bodyWithinLimitAndExpectContinue()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        auto interim = c.readResponse();
        QVERIFY(interim);
        QCOMPARE(interim->status, 100);
        c.send("ping");
        auto r = c.readResponse();
        QCOMPARE(r->status, 200);
        QCOMPARE(r->body, QByteArray("ping"));
    }

    void malformedIs400()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send("THIS IS NOT HTTP\r\n\r\n");
        auto r = c.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 400);
        QVERIFY(c.waitForClose());
    }

    void pipelinedResponsesInRequestOrder()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        // The first answer takes longest; all must come back in request order anyway.
        c.send(
            "GET /delay?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /delay?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /stream?chunks=3&interval=10 HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r1 = c.readResponse();
        auto r2 = c.readResponse();
        auto r3 = c.readResponse();
        auto r4 = c.readResponse();
        auto r5 = c.readResponse();
        QVERIFY(r1 && r2 && r3 && r4 && r5);
        QCOMPARE(r1->body, QByteArray("delayed ms=300"));
        QCOMPARE(r2->body, QByteArray("hello"));
        QCOMPARE(r3->body, QByteArray("delayed ms=100"));
        QCOMPARE(r4->body, QByteArray("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
        QCOMPARE(r5->body, QByteArray("hello"));
    }

    void deepPipelineIsBoundedButComplete()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        QByteArray many;
        for (int i = 0; i < 100; ++i)
            many += "GET /delay?ms=1&i=" + QByteArray::number(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        c.send(many);
        for (int i = 0; i < 100; ++i) {
            auto r = c.readResponse();
            QVERIFY2(r, qPrintable(QString::number(i)));
            QCOMPARE(r->body, "delayed ms=1&i=" + QByteArray::number(i));
        }
    }

    void connectionCloseIsHonoured()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send(
            "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");  // after close: never answered
        auto r = c.readResponse();
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Connection"), QByteArray("close"));
        QVERIFY(c.waitForClose());
        QVERIFY(!c.readResponse(200));
    }

    void http10()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send("GET /hello HTTP/1.0\r\n\r\n");
        auto r = c.readResponse();
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Connection"), QByteArray("close"));
        QVERIFY(c.waitForClose());

        HttpTestClient k;
        QVERIFY(connectClient(k));
        k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        r = k.readResponse();
        QCOMPARE(r->header("Connection"), QByteArray("keep-alive"));
        k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QCOMPARE(k.readResponse()->status, 200);

        // Streaming to HTTP/1.0: no chunked encoding, the close ends the body.
        HttpTestClient s;
        QVERIFY(connectClient(s));
        s.send("GET /stream?chunks=2&interval=5 HTTP/1.0\r\n\r\n");
        r = s.readResponse();
        QVERIFY(r);
        QVERIFY(r->header("Transfer-Encoding").isEmpty());
        QCOMPARE(r->body, QByteArray("data: 1\n\ndata: 2\n\n"));
    }

    void streamingIsChunkedAndIncremental()
    {
        HttpTestClient c;
        QVERIFY(connectClient(c));
        c.send("GET /stream?chunks=5&interval=100 HTTP/1.1\r\nHost: x\r\n\r\n");
        // The first event arrives long before the stream ends (500 ms).
        QElapsedTimer t;
        t.start();
        QByteArray seen;
        while (!seen.contains("data: 1") && t.elapsed() < 3000) {
            if (c.socket().waitForReadyRead(100))
                seen += c.socket().readAll();
        }
        QVERIFY(seen.contains("Transfer-Encoding: chunked"));
        QVERIFY(seen.contains("data: 1"));
        QVERIFY(!seen.contains("data: 5"));
        QVERIFY2(t.elapsed() < 400, "first event not relayed promptly");
        c.buffered() = seen;
        auto r = c.readResponse();
        QVERIFY(r);
        QVERIFY(r->body.endsWith("data: 5\n\n"));
    }

    void clientsDisconnectMidResponse()
    {
        // Leave while a stream is being written, and while a large answer is queued, many times.
        for (int i = 0; i < 200; ++i) {
            HttpTestClient c;
            QVERIFY(connectClient(c));
            c.send(i % 2 ? "GET /stream?chunks=0&interval=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                         : "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
            QVERIFY(c.socket().waitForReadyRead(2000));
            c.socket().abort();
        }
        HttpTestClient c;
        QVERIFY(connectClient(c));
        QCOMPARE(c.get("/hello")->status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->openConnections(), 1, 5000);
        QTRY_COMPARE(m_server->inFlightRequests(), qint64(0));
        QVERIFY(m_observer.count(499) > 0);  // streams cut short are counted as client-closed
    }

    void slowClientsAreTimedOutWhileOthersAreServed()
    {
        ServerOptions o = defaults();
        o.headerTimeoutMs = 3000;
        startServer(o);
        constexpr int kSlow = 500;
        std::vector<std::unique_ptr<QTcpSocket>> slow;
        for (int i = 0; i < kSlow; ++i) {
            slow.push_back(std::make_unique<QTcpSocket>());
            slow.back()->connectToHost(QHostAddress::LocalHost, m_server->port());
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(slow.begin(), slow.end(),
                        [](auto &s) { return s->state() == QAbstractSocket::ConnectedState; }),
            10000);
        const QByteArray request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
        int sentBytes = 0;
        QTimer trickle;  // one byte per client every second
        connect(&trickle, &QTimer::timeout, this, [&] {
            for (auto &s : slow) {
                if (s->state() == QAbstractSocket::ConnectedState)
                    s->write(request.mid(sentBytes % request.size(), 1));
            }
            ++sentBytes;
        });
        trickle.start(1000);
        QTest::qWait(1200);
        QTRY_VERIFY_WITH_TIMEOUT(m_server->openConnections() >= kSlow, 5000);
        // Everyone is connected and dribbling: a normal client is still answered at once.
        for (int i = 0; i < 5; ++i) {
            HttpTestClient c;
            QVERIFY(connectClient(c));
            QElapsedTimer t;
            t.start();
            auto r = c.get("/hello");
            QVERIFY(r);
            QCOMPARE(r->status, 200);
            QVERIFY2(t.elapsed() < 1000, "a normal client waited behind the slow ones");
        }
        QVERIFY(m_server->openConnections() >= kSlow);
        // The header timeout (3 s from each client's first byte) closes every slow client.
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(slow.begin(), slow.end(),
                        [](auto &s) { return s->state() != QAbstractSocket::ConnectedState; }),
            15000);
        QTRY_VERIFY_WITH_TIMEOUT(m_observer.count(408) >= kSlow, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->openConnections(), 0, 5000);
    }

    void idleKeepAliveConnectionIsClosed()
    {
        ServerOptions o = defaults();
        o.idleTimeoutMs = 500;
        startServer(o);
        HttpTestClient c;
        QVERIFY(connectClient(c));
        QCOMPARE(c.get("/hello")->status, 200);
        QElapsedTimer t;
        t.start();
        QVERIFY(c.waitForClose(3000));
        QVERIFY(t.elapsed() >= 400);
        HttpTestClient silent;  // connects and never sends a byte
        QVERIFY(connectClient(silent));
        QVERIFY(silent.waitForClose(3000));
    }

    void stuckReaderIsDropped()
    {
        ServerOptions o = defaults();
        o.maxOutputBytes = 256 * 1024;
        startServer(o);
        QTcpSocket reader;
        reader.setReadBufferSize(1);  // never drains its socket
        reader.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(reader.waitForConnected());
        reader.write("GET /stream?chunks=0&interval=1&pad=65536 HTTP/1.1\r\nHost: x\r\n\r\n");
        // Unread output grows past the bound; the server drops the client (its stream is
        // recorded as cut short) and closes the connection.
        QTRY_COMPARE_WITH_TIMEOUT(m_observer.count(499), 1, 20000);
        QTRY_COMPARE(m_server->openConnections(), 0);
    }

    void drainLetsInFlightFinishAndClosesIdle()
    {
        HttpTestClient idle;
        QVERIFY(connectClient(idle));
        QCOMPARE(idle.get("/hello")->status, 200);
        HttpTestClient busy;
        QVERIFY(connectClient(busy));
        busy.send("GET /delay?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE(m_server->inFlightRequests(), qint64(1));
        m_server->beginDrain();
        QVERIFY(idle.waitForClose(2000));
        auto r = busy.readResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->header("Connection"), QByteArray("close"));
        QVERIFY(busy.waitForClose(2000));
        QTRY_COMPARE(m_server->openConnections(), 0);
        QTcpSocket late;  // nobody accepts any more
        late.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(!late.waitForConnected(1000) || !late.waitForReadyRead(500));
    }

    void manyClientsAcrossWorkers()
    {
        ServerOptions o = defaults();
        o.workers = 4;
        startServer(o);
        std::vector<std::unique_ptr<HttpTestClient>> clients;
        for (int i = 0; i < 64; ++i) {
            clients.push_back(std::make_unique<HttpTestClient>());
            QVERIFY(connectClient(*clients.back()));
        }
        for (int round = 0; round < 3; ++round) {
            for (auto &c : clients)
                c->send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            for (auto &c : clients)
                QCOMPARE(c->readResponse()->body, QByteArray("hello"));
        }
    }

    void bindErrorIsReported()
    {
        QTcpServer plain;  // no SO_REUSEPORT: the gateway cannot share its port
        QVERIFY(plain.listen(QHostAddress::LocalHost, 0));
        ServerOptions o = defaults();
        o.host = QHostAddress::LocalHost;
        o.port = plain.serverPort();
        HttpFrontend fe(o, &m_router, &m_observer);
        QString error;
        QVERIFY(!fe.start(&error));
        QVERIFY2(error.contains(QString::number(plain.serverPort())), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
