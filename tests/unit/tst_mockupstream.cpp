// The mock LLM upstream (tests/mock) checked on its own: the shapes the gateway's tests rely on,
// exact SSE framing, the x-mock-* controls, the request log and the counters.

#include "MockUpstream.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>
#include <vector>

using namespace sluice::test;

namespace {

const QString kReply = QStringLiteral("Hello from mock");

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QJsonObject parseObject(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes).object();
}

QJsonObject chatBody(const QString &content, bool stream = false, bool includeUsage = false)
{
    QJsonObject o{{QStringLiteral("model"), QStringLiteral("gpt-4o-mini")},
                  {QStringLiteral("messages"),
                   QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                          {QStringLiteral("content"), content}}}}};
    if (stream)
        o.insert(QStringLiteral("stream"), true);
    if (includeUsage) {
        o.insert(QStringLiteral("stream_options"),
                 QJsonObject{{QStringLiteral("include_usage"), true}});
    }
    return o;
}

QJsonObject messagesBody(const QString &content, bool stream = false)
{
    QJsonObject o = chatBody(content, stream);
    o.insert(QStringLiteral("model"), QStringLiteral("claude-haiku-4-5"));
    o.insert(QStringLiteral("max_tokens"), 64);
    return o;
}

const HttpHeaderList kAnthropic{{"anthropic-version", "2023-06-01"}};

// One raw exchange on a fresh connection (the request should say Connection: close): the answer
// as sent, with the HTTP chunks of a chunked body kept apart.
struct RawAnswer
{
    QByteArray bytes;  // everything received
    int status = 0;
    HttpHeaderList headers;
    QList<QByteArray> chunks;  // payloads of the chunks, the final empty one excluded
    QByteArray body;           // the decoded body (as far as it came)
    bool complete = false;     // Content-Length reached or the last chunk seen
    bool closed = false;       // the mock closed the connection
    QAbstractSocket::SocketError error = QAbstractSocket::UnknownSocketError;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[n, v] : headers) {
            if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

void parseRaw(RawAnswer *a)
{
    const qsizetype headEnd = a->bytes.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return;
    const QList<QByteArray> lines = a->bytes.left(headEnd).split('\n');
    a->status = lines.first().split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        a->headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    qsizetype pos = headEnd + 4;
    if (!a->header("content-length").isNull()) {
        const qsizetype length = a->header("content-length").toLongLong();
        a->body = a->bytes.mid(pos, length);
        a->complete = a->body.size() == length;
        return;
    }
    for (;;) {
        const qsizetype eol = a->bytes.indexOf("\r\n", pos);
        if (eol < 0)
            return;
        bool ok = false;
        const qsizetype size = a->bytes.mid(pos, eol - pos).toLongLong(&ok, 16);
        if (!ok)
            return;
        pos = eol + 2;
        if (size == 0) {
            a->complete = a->bytes.mid(pos) == "\r\n";
            return;
        }
        const QByteArray payload = a->bytes.mid(pos, size);
        a->body += payload;
        if (payload.size() < size || a->bytes.mid(pos + size, 2) != "\r\n")
            return;
        a->chunks << payload;
        pos += size + 2;
    }
}

QByteArray requestBytes(const QByteArray &method, const QByteArray &path,
                        const HttpHeaderList &headers, const QByteArray &body, bool close = true)
{
    QByteArray r = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &[n, v] : headers)
        r += n + ": " + v + "\r\n";
    if (close)
        r += "Connection: close\r\n";
    r += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
         "\r\n\r\n" + body;
    return r;
}

// Sends `request` and reads until the mock closes the connection or the time is up.
RawAnswer exchange(quint16 port, const QByteArray &request, int timeoutMs = 5000)
{
    RawAnswer a;
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(timeoutMs))
        return a;
    socket.write(request);
    socket.flush();
    const QDeadlineTimer deadline(timeoutMs);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(50))));
        a.bytes += socket.readAll();
    }
    a.bytes += socket.readAll();
    a.closed = socket.state() != QAbstractSocket::ConnectedState;
    a.error = socket.error();
    parseRaw(&a);
    return a;
}

RawAnswer post(quint16 port, const QByteArray &path, const QJsonObject &body,
               const HttpHeaderList &headers = {}, int timeoutMs = 5000)
{
    return exchange(port, requestBytes("POST", path, headers, json(body)), timeoutMs);
}

// The SSE events of a body: each "event: NAME\n"? + "data: JSON\n" + "\n".
struct Sse
{
    QByteArray name;
    QByteArray data;
};
QList<Sse> sseEvents(const QByteArray &body)
{
    QList<Sse> events;
    qsizetype pos = 0;
    while (pos < body.size()) {
        const qsizetype end = body.indexOf("\n\n", pos);
        if (end < 0)
            break;
        Sse e;
        for (const QByteArray &line : body.mid(pos, end - pos).split('\n')) {
            if (line.startsWith("event: "))
                e.name = line.mid(7);
            else if (line.startsWith("data: "))
                e.data = line.mid(6);
        }
        events << e;
        pos = end + 2;
    }
    return events;
}

int promptTokensOf(qsizetype chars)
{
    return int(qMax<qsizetype>(1, chars / 4));
}

}  // namespace

class TestMockUpstream : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void chatJson();
    void chatStreamFraming();
    void chatStreamIncludeUsage();
    void chunking_data();
    void chunking();
    void promptTokens_data();
    void promptTokens();
    void completions();
    void embeddings();
    void responsesJson();
    void responsesStream();
    void models();
    void messagesJson();
    void messagesStream();
    void messagesDeltaFullUsage();
    void countTokens();
    void anthropicVersionRequired();
    void invalidRequests();
    void errors_data();
    void errors();
    void noUsage();
    void delays();
    void hang();
    void clientAbortMidStream();
    void resetAfterBytes();
    void drop();
    void recordsRequests();
    void keepAliveAndPipelining();
    void gzip();
    void chunkedRequestAndExpectContinue();
    void concurrentOpenRequests();
    void apiKeys();
    void idleTimeout();
    void tls();

private:
    quint16 port() const { return m_mock->port(); }
    QJsonObject statsWhen(const std::function<bool(const QJsonObject &)> &condition,
                          int timeoutMs = 3000);

    std::unique_ptr<MockUpstream> m_mock;
};

