// UpstreamConfigLoader and ModelGlob: [upstream.NAME] sections, defaults, env shortcuts, routing.
#include "ModelGlob.h"
#include "TokenUsage.h"
#include "UpstreamConfig.h"

#include <QJsonDocument>
#include <QTest>

using namespace sluice;

class TestUpstreamConfig : public QObject
{
    Q_OBJECT

    static QMap<QString, QVariant> keys(std::initializer_list<std::pair<const char *, QVariant>> kv)
    {
        QMap<QString, QVariant> m;
        for (const auto &[k, v] : kv)
            m.insert(QString::fromLatin1(k), v);
        return m;
    }

private slots:
    void globs()
    {
        QVERIFY(ModelGlob::matches(u"gpt-*", u"gpt-4o-mini"));
        QVERIFY(ModelGlob::matches(u"*", u"anything"));
        QVERIFY(ModelGlob::matches(u"o?-mini", u"o3-mini"));
        QVERIFY(!ModelGlob::matches(u"o?-mini", u"o10-mini"));
        QVERIFY(ModelGlob::matches(u"claude-*-haiku*", u"claude-3-5-haiku-latest"));
        QVERIFY(!ModelGlob::matches(u"gpt-*", u"claude-3"));
        QVERIFY(!ModelGlob::matches(u"gpt", u"gpt-4"));
        QVERIFY(ModelGlob::matchesAny({QStringLiteral("x"), QStringLiteral("o*")}, u"o1"));
    }

    void defaultsWhenNothingConfigured()
    {
        QString error;
        const auto list = UpstreamConfigLoader::load({}, {}, &error);
        QVERIFY2(list, qPrintable(error));
        QCOMPARE(list->size(), 2);
        const UpstreamConfig &anthropic =
            list->at(0).name == QLatin1String("anthropic") ? list->at(0) : list->at(1);
        const UpstreamConfig &openai =
            list->at(0).name == QLatin1String("openai") ? list->at(0) : list->at(1);
        QVERIFY(openai.endpoint.tls);
        QCOMPARE(openai.endpoint.host, QStringLiteral("api.openai.com"));
        QCOMPARE(openai.endpoint.port, quint16(443));
        QCOMPARE(openai.endpoint.basePath, QByteArray("/v1"));
        QVERIFY(anthropic.isAnthropic());
        QCOMPARE(anthropic.endpoint.basePath, QByteArray());
    }

    void sectionsAndEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("MY_KEY"), QStringLiteral("sk-from-env"));
        env.insert(QStringLiteral("SLUICE_ANTHROPIC_API_KEY"), QStringLiteral("sk-ant"));
        UpstreamConfigLoader::IniSections ini;
        ini.insert(
            QStringLiteral("upstream.local"),
            keys({{"kind", "openai-compatible"},
                  {"base_url", "http://127.0.0.1:9000/v1/"},
                  {"api_key_env", "MY_KEY"},
                  {"models", QStringList{QStringLiteral("llama-*"), QStringLiteral("gpt-*")}},
                  {"priority", "5"},
                  {"timeout_ms", "1500"},
                  {"max_connections", "8"},
                  {"requests_per_minute", "500"},
                  {"tokens_per_minute", "90000"}}));
        ini.insert(QStringLiteral("upstream.backup"),
                   keys({{"base_url", "https://backup.example/v1"},
                         {"models", "gpt-*"},
                         {"priority", "10"}}));
        QString error;
        const auto list = UpstreamConfigLoader::load(ini, env, &error);
        QVERIFY2(list, qPrintable(error));
        // No built-in openai (sections exist, no shortcut); anthropic asked for by its key.
        QCOMPARE(list->size(), 3);
        QCOMPARE(list->at(0).name, QStringLiteral("local"));
        QCOMPARE(list->at(0).apiKey, QByteArray("sk-from-env"));
        QCOMPARE(list->at(0).endpoint.basePath, QByteArray("/v1"));
        QCOMPARE(list->at(0).endpoint.port, quint16(9000));
        QCOMPARE(list->at(0).endpoint.firstByteTimeoutMs, 1500);
        QCOMPARE(list->at(0).endpoint.maxConnections, 8);
        QCOMPARE(list->at(0).requestsPerMinute, 500);
        QCOMPARE(list->at(0).tokensPerMinute, 90000);
        QCOMPARE(list->at(1).requestsPerMinute, 0);  // no quota of its own: unlimited
        QCOMPARE(list->at(1).name, QStringLiteral("backup"));
        QCOMPARE(list->at(2).name, QStringLiteral("anthropic"));
        QCOMPARE(list->at(2).apiKey, QByteArray("sk-ant"));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QVariant>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("kind") << "kind" << QVariant("grpc") << "openai, anthropic";
        QTest::newRow("url") << "base_url" << QVariant("ftp://x") << "http:// or https://";
        QTest::newRow("timeout") << "timeout_ms" << QVariant("soon") << "an integer";
        QTest::newRow("unknown") << "colour" << QVariant("blue") << "unknown key";
        QTest::newRow("rpm") << "requests_per_minute" << QVariant("-1") << "a non-negative integer";
        QTest::newRow("tpm") << "tokens_per_minute" << QVariant("lots") << "a non-negative integer";
        QTest::newRow("env") << "api_key_env" << QVariant("NOT_SET_ANYWHERE") << "not set";
    }
    void errors()
    {
        QFETCH(QString, key);
        QFETCH(QVariant, value);
        QFETCH(QString, expected);
        UpstreamConfigLoader::IniSections ini;
        QMap<QString, QVariant> k{{key, value}};
        ini.insert(QStringLiteral("upstream.x"), k);
        QString error;
        QVERIFY(!UpstreamConfigLoader::load(ini, {}, &error));
        QVERIFY2(error.contains(expected) && error.contains(QLatin1String("upstream.x")),
                 qPrintable(error));
    }

    void tokenUsageShapes()
    {
        TokenUsage openai;
        openai.merge(QJsonDocument::fromJson(R"({"prompt_tokens":11,"completion_tokens":7,
            "prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}})")
                         .object());
        QVERIFY(openai.found);
        QCOMPARE(openai.prompt, 11);
        QCOMPARE(openai.completion, 7);
        QCOMPARE(openai.cached, 3);
        QCOMPARE(openai.reasoning, 2);
        TokenUsage anthropic;  // message_start, then message_delta
        anthropic.merge(QJsonDocument::fromJson(R"({"input_tokens":25,"output_tokens":1,
            "cache_creation_input_tokens":4,"cache_read_input_tokens":6})")
                            .object());
        anthropic.merge(QJsonDocument::fromJson(R"({"output_tokens":15})").object());
        QCOMPARE(anthropic.prompt, 25);
        QCOMPARE(anthropic.completion, 15);
        QCOMPARE(anthropic.cached, 6);
        QCOMPARE(anthropic.cacheWrite, 4);
        TokenUsage none;
        none.merge({});
        QVERIFY(!none.found);
    }
};

QTEST_GUILESS_MAIN(TestUpstreamConfig)
#include "tst_upstreamconfig.moc"
