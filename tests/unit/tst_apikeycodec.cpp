#include "ApiKeyCodec.h"

#include <QCryptographicHash>
#include <QFile>
#include <QHash>
#include <QRegularExpression>
#include <QSet>
#include <QtTest>

using namespace sluice;

class TestApiKeyCodec : public QObject
{
    Q_OBJECT

private slots:
    void formatAndAlphabet();
    void tenThousandKeysAreUnique();
    void charactersAreUniform();
    void generationUsesSystemCsprng();
    void looksValid_data();
    void looksValid();
    void hashIsSha256();
    void displayPrefix();
    void constantTimeEquals_data();
    void constantTimeEquals();
};

void TestApiKeyCodec::formatAndAlphabet()
{
    static const QRegularExpression shape(QStringLiteral("^sk-sluice-[0-9A-Za-z]{40}$"));
    for (int i = 0; i < 100; ++i) {
        const QString key = ApiKeyCodec::generate();
        QVERIFY2(shape.match(key).hasMatch(), qPrintable(key));
        QCOMPARE(key.size(), 10 + ApiKeyCodec::RandomChars);
        QVERIFY(ApiKeyCodec::looksValid(key.toLatin1()));
    }
    QCOMPARE(QByteArray(ApiKeyCodec::Prefix), QByteArray("sk-sluice-"));
    QVERIFY(ApiKeyCodec::RandomChars >= 32);  // the issue asks for 32+ base62 characters
}

void TestApiKeyCodec::tenThousandKeysAreUnique()
{
    QSet<QString> keys;
    QSet<QString> randomParts;
    for (int i = 0; i < 10000; ++i) {
        const QString key = ApiKeyCodec::generate();
        keys.insert(key);
        randomParts.insert(key.mid(10, 16));  // even 16 of the 40 characters never collide
    }
    QCOMPARE(keys.size(), 10000);
    QCOMPARE(randomParts.size(), 10000);
}

void TestApiKeyCodec::charactersAreUniform()
{
    // 400 000 characters: about 6 452 per symbol. byte % 62 without rejection would give the
    // first 8 symbols 25% more than the others, far outside this band.
    QHash<QChar, int> counts;
    const int keys = 10000;
    for (int i = 0; i < keys; ++i) {
        const QString key = ApiKeyCodec::generate();
        for (qsizetype j = 10; j < key.size(); ++j)
            ++counts[key.at(j)];
    }
    QCOMPARE(counts.size(), 62);
    const double expected = double(keys) * ApiKeyCodec::RandomChars / 62;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        const double ratio = it.value() / expected;
        QVERIFY2(ratio > 0.93 && ratio < 1.07,
                 qPrintable(QStringLiteral("'%1' appears %2 times, expected about %3")
                                .arg(it.key())
                                .arg(it.value())
                                .arg(expected)));
    }
}

void TestApiKeyCodec::generationUsesSystemCsprng()
{
    // The entropy source is not observable from outside; check the code path instead: keys
    // come from QRandomGenerator::system() (the OS CSPRNG), never from global() or rand().
    QFile source(QStringLiteral(SLUICE_SOURCE_DIR "/core/identity/ApiKeyCodec.cpp"));
    QVERIFY2(source.open(QIODevice::ReadOnly), qPrintable(source.fileName()));
    const QString code = QString::fromUtf8(source.readAll());
    const qsizetype begin = code.indexOf(QStringLiteral("QString ApiKeyCodec::generate()"));
    QVERIFY(begin >= 0);
    const qsizetype end = code.indexOf(QStringLiteral("\n}\n"), begin);
    const QString body = code.mid(begin, end - begin);
    QVERIFY2(body.contains(QStringLiteral("QRandomGenerator::system()")), qPrintable(body));
    for (const char *forbidden : {"global()", "rand(", "securelySeeded", "QRandomGenerator rng"})
        QVERIFY2(!body.contains(QLatin1String(forbidden)), forbidden);
}

void TestApiKeyCodec::looksValid_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("valid");
    const QByteArray good = ApiKeyCodec::generate().toLatin1();
    QTest::newRow("generated") << good << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("prefix only") << QByteArray("sk-sluice-") << false;
    QTest::newRow("one short") << good.left(good.size() - 1) << false;
    QTest::newRow("one long") << good + "a" << false;
    QTest::newRow("other prefix") << QByteArray("sk-proj-") + good.mid(8) << false;
    QTest::newRow("upper-case prefix") << QByteArray("SK-SLUICE-") + good.mid(10) << false;
    QByteArray dash = good;
    dash[20] = '-';
    QTest::newRow("dash inside") << dash << false;
    QByteArray nonAscii = good;
    nonAscii[30] = char(0xc3);
    QTest::newRow("non-ASCII byte") << nonAscii << false;
    QByteArray nul = good;
    nul[49] = '\0';
    QTest::newRow("NUL byte") << nul << false;
}

void TestApiKeyCodec::looksValid()
{
    QFETCH(QByteArray, key);
    QFETCH(bool, valid);
    QCOMPARE(ApiKeyCodec::looksValid(key), valid);
}

void TestApiKeyCodec::hashIsSha256()
{
    const QString key = ApiKeyCodec::generate();
    const QByteArray h = ApiKeyCodec::hash(key.toLatin1());
    QCOMPARE(h.size(), 32);
    QCOMPARE(h, QCryptographicHash::hash(key.toLatin1(), QCryptographicHash::Sha256));
    QCOMPARE(ApiKeyCodec::hash(key.toLatin1()), h);  // deterministic
    QVERIFY(ApiKeyCodec::hash(ApiKeyCodec::generate().toLatin1()) != h);
    // Known vector: SHA-256("abc").
    QCOMPARE(ApiKeyCodec::hash("abc").toHex(),
             QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

void TestApiKeyCodec::displayPrefix()
{
    const QString key = ApiKeyCodec::generate();
    const QString prefix = ApiKeyCodec::displayPrefix(key);
    QCOMPARE(prefix.size(), 14);
    QCOMPARE(prefix, key.left(14));
    QVERIFY(prefix.startsWith(QLatin1String("sk-sluice-")));
    QVERIFY(!ApiKeyCodec::looksValid(prefix.toLatin1()));
}

void TestApiKeyCodec::constantTimeEquals_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("equal");
    const QByteArray h = ApiKeyCodec::hash("one");
    QByteArray first = h;
    first[0] = char(first[0] ^ 1);
    QByteArray last = h;
    last[31] = char(last[31] ^ 0x80);
    QTest::newRow("same") << h << QByteArray(h) << true;
    QTest::newRow("first byte differs") << h << first << false;
    QTest::newRow("last byte differs") << h << last << false;
    QTest::newRow("other hash") << h << ApiKeyCodec::hash("two") << false;
    QTest::newRow("shorter") << h << h.left(31) << false;
    QTest::newRow("prefix of other") << h.left(16) << h << false;
    QTest::newRow("both empty") << QByteArray() << QByteArray() << true;
    QTest::newRow("empty vs byte") << QByteArray() << QByteArray("\0", 1) << false;
    QTest::newRow("high bytes") << QByteArray("\xff\xfe") << QByteArray("\xff\xfe") << true;
}

void TestApiKeyCodec::constantTimeEquals()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, equal);
    QCOMPARE(ApiKeyCodec::constantTimeEquals(a, b), equal);
    QCOMPARE(ApiKeyCodec::constantTimeEquals(b, a), equal);
}

QTEST_GUILESS_MAIN(TestApiKeyCodec)
#include "tst_apikeycodec.moc"