void TestMockUpstream::initTestCase()
{
    m_mock = std::make_unique<MockUpstream>();
    QVERIFY2(m_mock->start(), m_mock->why());
    QVERIFY(port() != 0);
    QCOMPARE(m_mock->baseUrl(), QStringLiteral("http://127.0.0.1:%1").arg(port()));
}

void TestMockUpstream::init()
{
    QVERIFY2(m_mock->reset(), m_mock->why());
}

QJsonObject TestMockUpstream::statsWhen(const std::function<bool(const QJsonObject &)> &condition,
                                        int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QJsonObject stats;
    do {
        stats = m_mock->stats();
        if (condition(stats))
            return stats;
        QTest::qWait(20);
    } while (!deadline.hasExpired());
    return stats;
}

void TestMockUpstream::chatJson()
{
    const RawAnswer a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("abcdefgh")));
    QCOMPARE(a.status, 200);
    QVERIFY(a.complete);
    QCOMPARE(a.header("content-type"), QByteArray("application/json"));
    QVERIFY(a.header("x-request-id").startsWith("req_mock_"));
    QCOMPARE(a.header("x-ratelimit-remaining-requests"), QByteArray("9999"));
    const QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"object"].toString(), QStringLiteral("chat.completion"));
    QCOMPARE(o[u"model"].toString(), QStringLiteral("gpt-4o-mini"));
    const QJsonObject choice = o[u"choices"].toArray().first().toObject();
    QCOMPARE(choice[u"message"].toObject()[u"content"].toString(), kReply);
    QCOMPARE(choice[u"message"].toObject()[u"role"].toString(), QStringLiteral("assistant"));
    QCOMPARE(choice[u"finish_reason"].toString(), QStringLiteral("stop"));
    const QJsonObject usage = o[u"usage"].toObject();
    QCOMPARE(usage[u"prompt_tokens"].toInt(), 2);  // 8 characters / 4
    QCOMPARE(usage[u"completion_tokens"].toInt(), 3);
    QCOMPARE(usage[u"total_tokens"].toInt(), 5);
    QCOMPARE(usage[u"prompt_tokens_details"].toObject()[u"cached_tokens"].toInt(-1), 0);
    QCOMPARE(usage[u"completion_tokens_details"].toObject()[u"reasoning_tokens"].toInt(-1), 0);
}

void TestMockUpstream::chatStreamFraming()
{
    const RawAnswer a =
        post(port(), "/v1/chat/completions", chatBody(QStringLiteral("abcdefgh"), true));
    QCOMPARE(a.status, 200);
    QVERIFY2(a.complete, a.bytes.constData());
    QCOMPARE(a.header("content-type"), QByteArray("text/event-stream; charset=utf-8"));
    QCOMPARE(a.header("transfer-encoding"), QByteArray("chunked"));
    QVERIFY(a.header("content-length").isNull());
    // role chunk, 3 content chunks, finish chunk, [DONE]: one event per HTTP chunk.
    QCOMPARE(a.chunks.size(), 6);
    QString text;
    for (qsizetype i = 0; i < a.chunks.size(); ++i) {
        const QByteArray &c = a.chunks[i];
        QVERIFY2(c.startsWith("data: ") && c.endsWith("\n\n") && c.count('\n') == 2, c.constData());
        if (i == a.chunks.size() - 1) {
            QCOMPARE(c, QByteArray("data: [DONE]\n\n"));
            continue;
        }
        const QJsonObject o = parseObject(c.mid(6).trimmed());
        QCOMPARE(o[u"object"].toString(), QStringLiteral("chat.completion.chunk"));
        QVERIFY2(!o.contains(u"usage"), "usage without include_usage");
        const QJsonObject choice = o[u"choices"].toArray().first().toObject();
        const QJsonObject delta = choice[u"delta"].toObject();
        if (i == 0)
            QCOMPARE(delta[u"role"].toString(), QStringLiteral("assistant"));
        text += delta[u"content"].toString();
        QCOMPARE(choice[u"finish_reason"].toString(),
                 i == a.chunks.size() - 2 ? QStringLiteral("stop") : QString());
    }
    QCOMPARE(text, kReply);
    QCOMPARE(parseObject(a.chunks[1].mid(6))[u"choices"][0][u"delta"][u"content"].toString(),
             QStringLiteral("Hello"));
}

void TestMockUpstream::chatStreamIncludeUsage()
{
    const RawAnswer a =
        post(port(), "/v1/chat/completions", chatBody(QStringLiteral("abcdefgh"), true, true));
    QCOMPARE(a.status, 200);
    QVERIFY(a.complete);
    QCOMPARE(a.chunks.size(), 7);
    QCOMPARE(a.chunks.last(), QByteArray("data: [DONE]\n\n"));
    for (qsizetype i = 0; i < 5; ++i) {
        const QJsonObject o = parseObject(a.chunks[i].mid(6));
        QVERIFY(o.contains(u"usage") && o[u"usage"].isNull());
        QCOMPARE(o[u"choices"].toArray().size(), 1);
    }
    const QJsonObject last = parseObject(a.chunks[5].mid(6));
    QCOMPARE(last[u"choices"].toArray().size(), 0);
    const QJsonObject usage = last[u"usage"].toObject();
    QCOMPARE(usage[u"prompt_tokens"].toInt(), 2);
    QCOMPARE(usage[u"completion_tokens"].toInt(), 3);
    QCOMPARE(usage[u"total_tokens"].toInt(), 5);
    QVERIFY(usage[u"prompt_tokens_details"].toObject().contains(u"cached_tokens"));
    QVERIFY(usage[u"completion_tokens_details"].toObject().contains(u"reasoning_tokens"));
}

void TestMockUpstream::chunking_data()
{
    QTest::addColumn<QByteArray>("chunks");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QStringList>("pieces");
    QTest::newRow("1") << QByteArray("1") << QByteArray() << QStringList{kReply};
    QTest::newRow("5") << QByteArray("5") << QByteArray()
                       << QStringList{"Hel", "lo ", "fro", "m m", "ock"};
    QTest::newRow("custom text") << QByteArray("3") << QByteArray("abc")
                                 << QStringList{"a", "b", "c"};
    // More pieces than characters: the text repeats itself, joined with spaces.
    QTest::newRow("20") << QByteArray("20") << QByteArray("ab")
                        << QStringList{"a", "b", " ", "a", "b", " ", "a", "b", " ", "a",
                                       "b", " ", "a", "b", " ", "a", "b", " ", "a", "b"};
}

