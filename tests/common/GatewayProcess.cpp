#include "GatewayProcess.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTest>
#include <QTimer>
#include <functional>

namespace sluice::test {

// ---- GatewayProcess ------------------------------------------------------------------------

GatewayProcess::GatewayProcess(QString binary)
    : m_binary(std::move(binary)), m_env(cleanEnvironment())
{}

GatewayProcess::~GatewayProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    // Failure messages carry only the end of the log (QtTest cuts them): the whole of it here.
    if (QTest::currentTestFailed() && !m_binary.isEmpty()) {
        collect();
        qInfo().noquote() << "--- full log of" << m_process.program()
                          << m_process.arguments().join(u' ')
                          << "---\n" + QString::fromUtf8(m_log) + QString::fromUtf8(m_output);
    }
}

QProcessEnvironment GatewayProcess::cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QStringList keys = env.keys();
    for (const QString &key : keys) {
        if (key.startsWith(QLatin1String("SLUICE_")))
            env.remove(key);
    }
    return env;
}

QProcessEnvironment GatewayProcess::dashboardEnvironment(const QString &configHome)
{
    QProcessEnvironment env = cleanEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("SLUICE_DASHBOARD_DRIVER"), QStringLiteral("stdin"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome);
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    return env;
}

QString GatewayProcess::driverCommand(const QByteArray &line, int timeoutMs)
{
    writeInput(line + '\n');
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs) {
        const QStringList replies = output().split(u'\n').filter(QStringLiteral("driver: "));
        if (replies.size() > m_driverReplies)
            return replies.at(m_driverReplies++).section(QStringLiteral("driver: "), 1);
        QTest::qWait(50);
    }
    return QStringLiteral("timeout waiting for: ") + QString::fromUtf8(line);
}

bool GatewayProcess::start(const QStringList &arguments, int timeoutMs)
{
    m_log.clear();
    m_output.clear();
    m_driverReplies = 0;
    m_host.clear();
    m_port = 0;
    m_error.clear();
    m_process.setProgram(m_binary);
    m_process.setArguments(arguments);
    m_process.setProcessEnvironment(m_env);
    if (!m_workingDirectory.isEmpty())
        m_process.setWorkingDirectory(m_workingDirectory);
    m_process.setProcessChannelMode(m_merged ? QProcess::MergedChannels
                                             : QProcess::SeparateChannels);
    m_process.setReadChannel(m_merged ? QProcess::StandardOutput : QProcess::StandardError);
    m_process.start(m_writableInput ? QIODevice::ReadWrite : QIODevice::ReadOnly);
    if (!m_process.waitForStarted(timeoutMs)) {
        fail(QStringLiteral("cannot start %1: %2").arg(m_binary, m_process.errorString()));
        return false;
    }
    return true;
}

void GatewayProcess::collect()
{
    if (m_merged) {
        m_log += m_process.readAllStandardOutput();
    } else {
        m_log += m_process.readAllStandardError();
        m_output += m_process.readAllStandardOutput();
    }
}

bool GatewayProcess::waitForLog(const QRegularExpression &pattern, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        collect();
        if (pattern.match(QString::fromUtf8(m_log)).hasMatch())
            return true;
        if (m_process.state() == QProcess::NotRunning) {
            fail(QStringLiteral("the process exited (status %1, code %2) before its log matched %3")
                     .arg(m_process.exitStatus() == QProcess::NormalExit ? "normal" : "crashed")
                     .arg(m_process.exitCode())
                     .arg(pattern.pattern()));
            return false;
        }
        if (deadline.hasExpired()) {
            fail(QStringLiteral("no log line matched %1 within %2 ms")
                     .arg(pattern.pattern())
                     .arg(timeoutMs));
            return false;
        }
        m_process.waitForReadyRead(int(qBound(qint64(1), deadline.remainingTime(), qint64(100))));
    }
}

bool GatewayProcess::waitForListening(int timeoutMs)
{
    static const QRegularExpression re(
        QStringLiteral(R"(listening on (\S+):(\d+) with \d+ workers)"));
    if (!waitForLog(re, timeoutMs))
        return false;
    const QRegularExpressionMatch m = re.match(QString::fromUtf8(m_log));
    m_host = m.captured(1);
    if (m_host.startsWith(u'[') && m_host.endsWith(u']'))
        m_host = m_host.mid(1, m_host.size() - 2);
    m_port = quint16(m.captured(2).toUInt());
    return m_port != 0;
}

bool GatewayProcess::waitForStartupComplete(int timeoutMs)
{
    static const QRegularExpression re(QStringLiteral("startup complete"));
    return waitForLog(re, timeoutMs);
}

void GatewayProcess::terminate()
{
    m_process.terminate();
}

void GatewayProcess::kill()
{
    m_process.kill();
}

