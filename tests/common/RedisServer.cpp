#include "RedisServer.h"

#include "GatewayProcess.h"
#include "ProcessRun.h"

#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QThread>

namespace sluice::test {

RedisServer::~RedisServer()
{
    stop();
}

bool RedisServer::start(const QStringList &extraArguments, int timeoutMs)
{
    const QString binary = QStandardPaths::findExecutable(QStringLiteral("redis-server"));
    if (binary.isEmpty()) {
        m_error =
            "redis-server is not installed (Debian package redis-server; the test command "
            "installs it)";
        return false;
    }
    if (m_port == 0)
        m_port = freeTcpPort();
    m_arguments = extraArguments;
    const QStringList args =
        QStringList{QStringLiteral("--port"),       QString::number(m_port),
                    QStringLiteral("--bind"),       QStringLiteral("127.0.0.1"),
                    QStringLiteral("--save"),       QString(),
                    QStringLiteral("--appendonly"), QStringLiteral("no"),
                    QStringLiteral("--dir"),        QDir::tempPath()} +
        extraArguments;
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(binary, args);
    if (!m_process.waitForStarted(5000)) {
        m_error = "cannot start redis-server: " + m_process.errorString().toUtf8();
        return false;
    }
    // Ready when it answers PING (with the password, when one is required).
    QStringList auth;
    const qsizetype pass = extraArguments.indexOf(QStringLiteral("--requirepass"));
    if (pass >= 0 && pass + 1 < extraArguments.size())
        auth << QStringLiteral("-a") << extraArguments.at(pass + 1)
             << QStringLiteral("--no-auth-warning");
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (cli({QStringLiteral("PING")}, auth) == "PONG")
            return true;
        if (m_process.state() == QProcess::NotRunning)
            break;
        QThread::msleep(50);
    }
    m_log += m_process.readAll();
    m_error = "redis-server did not answer PING on port " + QByteArray::number(m_port);
    return false;
}

void RedisServer::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
    m_log += m_process.readAll();
}

QString RedisServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

QByteArray RedisServer::cli(const QStringList &command, const QStringList &cliArguments)
{
    const ProcessRun r =
        runProcess(QStringLiteral("redis-cli"),
                   QStringList{QStringLiteral("-h"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("-p"), QString::number(m_port)} +
                       cliArguments + command,
                   QProcessEnvironment::systemEnvironment(), QDir::tempPath(), 10000);
    if (!r.ok()) {
        m_error = "redis-cli " + command.join(u' ').toUtf8() + " failed: " + r.err;
        return {};
    }
    return r.out.trimmed();
}

}  // namespace sluice::test