void TestMockUpstream::chunking()
{
    QFETCH(QByteArray, chunks);
    QFETCH(QByteArray, content);
    QFETCH(QStringList, pieces);
    HttpHeaderList headers{{"x-mock-chunks", chunks}};
    if (!content.isEmpty())
        headers.append({"x-mock-content", content});
    const RawAnswer stream =
        post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x"), true, true), headers);
    QVERIFY(stream.complete);
    QStringList got;
    for (qsizetype i = 1; i + 3 < stream.chunks.size(); ++i)
        got << parseObject(stream.chunks[i].mid(6))[u"choices"][0][u"delta"][u"content"].toString();
    QCOMPARE(got, pieces);
    const QJsonObject usage =
        parseObject(stream.chunks[stream.chunks.size() - 2].mid(6))[u"usage"].toObject();
    QCOMPARE(usage[u"completion_tokens"].toInt(), int(pieces.size()));

    const RawAnswer plain =
        post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x")), headers);
    const QJsonObject o = parseObject(plain.body);
    QCOMPARE(o[u"choices"][0][u"message"][u"content"].toString(), pieces.join(QString()));
    QCOMPARE(o[u"usage"][u"completion_tokens"].toInt(), int(pieces.size()));
    QCOMPARE(o[u"usage"][u"prompt_tokens"].toInt(), 1);  // 1 character: the minimum
}

void TestMockUpstream::promptTokens_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<QByteArray>("field");  // the usage member that carries it

    QTest::newRow("chat, parts and strings")
        << QByteArray("/v1/chat/completions")
        << QByteArray(R"({"model":"m","messages":[{"role":"system","content":"0123456789"},)"
                      R"({"role":"user","content":[{"type":"text","text":"0123456789ab"},)"
                      R"({"type":"image_url","image_url":{"url":"http://x/y.png"}}]}]})")
        << promptTokensOf(22) << QByteArray("prompt_tokens");
    QTest::newRow("completions, list of prompts")
        << QByteArray("/v1/completions")
        << QByteArray(R"({"model":"m","prompt":["0123456789","0123456789"]})") << 5
        << QByteArray("prompt_tokens");
    QTest::newRow("embeddings, token array")
        << QByteArray("/v1/embeddings") << QByteArray(R"({"model":"m","input":[1,2,3,4,5]})") << 5
        << QByteArray("prompt_tokens");
    QTest::newRow("responses, instructions and items")
        << QByteArray("/v1/responses")
        << QByteArray(R"({"model":"m","instructions":"01234567","input":[{"role":"user",)"
                      R"("content":[{"type":"input_text","text":"01234567"}]}]})")
        << 4 << QByteArray("input_tokens");
    QTest::newRow("messages, system blocks")
        << QByteArray("/v1/messages")
        << QByteArray(R"({"model":"m","max_tokens":5,"system":[{"type":"text","text":"0123"}],)"
                      R"("messages":[{"role":"user","content":"0123456789012345"}]})")
        << 5 << QByteArray("input_tokens");
    QTest::newRow("empty prompt") << QByteArray("/v1/chat/completions")
                                  << QByteArray(R"({"model":"m","messages":[]})") << 1
                                  << QByteArray("prompt_tokens");
}

void TestMockUpstream::promptTokens()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(int, tokens);
    QFETCH(QByteArray, field);
    const RawAnswer a = exchange(port(), requestBytes("POST", path, kAnthropic, body));
    QCOMPARE(a.status, 200);
    QCOMPARE(parseObject(a.body)[u"usage"].toObject()[QString::fromLatin1(field)].toInt(), tokens);
}

void TestMockUpstream::completions()
{
    const QJsonObject body{{QStringLiteral("model"), QStringLiteral("gpt-3.5-turbo-instruct")},
                           {QStringLiteral("prompt"), QStringLiteral("abcdefghijkl")}};
    const RawAnswer a = post(port(), "/v1/completions", body);
    QCOMPARE(a.status, 200);
    const QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"object"].toString(), QStringLiteral("text_completion"));
    QCOMPARE(o[u"choices"][0][u"text"].toString(), kReply);
    QCOMPARE(o[u"usage"][u"prompt_tokens"].toInt(), 3);
    QCOMPARE(o[u"usage"][u"completion_tokens"].toInt(), 3);
    QCOMPARE(o[u"usage"][u"total_tokens"].toInt(), 6);

    QJsonObject streamBody = body;
    streamBody.insert(QStringLiteral("stream"), true);
    const RawAnswer plain = post(port(), "/v1/completions", streamBody);
    QCOMPARE(plain.chunks.size(), 5);  // 3 pieces, finish, [DONE]
    QVERIFY(!plain.body.contains("usage"));
    streamBody.insert(QStringLiteral("stream_options"),
                      QJsonObject{{QStringLiteral("include_usage"), true}});
    const RawAnswer s = post(port(), "/v1/completions", streamBody);
    QCOMPARE(s.chunks.size(), 6);
    QString text;
    for (qsizetype i = 0; i < 3; ++i)
        text += parseObject(s.chunks[i].mid(6))[u"choices"][0][u"text"].toString();
    QCOMPARE(text, kReply);
    const QJsonObject last = parseObject(s.chunks[4].mid(6));
    QCOMPARE(last[u"choices"].toArray().size(), 0);
    QCOMPARE(last[u"usage"][u"total_tokens"].toInt(), 6);
    QCOMPARE(s.chunks[5], QByteArray("data: [DONE]\n\n"));
}

void TestMockUpstream::embeddings()
{
    QJsonObject body{{QStringLiteral("model"), QStringLiteral("text-embedding-3-small")},
                     {QStringLiteral("input"),
                      QJsonArray{QStringLiteral("abcdefgh"), QStringLiteral("abcdefgh")}}};
    const RawAnswer a = post(port(), "/v1/embeddings", body);
    QCOMPARE(a.status, 200);
    QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"object"].toString(), QStringLiteral("list"));
    QCOMPARE(o[u"data"].toArray().size(), 2);
    QCOMPARE(o[u"data"][1][u"index"].toInt(), 1);
    QCOMPARE(o[u"data"][0][u"embedding"].toArray().size(), 8);
    QCOMPARE(o[u"usage"][u"prompt_tokens"].toInt(), 4);
    QCOMPARE(o[u"usage"][u"total_tokens"].toInt(), 4);
    QVERIFY(!o[u"usage"].toObject().contains(u"completion_tokens"));

    // base64 (what the OpenAI SDK asks for by default): little-endian float32.
    body.insert(QStringLiteral("encoding_format"), QStringLiteral("base64"));
    body.insert(QStringLiteral("dimensions"), 4);
    const QJsonObject b = parseObject(post(port(), "/v1/embeddings", body).body);
    const QByteArray raw =
        QByteArray::fromBase64(b[u"data"][0][u"embedding"].toString().toLatin1());
    QCOMPARE(raw.size(), 16);
}

