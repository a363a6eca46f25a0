#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace sluice::test {

// A real redis-server in a child process on a free loopback port, without persistence, for
// tests of the Redis limit store. The tests need Debian's redis-server (the test command
// installs it); when it is missing, start() fails and why() says so.
//
//   RedisServer redis;
//   QVERIFY2(redis.start(), redis.why());
//   ... --redis redis.url() ...
//   redis.stop();   // SIGKILL: a crash, as the fault tests want
//   redis.start();  // the same port again, empty
class RedisServer
{
public:
    RedisServer() = default;
    ~RedisServer();
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;

    // Starts redis-server (on the previous port when restarted) with `extraArguments`
    // ("--requirepass", "secret"), and waits until it answers PING.
    bool start(const QStringList &extraArguments = {}, int timeoutMs = 10000);
    void stop();  // SIGKILL, then waits
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }

    quint16 port() const { return m_port; }
    QString url() const;  // redis://127.0.0.1:PORT

    // Runs redis-cli against this server (with `cliArguments` such as "-a", "pw" before the
    // command) and returns its standard output, trimmed. Empty on failure (see why()).
    QByteArray cli(const QStringList &command, const QStringList &cliArguments = {});
    QByteArray why() const { return m_error + "\n" + m_log; }

private:
    QProcess m_process;
    quint16 m_port = 0;
    QStringList m_arguments;
    QByteArray m_error;
    QByteArray m_log;
};

}  // namespace sluice::test
