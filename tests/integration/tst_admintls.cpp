// The admin listener over TLS: the real sluice binary with --admin-tls-certificate/-key bound
// beyond loopback, spoken to with QNetworkAccessManager over HTTPS (trusting the test's own
// self-signed certificate), a plaintext client and an untrusting client refused, the public
// listener still plain HTTP, and every bad TLS setting refused at start with a clear exit code.

#include "GatewayProcess.h"
#include "HttpTestClient.h"
#include "MockUpstream.h"
#include "TestFixtures.h"

#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <memory>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;
const QByteArray kToken = "admin-tls-test-token-0123456789abcdef";

struct HttpsAnswer
{
    int status = 0;  // 0: no HTTP answer (see error)
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorText;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// One HTTPS request through a shared manager (so keep-alive connections are reused).
HttpsAnswer https(QNetworkAccessManager &network, const QList<QSslCertificate> &trusted,
                  const QByteArray &verb, const QString &url, const QByteArray &body = {})
{
    QNetworkRequest request{QUrl(url)};
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.addCaCertificates(trusted);
    request.setSslConfiguration(tls);
    request.setRawHeader("Authorization", "Bearer " + kToken);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(10000);
    QNetworkReply *reply = body.isEmpty() ? network.sendCustomRequest(request, verb)
                                          : network.sendCustomRequest(request, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    HttpsAnswer a;
    a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    a.error = reply->error();
    a.errorText = reply->errorString();
    a.body = reply->readAll();
    reply->deleteLater();
    return a;
}

QByteArray describe(const HttpsAnswer &a)
{
    return QByteArray::number(a.status) + ' ' + a.errorText.toUtf8() + ' ' + a.body.left(300);
}

bool runOpenssl(const QStringList &arguments)
{
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(QStringLiteral("openssl"), arguments);
    return openssl.waitForFinished(30000) && openssl.exitStatus() == QProcess::NormalExit &&
           openssl.exitCode() == 0;
}

}  // namespace

class TestAdminTls : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void servesHttpsOnly();
    void refusesBadSettings_data();
    void refusesBadSettings();

private:
    QProcessEnvironment environment() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_cert;
    QString m_key;
};

void TestAdminTls::initTestCase()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QString why;
    QVERIFY2(MockUpstream::makeSelfSignedCertificate(m_dir->path(), &m_cert, &m_key, &why),
             qPrintable(why));
}

QProcessEnvironment TestAdminTls::environment() const
{
    QProcessEnvironment env = GatewayProcess::cleanEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir->path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir->path() + QStringLiteral("/xdg"));
    env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(kToken));
    return env;
}

void TestAdminTls::servesHttpsOnly()
{
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    // All interfaces: allowed because TLS is configured. The test reaches it on 127.0.0.1,
    // which the certificate names.
    QVERIFY2(gw.start({QStringLiteral("--headless"), QStringLiteral("--listen=127.0.0.1:0"),
                       QStringLiteral("--admin-listen=*:0"), QStringLiteral("--data-dir"),
                       m_dir->path() + QStringLiteral("/data"),
                       QStringLiteral("--admin-tls-certificate"), m_cert,
                       QStringLiteral("--admin-tls-key"), m_key}),
             gw.why());
    static const QRegularExpression adminLine(
        QStringLiteral(R"(admin API listening on 0\.0\.0\.0:(\d+) \(https\))"));
    QVERIFY2(gw.waitForListening(kStartTimeoutMs) && gw.waitForLog(adminLine, kStartTimeoutMs) &&
                 gw.waitForStartupComplete(kStartTimeoutMs),
             gw.why());
    const quint16 port = quint16(adminLine.match(gw.log()).captured(1).toUInt());
    QVERIFY(port != 0);
    const QString base = QStringLiteral("https://127.0.0.1:%1/admin/v1").arg(port);
    const QList<QSslCertificate> trusted = QSslCertificate::fromPath(m_cert);
    QCOMPARE(trusted.size(), 1);

    // Reads and edits over HTTPS, many on one keep-alive connection.
    QNetworkAccessManager network;
    HttpsAnswer a = https(network, trusted, "GET", base + QStringLiteral("/overview"));
    QVERIFY2(a.status == 200, describe(a));
    QCOMPARE(a.json().value(QStringLiteral("admin_tls")).toBool(), true);
    a = https(network, trusted, "POST", base + QStringLiteral("/users"),
              R"({"name":"tls-user","email":"tls@example.com"})");
    QVERIFY2(a.status == 201, describe(a));
    for (int i = 0; i < 20; ++i) {
        a = https(network, trusted, "GET", base + QStringLiteral("/users?limit=5"));
        QVERIFY2(a.status == 200, describe(a));
    }
    QCOMPARE(a.json().value(QStringLiteral("data")).toArray().size(), 1);
    // A body larger than a TLS record arrives whole (and is judged on its content).
    const QByteArray longName(300 * 1024, 'n');
    a = https(network, trusted, "POST", base + QStringLiteral("/users"),
              "{\"name\":\"" + longName + "\"}");
    QVERIFY2(a.status == 400, describe(a));
    // Without the token: the API's own 401, over TLS.
    QNetworkRequest bare{QUrl(base + QStringLiteral("/users"))};
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.addCaCertificates(trusted);
    bare.setSslConfiguration(tls);
    QNetworkReply *reply = network.get(bare);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(finished.wait(10000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
    delete reply;

    // A client that does not trust the certificate stops at the handshake.
    QNetworkAccessManager untrusting;
    a = https(untrusting, {}, "GET", base + QStringLiteral("/overview"));
    QCOMPARE(a.status, 0);
    QVERIFY2(a.error == QNetworkReply::SslHandshakeFailedError, describe(a));

    // Plain HTTP on the HTTPS port gets no HTTP answer: the connection is closed.
    QTcpSocket plain;
    plain.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(plain.waitForConnected(5000));
    plain.write("GET /admin/v1/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                "\r\n\r\n");
    QByteArray received;
    QElapsedTimer timer;
    timer.start();
    while (plain.state() == QAbstractSocket::ConnectedState && timer.elapsed() < 10000) {
        plain.waitForReadyRead(200);
        received += plain.readAll();
    }
    QVERIFY2(plain.state() != QAbstractSocket::ConnectedState, "plaintext connection kept open");
    QVERIFY2(!received.startsWith("HTTP/"), received.constData());
    QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("TLS handshake with \\S+ failed"))),
             gw.why());

    // The client API is unaffected: plain HTTP.
    QCOMPARE(httpGet(gw.port(), "/health/live").status, 200);

    // The token never reaches the log; SIGTERM with an idle TLS keep-alive open exits cleanly.
    QVERIFY(!gw.log().contains(QString::fromLatin1(kToken)));
    gw.terminate();
    QVERIFY2(gw.waitForExit(15000) && gw.exitedWith(0), gw.why());
}