void TestMockUpstream::responsesJson()
{
    const QJsonObject body{{QStringLiteral("model"), QStringLiteral("gpt-4o")},
                           {QStringLiteral("instructions"), QStringLiteral("0123")},
                           {QStringLiteral("input"), QStringLiteral("01234567")}};
    const RawAnswer a = post(port(), "/v1/responses", body);
    QCOMPARE(a.status, 200);
    const QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"object"].toString(), QStringLiteral("response"));
    QCOMPARE(o[u"status"].toString(), QStringLiteral("completed"));
    QCOMPARE(o[u"output"][0][u"content"][0][u"text"].toString(), kReply);
    QCOMPARE(o[u"usage"][u"input_tokens"].toInt(), 3);
    QCOMPARE(o[u"usage"][u"output_tokens"].toInt(), 3);
    QCOMPARE(o[u"usage"][u"total_tokens"].toInt(), 6);
}

void TestMockUpstream::responsesStream()
{
    const QJsonObject body{{QStringLiteral("model"), QStringLiteral("gpt-4o")},
                           {QStringLiteral("input"), QStringLiteral("01234567")},
                           {QStringLiteral("stream"), true}};
    const RawAnswer a = post(port(), "/v1/responses", body);
    QCOMPARE(a.status, 200);
    QVERIFY(a.complete);
    const QList<QByteArray> expected{"response.created",           "response.in_progress",
                                     "response.output_item.added", "response.content_part.added",
                                     "response.output_text.delta", "response.output_text.delta",
                                     "response.output_text.delta", "response.output_text.done",
                                     "response.content_part.done", "response.output_item.done",
                                     "response.completed"};
    QCOMPARE(a.chunks.size(), expected.size());
    QString text;
    for (qsizetype i = 0; i < a.chunks.size(); ++i) {
        const QByteArray &c = a.chunks[i];
        QVERIFY2(c.startsWith("event: " + expected[i] + "\ndata: {") && c.endsWith("}\n\n") &&
                     c.count('\n') == 3,
                 c.constData());
        const QJsonObject o = parseObject(sseEvents(c).first().data);
        QCOMPARE(o[u"type"].toString().toLatin1(), expected[i]);
        QCOMPARE(o[u"sequence_number"].toInt(), int(i));
        if (expected[i] == "response.output_text.delta")
            text += o[u"delta"].toString();
    }
    QCOMPARE(text, kReply);
    QVERIFY(parseObject(sseEvents(a.chunks[0]).first().data)[u"response"][u"usage"].isNull());
    const QJsonObject done =
        parseObject(sseEvents(a.chunks.last()).first().data)[u"response"].toObject();
    QCOMPARE(done[u"status"].toString(), QStringLiteral("completed"));
    QCOMPARE(done[u"usage"][u"input_tokens"].toInt(), 2);
    QCOMPARE(done[u"usage"][u"output_tokens"].toInt(), 3);
    QVERIFY(!a.body.contains("[DONE]"));
}

void TestMockUpstream::models()
{
    const RawAnswer openai = exchange(port(), requestBytes("GET", "/v1/models", {}, {}));
    QCOMPARE(openai.status, 200);
    const QJsonObject o = parseObject(openai.body);
    QCOMPARE(o[u"object"].toString(), QStringLiteral("list"));
    QVERIFY(o[u"data"].toArray().size() >= 3);
    QCOMPARE(o[u"data"][0][u"object"].toString(), QStringLiteral("model"));
    QVERIFY(!o[u"data"][0][u"owned_by"].toString().isEmpty());

    const RawAnswer anthropic = exchange(port(), requestBytes("GET", "/v1/models", kAnthropic, {}));
    QCOMPARE(anthropic.status, 200);
    const QJsonObject a = parseObject(anthropic.body);
    QVERIFY(!a.contains(u"object"));
    QCOMPARE(a[u"has_more"].toBool(true), false);
    QCOMPARE(a[u"data"][0][u"type"].toString(), QStringLiteral("model"));
    QVERIFY(a[u"data"][0][u"id"].toString().startsWith(u"claude-"));
    QCOMPARE(a[u"first_id"], a[u"data"][0][u"id"]);
    QVERIFY(!anthropic.header("request-id").isNull());
    QVERIFY(!anthropic.header("anthropic-ratelimit-requests-limit").isNull());
}

void TestMockUpstream::messagesJson()
{
    QJsonObject body = messagesBody(QStringLiteral("0123456789ab"));
    body.insert(QStringLiteral("system"), QStringLiteral("0123"));
    const RawAnswer a = post(port(), "/v1/messages", body,
                             {{"anthropic-version", "2023-06-01"},
                              {"x-mock-cached-tokens", "7"},
                              {"x-mock-cache-creation-tokens", "5"}});
    QCOMPARE(a.status, 200);
    const QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"type"].toString(), QStringLiteral("message"));
    QCOMPARE(o[u"role"].toString(), QStringLiteral("assistant"));
    QCOMPARE(o[u"content"][0][u"type"].toString(), QStringLiteral("text"));
    QCOMPARE(o[u"content"][0][u"text"].toString(), kReply);
    QCOMPARE(o[u"stop_reason"].toString(), QStringLiteral("end_turn"));
    const QJsonObject usage = o[u"usage"].toObject();
    QCOMPARE(usage[u"input_tokens"].toInt(), 4);
    QCOMPARE(usage[u"output_tokens"].toInt(), 3);
    QCOMPARE(usage[u"cache_read_input_tokens"].toInt(), 7);
    QCOMPARE(usage[u"cache_creation_input_tokens"].toInt(), 5);
}

