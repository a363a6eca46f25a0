// HttpMessageParser: the HTTP/1.1 codec shared by the front end and the upstream client.
#include "HttpMessageParser.h"

#include <QTest>

using namespace sluice;

namespace {
struct Recorder : HttpMessageParser::Listener
{
    QList<HttpMessageHead> heads;
    QList<QByteArray> bodies;
    int completed = 0;
    bool expectBody = true;
    bool onHeadersComplete(HttpMessageHead &head) override
    {
        heads.append(head);
        bodies.append(QByteArray());
        return expectBody;
    }
    void onBody(QByteArrayView chunk) override { bodies.last().append(chunk); }
    void onMessageComplete() override { ++completed; }
};

// Feeds everything, resuming after each paused message; returns bytes consumed.
qsizetype feedAll(HttpMessageParser &p, QByteArrayView data)
{
    qsizetype pos = 0;
    while (pos < data.size() && p.error() == HttpMessageParser::Error::None) {
        const qsizetype n = p.feed(data.sliced(pos));
        if (n == 0)
            break;
        pos += n;
    }
    return pos;
}
}  // namespace

class TestHttpCodec : public QObject
{
    Q_OBJECT
private slots:
    void requestByteByByte()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {});
        const QByteArray req =
            "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\n"
            "Content-Type: application/json\r\nContent-Length: 5\r\n\r\nhello";
        for (char c : req)
            QCOMPARE(p.feed(QByteArrayView(&c, 1)), 1);
        QCOMPARE(r.completed, 1);
        QCOMPARE(r.heads[0].method, QByteArray("POST"));
        QCOMPARE(r.heads[0].path(), QByteArrayView("/v1/chat/completions"));
        QCOMPARE(r.heads[0].query(), QByteArrayView("x=1"));
        QCOMPARE(r.heads[0].headers.value("content-type"), QByteArray("application/json"));
        QCOMPARE(r.heads[0].contentLength, 5);
        QCOMPARE(r.bodies[0], QByteArray("hello"));
        QVERIFY(r.heads[0].keepAlive);
    }

    void pipelinedRequestsPauseBetweenMessages()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {});
        const QByteArray two =
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        const qsizetype first = p.feed(two);
        QCOMPARE(r.completed, 1);  // paused after the first message
        QCOMPARE(first, two.indexOf("GET /b"));
        QCOMPARE(p.feed(QByteArrayView(two).sliced(first)), two.size() - first);
        QCOMPARE(r.completed, 2);
        QCOMPARE(r.heads[1].path(), QByteArrayView("/b"));
    }

    void headerLimitIsEnforced_data()
    {
        QTest::addColumn<int>("valueSize");
        QTest::addColumn<bool>("ok");
        QTest::newRow("under") << 60 * 1024 << true;
        QTest::newRow("over") << 65 * 1024 << false;
        QTest::newRow("way over lib limit") << 100 * 1024 << false;
    }
    void headerLimitIsEnforced()
    {
        QFETCH(int, valueSize);
        QFETCH(bool, ok);
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {64 * 1024, 1024});
        QByteArray req = "GET / HTTP/1.1\r\nX-Big: " + QByteArray(valueSize, 'a') + "\r\n\r\n";
        feedAll(p, req);
        QCOMPARE(p.error() == HttpMessageParser::Error::None, ok);
        if (!ok)
            QCOMPARE(p.error(), HttpMessageParser::Error::HeadersTooLarge);
    }

    void headerLimitCountsManySmallHeaders()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {4096, 1024});
        QByteArray req = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 400; ++i)
            req += "X-H" + QByteArray::number(i) + ": v\r\n";
        req += "\r\n";
        // Split in small pieces: the count must survive across feeds.
        for (qsizetype i = 0; i < req.size() && p.error() == HttpMessageParser::Error::None; i += 7)
            p.feed(QByteArrayView(req).sliced(i, qMin<qsizetype>(7, req.size() - i)));
        QCOMPARE(p.error(), HttpMessageParser::Error::HeadersTooLarge);
        QCOMPARE(r.completed, 0);
    }

    void bodyLimitByContentLengthStopsAtHeaders()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {64 * 1024, 100});
        p.feed("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
        QCOMPARE(p.error(), HttpMessageParser::Error::BodyTooLarge);
        QVERIFY(r.heads.isEmpty());  // rejected before the handler ever saw it
    }

    void bodyLimitChunked()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {64 * 1024, 100});
        QByteArray req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 20; ++i)
            req += "a\r\n0123456789\r\n";
        req += "0\r\n\r\n";
        feedAll(p, req);
        QCOMPARE(p.error(), HttpMessageParser::Error::BodyTooLarge);
        QVERIFY(r.bodies.value(0).size() <= 100);
    }

    void chunkedWithinLimit()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {});
        feedAll(p,
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
                "world\r\n0\r\n\r\n");
        QCOMPARE(r.completed, 1);
        QVERIFY(r.heads[0].chunked);
        QCOMPARE(r.bodies[0], QByteArray("hello world"));
    }

    void http10AndConnectionClose()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {});
        p.feed("GET / HTTP/1.0\r\n\r\n");
        QVERIFY(r.heads[0].isHttp10());
        QVERIFY(!r.heads[0].keepAlive);
        Recorder r2;
        HttpMessageParser p2(HttpMessageParser::Kind::Request, &r2, {});
        p2.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QVERIFY(r2.heads[0].keepAlive);
        Recorder r3;
        HttpMessageParser p3(HttpMessageParser::Kind::Request, &r3, {});
        p3.feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        QVERIFY(!r3.heads[0].keepAlive);
    }

    void malformedRequest()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Request, &r, {});
        p.feed("GARBAGE\r\n\r\n");
        QCOMPARE(p.error(), HttpMessageParser::Error::Malformed);
        QVERIFY(!p.errorDescription().isEmpty());
    }

    void responseChunkedAndHead()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Response, &r, {64 * 1024, -1});
        feedAll(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\n\r\n");
        QCOMPARE(r.completed, 1);
        QCOMPARE(r.heads[0].status, 200);
        QCOMPARE(r.bodies[0], QByteArray("data"));

        Recorder h;
        h.expectBody = false;  // response to HEAD: Content-Length without a body
        HttpMessageParser ph(HttpMessageParser::Kind::Response, &h, {64 * 1024, -1});
        ph.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        QCOMPARE(h.completed, 1);
    }

    void responseCloseDelimited()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Response, &r, {64 * 1024, -1});
        feedAll(p, "HTTP/1.0 200 OK\r\n\r\nsome data");
        QCOMPARE(r.completed, 0);
        p.feedEof();
        QCOMPARE(r.completed, 1);
        QCOMPARE(r.bodies[0], QByteArray("some data"));
    }

    void resetForNextExchange()
    {
        Recorder r;
        HttpMessageParser p(HttpMessageParser::Kind::Response, &r, {64 * 1024, -1});
        feedAll(p, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
        p.reset();
        feedAll(p, "HTTP/1.1 204 No Content\r\n\r\n");
        QCOMPARE(r.completed, 2);
        QCOMPARE(r.heads[1].status, 204);
    }
};

QTEST_GUILESS_MAIN(TestHttpCodec)
#include "tst_httpcodec.moc"