bool GatewayProcess::waitForExit(int timeoutMs)
{
    if (m_process.state() != QProcess::NotRunning)
        m_process.waitForFinished(timeoutMs);
    collect();
    if (m_process.state() != QProcess::NotRunning) {
        fail(QStringLiteral("still running after %1 ms").arg(timeoutMs));
        return false;
    }
    return true;
}

bool GatewayProcess::exitedWith(int code) const
{
    return m_process.state() == QProcess::NotRunning &&
           m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == code;
}

QString GatewayProcess::log()
{
    collect();
    return QString::fromUtf8(m_log);
}

QStringList GatewayProcess::logLines()
{
    return log().split(u'\n', Qt::SkipEmptyParts);
}

QString GatewayProcess::output()
{
    collect();
    return QString::fromUtf8(m_output);
}

QByteArray GatewayProcess::why()
{
    collect();
    QByteArray text = m_error.toUtf8();
    if (m_process.state() == QProcess::NotRunning && m_process.error() != QProcess::FailedToStart)
        text += QByteArray(" [exited: ") +
                (m_process.exitStatus() == QProcess::NormalExit ? "code " : "signal ") +
                QByteArray::number(m_process.exitCode()) + "]";
    // QtTest cuts long messages: the end of a log says more than its beginning.
    auto tail = [](const QByteArray &s) {
        constexpr qsizetype kMax = 600;
        return s.size() <= kMax ? s : "[...]" + s.right(kMax);
    };
    text += "\n--- stderr ---\n" + tail(m_log);
    if (!m_output.isEmpty())
        text += "\n--- stdout ---\n" + tail(m_output);
    return text;
}

// ---- HttpReply -----------------------------------------------------------------------------

QByteArray HttpReply::header(QByteArrayView name) const
{
    for (const auto &[n, v] : headers) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

int HttpReply::headerCount(QByteArrayView name) const
{
    int count = 0;
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0)
            ++count;
    }
    return count;
}

QJsonObject HttpReply::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QByteArray HttpReply::describe() const
{
    if (status == 0)
        return "no answer: " + error.toUtf8();
    return QByteArray::number(status) + ' ' + body.left(2000);
}

// ---- HttpConnection ------------------------------------------------------------------------

namespace {

enum class Parse
{
    Incomplete,
    Complete,
    Malformed
};

// Decodes a chunked body starting at `pos`; on Complete, `end` is the offset after it.
Parse dechunk(const QByteArray &buf, qsizetype pos, QByteArray *body, qsizetype *end)
{
    for (;;) {
        const qsizetype eol = buf.indexOf("\r\n", pos);
        if (eol < 0)
            return Parse::Incomplete;
        bool ok = false;
        const qsizetype size =
            buf.mid(pos, eol - pos).split(';').first().trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0)
            return Parse::Malformed;
        pos = eol + 2;
        if (size == 0) {
            // Trailers, then an empty line.
            for (;;) {
                const qsizetype lineEnd = buf.indexOf("\r\n", pos);
                if (lineEnd < 0)
                    return Parse::Incomplete;
                const bool empty = lineEnd == pos;
                pos = lineEnd + 2;
                if (empty) {
                    *end = pos;
                    return Parse::Complete;
                }
            }
        }
        if (buf.size() < pos + size + 2)
            return Parse::Incomplete;
        body->append(buf.mid(pos, size));
        pos += size + 2;
    }
}

// One answer from the front of `buf`. `closed`: the peer closed, so a body without a length ends.
Parse parseReply(const QByteArray &buf, bool headRequest, bool closed, HttpReply *reply,
                 qsizetype *consumed)
{
    const qsizetype headEnd = buf.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return Parse::Incomplete;
    const QList<QByteArray> lines = buf.left(headEnd).split('\n');
    const QByteArray statusLine = lines.first().trimmed();
    const QList<QByteArray> parts = statusLine.split(' ');
    if (parts.size() < 2 || !parts[0].startsWith("HTTP/1."))
        return Parse::Malformed;
    bool ok = false;
    reply->status = parts[1].toInt(&ok);
    if (!ok)
        return Parse::Malformed;
    reply->reason = statusLine.mid(parts[0].size() + parts[1].size() + 2);
    reply->headers.clear();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return Parse::Malformed;
        reply->headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    const qsizetype bodyStart = headEnd + 4;
    const int s = reply->status;
    if (headRequest || (s >= 100 && s < 200) || s == 204 || s == 304) {
        reply->body.clear();
        *consumed = bodyStart;
        return Parse::Complete;
    }
    if (reply->header("Transfer-Encoding").toLower().contains("chunked")) {
        reply->body.clear();
        return dechunk(buf, bodyStart, &reply->body, consumed);
    }
    const QByteArray lengthText = reply->header("Content-Length");
    if (!lengthText.isNull()) {
        const qsizetype length = lengthText.toLongLong(&ok);
        if (!ok || length < 0)
            return Parse::Malformed;
        if (buf.size() < bodyStart + length)
            return Parse::Incomplete;
        reply->body = buf.mid(bodyStart, length);
        *consumed = bodyStart + length;
        return Parse::Complete;
    }
    if (!closed)
        return Parse::Incomplete;  // the body runs until the connection closes
    reply->body = buf.mid(bodyStart);
    *consumed = buf.size();
    return Parse::Complete;
}