void TestMockUpstream::messagesStream()
{
    const RawAnswer a = post(port(), "/v1/messages", messagesBody(QStringLiteral("01234567"), true),
                             {{"anthropic-version", "2023-06-01"}, {"x-mock-chunks", "4"}});
    QCOMPARE(a.status, 200);
    QVERIFY(a.complete);
    QCOMPARE(a.header("content-type"), QByteArray("text/event-stream; charset=utf-8"));
    const QList<QByteArray> expected{
        "message_start",       "content_block_start", "ping",
        "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop",  "message_delta",
        "message_stop"};
    QCOMPARE(a.chunks.size(), expected.size());
    QString text;
    for (qsizetype i = 0; i < a.chunks.size(); ++i) {
        const QByteArray &c = a.chunks[i];
        QVERIFY2(c.startsWith("event: " + expected[i] + "\ndata: {") && c.endsWith("}\n\n") &&
                     c.count('\n') == 3,
                 c.constData());
        const QJsonObject o = parseObject(sseEvents(c).first().data);
        QCOMPARE(o[u"type"].toString().toLatin1(), expected[i]);
        if (expected[i] == "content_block_delta") {
            QCOMPARE(o[u"delta"][u"type"].toString(), QStringLiteral("text_delta"));
            text += o[u"delta"][u"text"].toString();
        }
    }
    QCOMPARE(text, kReply);
    const QJsonObject start =
        parseObject(sseEvents(a.chunks[0]).first().data)[u"message"].toObject();
    QCOMPARE(start[u"usage"][u"input_tokens"].toInt(), 2);
    QCOMPARE(start[u"usage"][u"output_tokens"].toInt(), 1);  // as the API does
    QCOMPARE(start[u"content"].toArray().size(), 0);
    const QJsonObject delta = parseObject(sseEvents(a.chunks[8]).first().data);
    QCOMPARE(delta[u"delta"][u"stop_reason"].toString(), QStringLiteral("end_turn"));
    QCOMPARE(delta[u"usage"].toObject(), (QJsonObject{{QStringLiteral("output_tokens"), 4}}));
}

void TestMockUpstream::messagesDeltaFullUsage()
{
    const RawAnswer a = post(port(), "/v1/messages", messagesBody(QStringLiteral("01234567"), true),
                             {{"anthropic-version", "2023-06-01"},
                              {"x-mock-delta-full-usage", "1"},
                              {"x-mock-cached-tokens", "3"}});
    const QList<Sse> events = sseEvents(a.body);
    QCOMPARE(events.size(), 9);
    const QJsonObject usage = parseObject(events[7].data)[u"usage"].toObject();
    QCOMPARE(usage[u"output_tokens"].toInt(), 3);
    QCOMPARE(usage[u"input_tokens"].toInt(), 2);
    QCOMPARE(usage[u"cache_read_input_tokens"].toInt(), 3);
}

void TestMockUpstream::countTokens()
{
    QJsonObject body = messagesBody(QStringLiteral("0123456789ab"));
    body.remove(QStringLiteral("max_tokens"));
    const RawAnswer a = post(port(), "/v1/messages/count_tokens", body, kAnthropic);
    QCOMPARE(a.status, 200);
    QCOMPARE(parseObject(a.body), (QJsonObject{{QStringLiteral("input_tokens"), 3}}));
}

void TestMockUpstream::anthropicVersionRequired()
{
    const RawAnswer a = post(port(), "/v1/messages", messagesBody(QStringLiteral("x")));
    QCOMPARE(a.status, 400);
    const QJsonObject o = parseObject(a.body);
    QCOMPARE(o[u"type"].toString(), QStringLiteral("error"));
    QCOMPARE(o[u"error"][u"type"].toString(), QStringLiteral("invalid_request_error"));
}

void TestMockUpstream::invalidRequests()
{
    RawAnswer a = exchange(port(), requestBytes("POST", "/v1/chat/completions", {}, "{not json"));
    QCOMPARE(a.status, 400);
    QCOMPARE(parseObject(a.body)[u"error"][u"type"].toString(),
             QStringLiteral("invalid_request_error"));
    a = exchange(port(), requestBytes("POST", "/v1/chat/completions", {}, "{}"));
    QCOMPARE(a.status, 400);
    a = exchange(port(), requestBytes("POST", "/v1/nothing", {}, R"({"model":"m"})"));
    QCOMPARE(a.status, 404);
    QVERIFY(parseObject(a.body)[u"error"][u"message"].toString().contains(u"/v1/nothing"));
}

void TestMockUpstream::errors_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QByteArray>("retryAfter");
    QTest::addColumn<QByteArray>("quotaHeader");

    QTest::newRow("openai 500") << QByteArray("/v1/chat/completions") << 500
                                << QStringLiteral("server_error") << QByteArray() << QByteArray();
    QTest::newRow("openai 429") << QByteArray("/v1/chat/completions") << 429
                                << QStringLiteral("requests") << QByteArray("1")
                                << QByteArray("x-ratelimit-remaining-requests");
    QTest::newRow("openai 401") << QByteArray("/v1/embeddings") << 401
                                << QStringLiteral("invalid_request_error") << QByteArray()
                                << QByteArray();
    QTest::newRow("anthropic 429")
        << QByteArray("/v1/messages") << 429 << QStringLiteral("rate_limit_error")
        << QByteArray("1") << QByteArray("anthropic-ratelimit-requests-remaining");
    QTest::newRow("anthropic 529")
        << QByteArray("/v1/messages") << 529 << QStringLiteral("overloaded_error")
        << QByteArray("1") << QByteArray();
    QTest::newRow("anthropic 500") << QByteArray("/v1/messages") << 500
                                   << QStringLiteral("api_error") << QByteArray() << QByteArray();
}

