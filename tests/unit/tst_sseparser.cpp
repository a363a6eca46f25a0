// SseParser: events split exactly as they arrive, bytes kept for a verbatim relay.
#include "SseParser.h"

#include <QTest>

using namespace sluice;

class TestSseParser : public QObject
{
    Q_OBJECT

    struct Seen
    {
        QByteArray raw, name, data;
    };
    static QList<Seen> feedAll(SseParser &p, const QList<QByteArray> &pieces)
    {
        QList<Seen> out;
        for (const QByteArray &piece : pieces)
            p.feed(piece, [&](const SseParser::Event &e) {
                out.append({e.raw.toByteArray(), e.name, e.data});
            });
        return out;
    }

private slots:
    void openAiChunksAcrossReads()
    {
        SseParser p;
        const QByteArray stream = "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        // Every split point: the events must come out the same.
        for (int cut = 1; cut < stream.size(); ++cut) {
            SseParser q;
            const auto seen = feedAll(q, {stream.left(cut), stream.mid(cut)});
            QCOMPARE(seen.size(), 3);
            QCOMPARE(seen[0].data, QByteArray("{\"a\":1}"));
            QCOMPARE(seen[2].data, QByteArray("[DONE]"));
            QCOMPARE(seen[0].raw + seen[1].raw + seen[2].raw, stream);
        }
    }

    void anthropicNamedEventsAndCrlf()
    {
        SseParser p;
        const auto seen = feedAll(p, {"event: message_start\r\ndata: {\"x\":1}\r\n\r\n: comment\n",
                                      "event: ping\ndata: {}\n\n"});
        QCOMPARE(seen.size(), 2);
        QCOMPARE(seen[0].name, QByteArray("message_start"));
        QCOMPARE(seen[0].data, QByteArray("{\"x\":1}"));
        QCOMPARE(seen[1].name, QByteArray("ping"));
        QCOMPARE(seen[1].raw, QByteArray(": comment\nevent: ping\ndata: {}\n\n"));
    }

    void multiLineDataAndRemainder()
    {
        SseParser p;
        const auto seen = feedAll(p, {"data: one\ndata: two\n\ndata: unfinished"});
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen[0].data, QByteArray("one\ntwo"));
        QCOMPARE(p.takeRemainder(), QByteArray("data: unfinished"));
        QVERIFY(p.takeRemainder().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