// Runs a local event loop until `done()` or the time is up; `socket` signals re-check it.
bool waitUntil(QTcpSocket &socket, const std::function<bool()> &done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    auto check = [&] {
        if (done())
            loop.quit();
    };
    QObject::connect(&socket, &QTcpSocket::connected, &loop, check);
    QObject::connect(&socket, &QTcpSocket::readyRead, &loop, check);
    QObject::connect(&socket, &QTcpSocket::disconnected, &loop, check);
    QObject::connect(&socket, &QTcpSocket::errorOccurred, &loop, check);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    timer.start(timeoutMs);
    if (!done())
        loop.exec();
    return done();
}

}  // namespace

HttpConnection::~HttpConnection()
{
    m_socket.abort();
}

bool HttpConnection::connectTo(const QString &host, quint16 port, int timeoutMs)
{
    m_buffer.clear();
    m_closed = false;
    m_socket.connectToHost(host, port);
    const bool failed = !waitUntil(
        m_socket,
        [this] {
            return m_socket.state() == QAbstractSocket::ConnectedState ||
                   m_socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    return !failed && m_socket.state() == QAbstractSocket::ConnectedState;
}

void HttpConnection::sendRaw(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.flush();
}

HttpReply HttpConnection::readReply(int timeoutMs, bool headRequest)
{
    HttpReply reply;
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        Parse result = Parse::Incomplete;
        qsizetype consumed = 0;
        auto ready = [&] {
            m_buffer += m_socket.readAll();
            if (m_socket.state() == QAbstractSocket::UnconnectedState)
                m_closed = true;
            result = parseReply(m_buffer, headRequest, m_closed, &reply, &consumed);
            return result != Parse::Incomplete || m_closed;
        };
        waitUntil(m_socket, ready, int(qMax<qint64>(0, deadline.remainingTime())));
        if (result == Parse::Malformed) {
            reply = HttpReply();
            reply.error =
                QStringLiteral("malformed answer: ") + QString::fromLatin1(m_buffer.left(300));
            return reply;
        }
        if (result == Parse::Incomplete) {
            const QByteArray got = m_buffer.left(300);
            reply = HttpReply();
            reply.error = m_closed ? QStringLiteral("connection closed (%1) after %2 bytes: %3")
                                         .arg(m_socket.errorString())
                                         .arg(m_buffer.size())
                                         .arg(QString::fromLatin1(got))
                                   : QStringLiteral("no complete answer within %1 ms, got: %2")
                                         .arg(timeoutMs)
                                         .arg(QString::fromLatin1(got));
            return reply;
        }
        m_buffer.remove(0, consumed);
        if (reply.status >= 100 && reply.status < 200)
            continue;  // interim answer (100 Continue): the real one follows
        return reply;
    }
}

bool HttpConnection::waitForClose(int timeoutMs)
{
    return waitUntil(
        m_socket,
        [this] {
            m_buffer += m_socket.readAll();
            if (m_socket.state() == QAbstractSocket::UnconnectedState)
                m_closed = true;
            return m_closed;
        },
        timeoutMs);
}

HttpReply httpRequest(quint16 port, const QByteArray &method, const QByteArray &target,
                      const HttpHeaderList &headers, const QByteArray &body, int timeoutMs,
                      const QString &host)
{
    HttpConnection connection;
    if (!connection.connectTo(host, port, timeoutMs)) {
        HttpReply reply;
        reply.error = QStringLiteral("cannot connect to %1:%2: %3")
                          .arg(host)
                          .arg(port)
                          .arg(connection.errorString());
        return reply;
    }
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: " + host.toLatin1() + ':' +
                         QByteArray::number(port) + "\r\n";
    bool hasConnection = false;
    for (const auto &[name, value] : headers) {
        hasConnection |= QByteArrayView(name).compare("Connection", Qt::CaseInsensitive) == 0;
        request += name + ": " + value + "\r\n";
    }
    if (!hasConnection)
        request += "Connection: close\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n";
    request += body;
    connection.sendRaw(request);
    return connection.readReply(timeoutMs, method == "HEAD");
}

quint16 freeTcpPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

}  // namespace sluice::test