void TestMockUpstream::errors()
{
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QString, type);
    QFETCH(QByteArray, retryAfter);
    QFETCH(QByteArray, quotaHeader);
    const bool anthropic = path.startsWith("/v1/messages");
    QJsonObject body =
        anthropic ? messagesBody(QStringLiteral("x"), true) : chatBody(QStringLiteral("x"), true);
    if (path == "/v1/embeddings")
        body = {{QStringLiteral("model"), QStringLiteral("e")}, {QStringLiteral("input"), "x"}};
    const RawAnswer a =
        post(port(), path, body,
             {{"x-mock-status", QByteArray::number(status)}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(a.status, status);
    QVERIFY(a.complete);
    QCOMPARE(a.header("content-type"), QByteArray("application/json"));  // even for a stream
    QCOMPARE(a.header("retry-after"), retryAfter);
    if (!quotaHeader.isEmpty())
        QCOMPARE(a.header(quotaHeader), QByteArray("0"));
    const QJsonObject o = parseObject(a.body);
    if (anthropic) {
        QCOMPARE(o[u"type"].toString(), QStringLiteral("error"));
        QCOMPARE(o[u"error"][u"type"].toString(), type);
        QVERIFY(!o[u"error"][u"message"].toString().isEmpty());
    } else {
        QCOMPARE(o[u"error"][u"type"].toString(), type);
        QVERIFY(!o[u"error"][u"message"].toString().isEmpty());
        QVERIFY(o[u"error"].toObject().contains(u"code"));
    }
    if (status == 429) {
        const RawAnswer later = post(port(), path, body,
                                     {{"x-mock-status", "429"},
                                      {"x-mock-retry-after", "7"},
                                      {"anthropic-version", "2023-06-01"}});
        QCOMPARE(later.header("retry-after"), QByteArray("7"));
    }
}

void TestMockUpstream::noUsage()
{
    const HttpHeaderList noUsage{{"x-mock-no-usage", "1"}, {"anthropic-version", "2023-06-01"}};
    RawAnswer a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x")), noUsage);
    QCOMPARE(a.status, 200);
    QVERIFY(!parseObject(a.body).contains(u"usage"));
    a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x"), true, true), noUsage);
    QCOMPARE(a.chunks.size(), 6);  // no usage chunk
    for (const QByteArray &c : a.chunks)
        QVERIFY2(!c.contains("\"usage\":{"), c.constData());
    a = post(port(), "/v1/messages", messagesBody(QStringLiteral("x"), true), noUsage);
    QVERIFY(a.complete);
    QVERIFY(!a.body.contains("usage"));
    a = post(port(), "/v1/messages", messagesBody(QStringLiteral("x")), noUsage);
    QVERIFY(!parseObject(a.body).contains(u"usage"));
}

void TestMockUpstream::delays()
{
    QElapsedTimer timer;
    timer.start();
    RawAnswer a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x")),
                       {{"x-mock-delay-ms", "300"}});
    QCOMPARE(a.status, 200);
    QVERIFY2(timer.elapsed() >= 300, QByteArray::number(timer.elapsed()).constData());

    // Chunk delay: between two events; 3 pieces + role + finish + [DONE] = 6 events, 5 pauses.
    // The head and the first event come at once.
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port());
    QVERIFY(socket.waitForConnected(3000));
    timer.restart();
    socket.write(requestBytes("POST", "/v1/chat/completions", {{"x-mock-chunk-delay-ms", "250"}},
                              json(chatBody(QStringLiteral("x"), true))));
    QByteArray in;
    while (!in.contains("data: ") && socket.waitForReadyRead(3000))
        in += socket.readAll();
    const qint64 firstEvent = timer.elapsed();
    QVERIFY2(firstEvent < 200, QByteArray::number(firstEvent).constData());
    QCOMPARE(in.count("data: "), 1);
    while (!in.endsWith("0\r\n\r\n") && socket.waitForReadyRead(3000))
        in += socket.readAll();
    QVERIFY(in.endsWith("0\r\n\r\n"));
    QCOMPARE(in.count("data: "), 6);
    QVERIFY2(timer.elapsed() >= 5 * 250, QByteArray::number(timer.elapsed()).constData());
}

void TestMockUpstream::hang()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port());
    QVERIFY(socket.waitForConnected(3000));
    socket.write(requestBytes("POST", "/v1/chat/completions", {{"x-mock-hang", "1"}},
                              json(chatBody(QStringLiteral("x")))));
    QVERIFY(!socket.waitForReadyRead(400));  // nothing comes
    QJsonObject stats = statsWhen([](const QJsonObject &s) { return s[u"open_requests"] == 1; });
    QCOMPARE(stats[u"open_requests"].toInt(), 1);
    QCOMPARE(stats[u"total"].toInt(), 1);
    socket.abort();  // the client gives up: the mock counts an aborted request
    stats = statsWhen([](const QJsonObject &s) { return s[u"aborted"] == 1; });
    QCOMPARE(stats[u"aborted"].toInt(), 1);
    QCOMPARE(stats[u"open_requests"].toInt(), 0);
    QCOMPARE(stats[u"completed"].toInt(), 0);
    QCOMPARE(m_mock->requests().size(), 1);  // a hanging request is recorded too
}

void TestMockUpstream::clientAbortMidStream()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port());
    QVERIFY(socket.waitForConnected(3000));
    socket.write(requestBytes("POST", "/v1/chat/completions",
                              {{"x-mock-chunk-delay-ms", "200"}, {"x-mock-chunks", "10"}},
                              json(chatBody(QStringLiteral("x"), true))));
    QVERIFY(socket.waitForReadyRead(3000));
    QVERIFY(socket.readAll().contains("data: "));
    socket.close();
    const QJsonObject stats = statsWhen([](const QJsonObject &s) { return s[u"aborted"] == 1; });
    QCOMPARE(stats[u"aborted"].toInt(), 1);
    QCOMPARE(stats[u"open_requests"].toInt(), 0);

    // A client that reads to the end is not aborted.
    const RawAnswer a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x"), true));
    QVERIFY(a.complete);
    const QJsonObject after = m_mock->stats();
    QCOMPARE(after[u"aborted"].toInt(), 1);
    QCOMPARE(after[u"completed"].toInt(), 1);
}