void TestAdminTls::refusesBadSettings_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const QString dir = m_dir->path();
    const QString ecKey = dir + QStringLiteral("/ec-key.pem");
    QVERIFY(runOpenssl({QStringLiteral("ecparam"), QStringLiteral("-genkey"),
                        QStringLiteral("-name"), QStringLiteral("prime256v1"),
                        QStringLiteral("-noout"), QStringLiteral("-out"), ecKey}));
    const QString encrypted = dir + QStringLiteral("/encrypted-key.pem");
    QVERIFY(runOpenssl({QStringLiteral("pkey"), QStringLiteral("-in"), m_key,
                        QStringLiteral("-aes256"), QStringLiteral("-passout"),
                        QStringLiteral("pass:secret"), QStringLiteral("-out"), encrypted}));
    const QString notPem = dir + QStringLiteral("/not-pem.txt");
    QVERIFY(writeTextFile(notPem, "not a certificate\n"));
    auto tlsArgs = [](const QString &cert, const QString &key) {
        return QStringList{QStringLiteral("--admin-listen=*:0"),
                           QStringLiteral("--admin-tls-certificate"), cert,
                           QStringLiteral("--admin-tls-key"), key};
    };

    QTest::newRow("beyond loopback without TLS")
        << QStringList{QStringLiteral("--admin-listen=*:0")} << 2
        << QStringLiteral("for --admin-listen (from command line): expected a loopback address");
    QTest::newRow("certificate without key")
        << QStringList{QStringLiteral("--admin-tls-certificate"), m_cert} << 2
        << QStringLiteral("admin_tls_key set as well");
    QTest::newRow("missing certificate file")
        << tlsArgs(dir + QStringLiteral("/nope.pem"), m_key) << 1
        << QStringLiteral("admin API TLS: cannot read %1/nope.pem").arg(dir);
    QTest::newRow("not a certificate")
        << tlsArgs(notPem, m_key) << 1 << QStringLiteral("no PEM certificate in %1").arg(notPem);
    QTest::newRow("not a key") << tlsArgs(m_cert, notPem) << 1
                               << QStringLiteral("no unencrypted PEM RSA or EC private key in");
    QTest::newRow("encrypted key")
        << tlsArgs(m_cert, encrypted) << 1 << QStringLiteral("%1 is encrypted").arg(encrypted);
    QTest::newRow("key of another kind")
        << tlsArgs(m_cert, ecKey) << 1
        << QStringLiteral("does not belong to the certificate in %1").arg(m_cert);
}

void TestAdminTls::refusesBadSettings()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment());
    QVERIFY2(gw.start(QStringList{
                          QStringLiteral("--headless"), QStringLiteral("--listen=127.0.0.1:0"),
                          QStringLiteral("--data-dir"), m_dir->path() + QStringLiteral("/data")} +
                      arguments),
             gw.why());
    QVERIFY2(gw.waitForExit(kStartTimeoutMs), gw.why());
    QVERIFY2(gw.exitedWith(exitCode), gw.why());
    QVERIFY2(gw.log().contains(message), gw.why());
    // Nothing was served: no admin listener line.
    QVERIFY2(!gw.log().contains(QStringLiteral("admin API listening")), gw.why());
}

QTEST_GUILESS_MAIN(TestAdminTls)
#include "tst_admintls.moc"
