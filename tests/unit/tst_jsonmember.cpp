// JsonMember: one top-level member of a JSON object found without parsing the rest, never
// fooled by the same name inside strings or nested objects.
#include "JsonMember.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace sluice;

class TestJsonMember : public QObject
{
    Q_OBJECT

private slots:
    void finds_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QByteArray>("expected");  // "<null>" for none
        QTest::newRow("last member") << QByteArray(
                                            "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":"
                                            "\"hi\"}}],\"usage\":{\"prompt_tokens\":3}}")
                                     << QByteArray("{\"prompt_tokens\":3}");
        QTest::newRow("first member, spaces")
            << QByteArray("{ \"usage\" : { \"a\" : [1, {\"b\": \"}\"}] } , \"z\": 1 }\n")
            << QByteArray("{ \"a\" : [1, {\"b\": \"}\"}] }");
        QTest::newRow("inside a string is not a member")
            << QByteArray("{\"content\":\"\\\"usage\\\":{\\\"prompt_tokens\\\":9}\",\"n\":1}")
            << QByteArray("<null>");
        QTest::newRow("nested is not top level")
            << QByteArray("{\"response\":{\"usage\":{\"input_tokens\":5}}}")
            << QByteArray("<null>");
        QTest::newRow("escaped quote before a brace in a string")
            << QByteArray("{\"t\":\"a\\\\\\\"}{\",\"usage\":{\"x\":1}}") << QByteArray("{\"x\":1}");
        QTest::newRow("null value") << QByteArray("{\"usage\":null}") << QByteArray("null");
        QTest::newRow("repeated: the last, as QJsonDocument")
            << QByteArray("{\"usage\":{\"a\":1},\"usage\":{\"a\":2}}") << QByteArray("{\"a\":2}");
        QTest::newRow("truncated") << QByteArray("{\"usage\":{\"a\":1}") << QByteArray("<null>");
        QTest::newRow("cut in a string")
            << QByteArray("{\"usage\":{\"a\":1},\"b\":\"x") << QByteArray("<null>");
        QTest::newRow("not an object") << QByteArray("[{\"usage\":{}}]") << QByteArray("<null>");
        QTest::newRow("empty") << QByteArray() << QByteArray("<null>");
        QTest::newRow("empty object") << QByteArray("{}") << QByteArray("<null>");
    }
    void finds()
    {
        QFETCH(QByteArray, json);
        QFETCH(QByteArray, expected);
        const QByteArrayView got = JsonMember::topLevel(json, "usage");
        if (expected == "<null>")
            QVERIFY2(got.isNull(), got.toByteArray().constData());
        else
            QCOMPARE(got.toByteArray(), expected);
    }

    // Whatever it finds is what QJsonDocument finds, on a real-sized answer.
    void agreesWithQJsonDocument()
    {
        QByteArray json = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[";
        for (int i = 0; i < 50; ++i)
            json +=
                "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"usage: "
                "{\\\"no\\\"}\"}},";
        json +=
            "{\"index\":1}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,"
            "\"prompt_tokens_details\":{\"cached_tokens\":5}},\"system_fingerprint\":\"fp\"}";
        const QJsonObject whole = QJsonDocument::fromJson(json).object();
        QVERIFY(!whole.isEmpty());
        const QByteArrayView usage = JsonMember::topLevel(json, "usage");
        QCOMPARE(QJsonDocument::fromJson(usage.toByteArray()).object(),
                 whole.value(QLatin1String("usage")).toObject());
    }
};

QTEST_APPLESS_MAIN(TestJsonMember)
#include "tst_jsonmember.moc"
