// TrustedProxies: X-Forwarded-For is believed only from configured proxies.
#include "TrustedProxies.h"

#include <QTest>

using namespace sluice;

class TestTrustedProxies : public QObject
{
    Q_OBJECT
private slots:
    void parse()
    {
        QString error;
        QVERIFY(TrustedProxies::parse({"10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"}, &error));
        QVERIFY(!TrustedProxies::parse({"10.0.0.0/33"}, &error));
        QVERIFY(error.contains(QLatin1String("10.0.0.0/33")));
        QVERIFY(!TrustedProxies::parse({"proxy.example"}, &error));
        QVERIFY(TrustedProxies::parse({}, &error)->isEmpty());
    }

    void clientAddress_data()
    {
        QTest::addColumn<QStringList>("trusted");
        QTest::addColumn<QByteArray>("peer");
        QTest::addColumn<QByteArray>("xff");
        QTest::addColumn<QByteArray>("expected");
        const QStringList lb{"10.0.0.0/8"};
        QTest::newRow("no proxies configured: header ignored")
            << QStringList{} << QByteArray("10.1.1.1") << QByteArray("1.2.3.4")
            << QByteArray("10.1.1.1");
        QTest::newRow("untrusted peer: header ignored")
            << lb << QByteArray("203.0.113.9") << QByteArray("1.2.3.4")
            << QByteArray("203.0.113.9");
        QTest::newRow("trusted peer: client from header")
            << lb << QByteArray("10.0.0.5") << QByteArray("198.51.100.7")
            << QByteArray("198.51.100.7");
        QTest::newRow("forged left entries are skipped")
            << lb << QByteArray("10.0.0.5") << QByteArray("6.6.6.6, 198.51.100.7, 10.0.0.9")
            << QByteArray("198.51.100.7");
        QTest::newRow("garbage stops the walk")
            << lb << QByteArray("10.0.0.5") << QByteArray("junk, 10.0.0.9")
            << QByteArray("10.0.0.9");
        QTest::newRow("no header")
            << lb << QByteArray("10.0.0.5") << QByteArray() << QByteArray("10.0.0.5");
        QTest::newRow("v4-mapped peer") << lb << QByteArray("::ffff:10.0.0.5")
                                        << QByteArray("198.51.100.7") << QByteArray("198.51.100.7");
    }
    void clientAddress()
    {
        QFETCH(QStringList, trusted);
        QFETCH(QByteArray, peer);
        QFETCH(QByteArray, xff);
        QFETCH(QByteArray, expected);
        QString error;
        const auto proxies = TrustedProxies::parse(trusted, &error);
        QVERIFY2(proxies, qPrintable(error));
        QCOMPARE(proxies->clientAddress(peer, xff), expected);
    }
};

QTEST_GUILESS_MAIN(TestTrustedProxies)
#include "tst_trustedproxies.moc"