void TestMockUpstream::resetAfterBytes()
{
    RawAnswer a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x"), true),
                       {{"x-mock-reset-after-bytes", "100"}});
    QCOMPARE(a.status, 200);
    QVERIFY(a.closed);
    QVERIFY(!a.complete);
    const qsizetype headEnd = a.bytes.indexOf("\r\n\r\n") + 4;
    QCOMPARE(a.bytes.size() - headEnd, 100);  // the head and exactly 100 body bytes
    QCOMPARE(a.error, QAbstractSocket::RemoteHostClosedError);

    // JSON answers are cut the same way: fewer bytes than the Content-Length.
    a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x")),
             {{"x-mock-reset-after-bytes", "10"}});
    QCOMPARE(a.status, 200);
    QVERIFY(!a.complete);
    QCOMPARE(a.body.size(), 10);

    // 0: right after the head.
    a = post(port(), "/v1/messages", messagesBody(QStringLiteral("x"), true),
             {{"x-mock-reset-after-bytes", "0"}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(a.status, 200);
    QVERIFY(a.body.isEmpty());

    const QJsonObject stats = m_mock->stats();
    QCOMPARE(stats[u"reset"].toInt(), 3);
    QCOMPARE(stats[u"aborted"].toInt(), 0);
    QCOMPARE(stats[u"open_requests"].toInt(), 0);
}

void TestMockUpstream::drop()
{
    const RawAnswer a =
        post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x")), {{"x-mock-drop", "1"}});
    QVERIFY(a.closed);
    QVERIFY(a.bytes.isEmpty());
    QCOMPARE(m_mock->stats()[u"reset"].toInt(), 1);
}

void TestMockUpstream::recordsRequests()
{
    const QByteArray body = json(chatBody(QStringLiteral("recorded")));
    const RawAnswer a = exchange(port(), requestBytes("POST", "/v1/chat/completions?x=1",
                                                      {{"Authorization", "Bearer sk-upstream"},
                                                       {"X-Forwarded-For", "10.0.0.1"},
                                                       {"X-Dup", "one"},
                                                       {"x-dup", "two"}},
                                                      body));
    QCOMPARE(a.status, 200);
    QCOMPARE(m_mock->stats()[u"total"].toInt(), 1);  // GET /mock/* are not counted...
    const QJsonArray list = m_mock->requests();
    QCOMPARE(list.size(), 1);  // ...nor recorded
    const QJsonObject r = m_mock->lastRequest();
    QCOMPARE(r[u"method"].toString(), QStringLiteral("POST"));
    QCOMPARE(r[u"path"].toString(), QStringLiteral("/v1/chat/completions?x=1"));
    QCOMPARE(r[u"version"].toString(), QStringLiteral("HTTP/1.1"));
    QCOMPARE(r[u"body"].toString().toUtf8(), body);
    QCOMPARE(r[u"tls"].toBool(true), false);
    QVERIFY(r[u"remote"].toString().startsWith(u"127.0.0.1:"));
    const QJsonObject headers = r[u"headers"].toObject();
    QCOMPARE(headers[u"authorization"].toString(), QStringLiteral("Bearer sk-upstream"));
    QCOMPARE(headers[u"x-forwarded-for"].toString(), QStringLiteral("10.0.0.1"));
    QCOMPARE(headers[u"x-dup"].toString(), QStringLiteral("one, two"));
    QVERIFY(headers.contains(u"connection"));
    const QJsonArray raw = r[u"raw_headers"].toArray();
    QCOMPARE(raw[1],
             (QJsonArray{QStringLiteral("Authorization"), QStringLiteral("Bearer sk-upstream")}));
    QCOMPARE(raw[4], (QJsonArray{QStringLiteral("x-dup"), QStringLiteral("two")}));

    for (int i = 0; i < 3; ++i)
        post(port(), "/v1/embeddings",
             {{QStringLiteral("model"), QStringLiteral("e")}, {QStringLiteral("input"), i}});
    QCOMPARE(m_mock->requests().size(), 4);
    const QJsonArray last2 = m_mock->requests(2);
    QCOMPARE(last2.size(), 2);
    QCOMPARE(last2[1][u"seq"].toInt(), m_mock->lastRequest()[u"seq"].toInt());
    QVERIFY(last2[0][u"seq"].toInt() < last2[1][u"seq"].toInt());
    QVERIFY(m_mock->reset());
    QCOMPARE(m_mock->requests().size(), 0);
    QCOMPARE(m_mock->stats()[u"total"].toInt(), 0);
}

void TestMockUpstream::keepAliveAndPipelining()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port());
    QVERIFY(socket.waitForConnected(3000));
    // Two requests at once; the first is slow and streamed: answers still come in order.
    socket.write(requestBytes("POST", "/v1/chat/completions", {{"x-mock-delay-ms", "100"}},
                              json(chatBody(QStringLiteral("first"), true)), false) +
                 requestBytes("POST", "/v1/chat/completions", {{"x-mock-content", "second"}},
                              json(chatBody(QStringLiteral("x"))), false));
    QByteArray in;
    const QDeadlineTimer deadline(5000);
    while (!in.contains("second") && !deadline.hasExpired() && socket.waitForReadyRead(1000))
        in += socket.readAll();
    QVERIFY2(in.contains("second"), in.constData());
    QVERIFY(in.indexOf("data: [DONE]") < in.indexOf("HTTP/1.1 200", 10));
    QCOMPARE(in.count("connection: keep-alive"), 2);
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(m_mock->stats()[u"connections_total"].toInt(), 2);  // this one and the stats call

    // Connection: close (or x-mock-close) ends the connection after the answer.
    socket.write(requestBytes("POST", "/v1/chat/completions", {{"x-mock-close", "1"}},
                              json(chatBody(QStringLiteral("x"))), false));
    QVERIFY(socket.waitForDisconnected(3000));
}

void TestMockUpstream::gzip()
{
    const QJsonObject body = chatBody(QStringLiteral("x"));
    RawAnswer a = post(port(), "/v1/chat/completions", body,
                       {{"x-mock-gzip", "1"}, {"Accept-Encoding", "gzip, deflate"}});
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("content-encoding"), QByteArray("gzip"));
    QVERIFY(a.complete);
    QVERIFY(a.body.startsWith("\x1f\x8b"));  // the gzip magic
    // Not without Accept-Encoding, and never for a stream.
    a = post(port(), "/v1/chat/completions", body, {{"x-mock-gzip", "1"}});
    QVERIFY(a.header("content-encoding").isNull());
    QCOMPARE(parseObject(a.body)[u"usage"][u"completion_tokens"].toInt(), 3);
    a = post(port(), "/v1/chat/completions", chatBody(QStringLiteral("x"), true),
             {{"x-mock-gzip", "1"}, {"Accept-Encoding", "gzip"}});
    QVERIFY(a.header("content-encoding").isNull());
    QVERIFY(a.body.startsWith("data: "));
}

