#include "MockUpstream.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QSslSocket>

namespace sluice::test {

MockUpstream::MockUpstream(QString binary) : m_process(std::move(binary)) {}

bool MockUpstream::start(const QStringList &extraArguments, int timeoutMs)
{
    m_tls = false;
    return launch(QStringList{QStringLiteral("--port"), QStringLiteral("0")} + extraArguments,
                  timeoutMs);
}

bool MockUpstream::startTls(const QString &certFile, const QString &keyFile,
                            const QStringList &extraArguments, int timeoutMs)
{
    m_tls = true;
    return launch(QStringList{QStringLiteral("--port"), QStringLiteral("0"),
                              QStringLiteral("--tls"), certFile, keyFile} +
                      extraArguments,
                  timeoutMs);
}

bool MockUpstream::launch(const QStringList &arguments, int timeoutMs)
{
    m_error.clear();
    m_port = 0;
    if (!m_process.start(arguments, timeoutMs))
        return false;
    static const QRegularExpression re(QStringLiteral(R"(mock listening on (\S+):(\d+))"));
    if (!m_process.waitForLog(re, timeoutMs))
        return false;
    m_port = quint16(re.match(m_process.log()).captured(2).toUInt());
    return m_port != 0;
}

void MockUpstream::stop()
{
    m_process.kill();
    m_process.waitForExit(5000);
    m_port = 0;
}

QString MockUpstream::baseUrl() const
{
    return QStringLiteral("%1://127.0.0.1:%2")
        .arg(m_tls ? QStringLiteral("https") : QStringLiteral("http"))
        .arg(m_port);
}

HttpReply MockUpstream::control(const QByteArray &method, const QByteArray &target, int timeoutMs)
{
    if (!m_tls)
        return httpRequest(m_port, method, target, {}, {}, timeoutMs);

    // Over TLS: one request on a fresh connection, read until the mock closes it.
    HttpReply reply;
    QSslSocket socket;
    QSslConfiguration config = socket.sslConfiguration();
    config.setPeerVerifyMode(QSslSocket::VerifyNone);
    socket.setSslConfiguration(config);
    socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), m_port);
    if (!socket.waitForEncrypted(timeoutMs)) {
        reply.error = QStringLiteral("TLS connection failed: ") + socket.errorString();
        return reply;
    }
    socket.write(method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                 QByteArray::number(m_port) + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    QByteArray in;
    const QDeadlineTimer deadline(timeoutMs);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(100))));
        in += socket.readAll();
    }
    in += socket.readAll();
    const qsizetype headEnd = in.indexOf("\r\n\r\n");
    if (headEnd < 0) {
        reply.error = QStringLiteral("no complete answer: ") + QString::fromLatin1(in.left(300));
        return reply;
    }
    const QList<QByteArray> lines = in.left(headEnd).split('\n');
    reply.status = lines.first().split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            reply.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    reply.body = in.mid(headEnd + 4);
    return reply;
}

QJsonArray MockUpstream::requests(int limit)
{
    QByteArray target = "/mock/requests";
    if (limit > 0)
        target += "?limit=" + QByteArray::number(limit);
    const HttpReply reply = control("GET", target);
    const QJsonDocument doc = QJsonDocument::fromJson(reply.body);
    if (reply.status != 200 || !doc.isArray()) {
        m_error = QStringLiteral("GET /mock/requests: ") + QString::fromUtf8(reply.describe());
        return {};
    }
    return doc.array();
}

QJsonObject MockUpstream::lastRequest()
{
    const QJsonArray list = requests(1);
    return list.isEmpty() ? QJsonObject() : list.last().toObject();
}

QJsonObject MockUpstream::stats()
{
    const HttpReply reply = control("GET", "/mock/stats");
    if (reply.status != 200) {
        m_error = QStringLiteral("GET /mock/stats: ") + QString::fromUtf8(reply.describe());
        return {};
    }
    return reply.json();
}

bool MockUpstream::reset()
{
    const HttpReply reply = control("POST", "/mock/reset");
    if (reply.status != 200) {
        m_error = QStringLiteral("POST /mock/reset: ") + QString::fromUtf8(reply.describe());
        return false;
    }
    return true;
}

QByteArray MockUpstream::why()
{
    QByteArray text;
    if (!m_error.isEmpty())
        text = m_error.toUtf8() + '\n';
    return text + m_process.why();
}

bool MockUpstream::makeSelfSignedCertificate(const QString &dir, QString *certFile,
                                             QString *keyFile, QString *why)
{
    *certFile = QDir(dir).filePath(QStringLiteral("mock-cert.pem"));
    *keyFile = QDir(dir).filePath(QStringLiteral("mock-key.pem"));
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(
        QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
         QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"),
         QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost"),
         QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1"),
         QStringLiteral("-keyout"), *keyFile, QStringLiteral("-out"), *certFile});
    const bool ran = openssl.waitForStarted(5000) && openssl.waitForFinished(30000);
    if (ran && openssl.exitStatus() == QProcess::NormalExit && openssl.exitCode() == 0)
        return true;
    if (why) {
        *why = QStringLiteral("openssl req failed: %1 %2")
                   .arg(openssl.errorString(), QString::fromLocal8Bit(openssl.readAll()));
    }
    return false;
}

}  // namespace sluice::test