void TestMockUpstream::chunkedRequestAndExpectContinue()
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port());
    QVERIFY(socket.waitForConnected(3000));
    const QByteArray body = json(chatBody(QStringLiteral("abcdefghijkl")));
    socket.write(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    QVERIFY(socket.waitForReadyRead(3000));
    QCOMPARE(socket.readAll(), QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    const qsizetype half = body.size() / 2;
    socket.write(QByteArray::number(half, 16) + "\r\n" + body.left(half) + "\r\n" +
                 QByteArray::number(body.size() - half, 16) + "\r\n" + body.mid(half) +
                 "\r\n0\r\n\r\n");
    QByteArray in;
    while (socket.waitForReadyRead(3000))
        in += socket.readAll();
    in += socket.readAll();
    QVERIFY2(in.startsWith("HTTP/1.1 200 OK\r\n"), in.constData());
    QVERIFY(in.contains("\"prompt_tokens\":3"));
    QCOMPARE(m_mock->lastRequest()[u"body"].toString().toUtf8(), body);
}

// 256 streaming-style requests of 2 s each are all open in the mock at the same time.
void TestMockUpstream::concurrentOpenRequests()
{
    constexpr int kRequests = 256;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    const QByteArray request =
        requestBytes("POST", "/v1/chat/completions", {{"x-mock-delay-ms", "2000"}},
                     json(chatBody(QStringLiteral("abcd"))));
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < kRequests; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QStringLiteral("127.0.0.1"), port());
        sockets.push_back(std::move(socket));
    }
    for (auto &socket : sockets) {
        QVERIFY2(socket->waitForConnected(5000), qPrintable(socket->errorString()));
        socket->write(request);
        socket->flush();
    }
    const QJsonObject during =
        statsWhen([](const QJsonObject &s) { return s[u"open_requests"] == kRequests; }, 1700);
    QVERIFY2(timer.elapsed() < 2000, "the requests were not all sent within the delay");
    QCOMPARE(during[u"open_requests"].toInt(), kRequests);

    int answered = 0;
    const QDeadlineTimer deadline(10000);
    for (auto &socket : sockets) {
        QByteArray in;
        while (!in.contains("\"total_tokens\"") && !deadline.hasExpired() &&
               socket->state() == QAbstractSocket::ConnectedState) {
            socket->waitForReadyRead(200);
            in += socket->readAll();
        }
        in += socket->readAll();
        answered += in.startsWith("HTTP/1.1 200 OK") && in.contains("\"total_tokens\"") ? 1 : 0;
    }
    QCOMPARE(answered, kRequests);
    QVERIFY2(timer.elapsed() >= 2000, QByteArray::number(timer.elapsed()).constData());
    const QJsonObject after =
        statsWhen([](const QJsonObject &s) { return s[u"open_requests"] == 0; });
    QCOMPARE(after[u"max_open_requests"].toInt(), kRequests);
    QCOMPARE(after[u"total"].toInt(), kRequests);
    QCOMPARE(after[u"completed"].toInt(), kRequests);
    QCOMPARE(after[u"aborted"].toInt(), 0);
}

void TestMockUpstream::apiKeys()
{
    MockUpstream mock;
    QVERIFY2(mock.start({QStringLiteral("--api-key"), QStringLiteral("sk-a"),
                         QStringLiteral("--api-key"), QStringLiteral("sk-b")}),
             mock.why());
    const QJsonObject chat = chatBody(QStringLiteral("x"));
    const QJsonObject message = messagesBody(QStringLiteral("x"));
    RawAnswer a = post(mock.port(), "/v1/chat/completions", chat);
    QCOMPARE(a.status, 401);
    QCOMPARE(parseObject(a.body)[u"error"][u"code"].toString(), QStringLiteral("invalid_api_key"));
    a = post(mock.port(), "/v1/chat/completions", chat, {{"Authorization", "Bearer sk-b"}});
    QCOMPARE(a.status, 200);
    a = post(mock.port(), "/v1/chat/completions", chat, {{"x-api-key", "sk-a"}});
    QCOMPARE(a.status, 401);  // OpenAI takes only Authorization
    a = post(mock.port(), "/v1/messages", message,
             {{"x-api-key", "sk-a"}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(a.status, 200);
    a = post(mock.port(), "/v1/messages", message,
             {{"Authorization", "Bearer sk-a"}, {"anthropic-version", "2026-10-21"}});
    QCOMPARE(a.status, 200);  // Anthropic's SDK 1.x sends the key this way
    a = post(mock.port(), "/v1/messages", message,
             {{"x-api-key", "sk-nope"}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(a.status, 401);
    QCOMPARE(parseObject(a.body)[u"error"][u"type"].toString(),
             QStringLiteral("authentication_error"));
    QCOMPARE(mock.stats()[u"total"].toInt(), 6);  // the control endpoints need no key
}

void TestMockUpstream::idleTimeout()
{
    MockUpstream mock;
    QVERIFY2(mock.start({QStringLiteral("--idle-timeout-ms"), QStringLiteral("200")}), mock.why());
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), mock.port());
    QVERIFY(socket.waitForConnected(3000));
    socket.write(requestBytes("POST", "/v1/chat/completions", {},
                              json(chatBody(QStringLiteral("x"))), false));
    QVERIFY(socket.waitForReadyRead(3000));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(socket.waitForDisconnected(3000));
    QVERIFY2(timer.elapsed() >= 150, QByteArray::number(timer.elapsed()).constData());
}

void TestMockUpstream::tls()
{
    if (!QSslSocket::supportsSsl())
        QSKIP("no TLS backend in this Qt");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString cert;
    QString key;
    QString why;
    if (!MockUpstream::makeSelfSignedCertificate(dir.path(), &cert, &key, &why))
        QSKIP(qPrintable(why));
    MockUpstream mock;
    QVERIFY2(mock.startTls(cert, key), mock.why());
    QCOMPARE(mock.baseUrl(), QStringLiteral("https://127.0.0.1:%1").arg(mock.port()));

    // A client that trusts the certificate as its CA (what the gateway's ca_file does).
    QSslSocket socket;
    QSslConfiguration config = socket.sslConfiguration();
    config.setCaCertificates(QSslCertificate::fromPath(cert));
    socket.setSslConfiguration(config);
    socket.connectToHostEncrypted(QStringLiteral("localhost"), mock.port());
    QVERIFY2(socket.waitForEncrypted(5000), qPrintable(socket.errorString()));
    socket.write(requestBytes("POST", "/v1/chat/completions", {},
                              json(chatBody(QStringLiteral("x"), true, true))));
    QByteArray in;
    while (!in.contains("data: [DONE]") && socket.waitForReadyRead(3000))
        in += socket.readAll();
    QVERIFY2(in.startsWith("HTTP/1.1 200 OK"), in.constData());
    QVERIFY(in.contains("\"total_tokens\":4"));

    // An untrusting client fails the handshake.
    QSslSocket stranger;
    stranger.connectToHostEncrypted(QStringLiteral("localhost"), mock.port());
    QVERIFY(!stranger.waitForEncrypted(5000));

    // The helper's control calls work over TLS.
    QCOMPARE(mock.lastRequest()[u"tls"].toBool(), true);
    QCOMPARE(mock.stats()[u"completed"].toInt(), 1);
}

QTEST_GUILESS_MAIN(TestMockUpstream)
#include "tst_mockupstream.moc"
