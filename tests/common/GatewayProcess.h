#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <QTcpSocket>
#include <utility>

namespace sluice::test {

// The real sluice binary in a child process, for integration tests.
//
//   GatewayProcess gw(SLUICE_BINARY);
//   QVERIFY2(gw.start({"--headless", "--listen", "127.0.0.1:0", "--data-dir", dir}), gw.why());
//   QVERIFY2(gw.waitForListening(), gw.why());  // parses "listening on HOST:PORT"
//   ... httpGet(gw.port(), "/health") ...
//   gw.terminate();                              // SIGTERM
//   QVERIFY(gw.waitForExit(5000));
//
// Standard error is collected into log(), standard output into output() (both channels into
// log() after setMergedChannels(true)). The waits use QProcess's blocking calls, so they work
// without an event loop; the HTTP helpers below run a local event loop, during which QProcess
// keeps draining the child's pipes, so a chatty gateway never blocks on a full pipe.
// The destructor kills a child that is still running.
class GatewayProcess
{
public:
    explicit GatewayProcess(QString binary);
    ~GatewayProcess();
    GatewayProcess(const GatewayProcess &) = delete;
    GatewayProcess &operator=(const GatewayProcess &) = delete;

    // The system environment without any SLUICE_* variable, so the caller's shell cannot leak
    // settings into a test. Add to it and pass it to setEnvironment().
    static QProcessEnvironment cleanEnvironment();
    // cleanEnvironment() for the dashboard offscreen, driven through its test driver (commands
    // on standard input, see driverCommand()), with its settings under `configHome` and no
    // DISPLAY or WAYLAND_DISPLAY.
    static QProcessEnvironment dashboardEnvironment(const QString &configHome);

    void setEnvironment(const QProcessEnvironment &env) { m_env = env; }
    void setWorkingDirectory(const QString &dir) { m_workingDirectory = dir; }
    void setMergedChannels(bool merged) { m_merged = merged; }

    // Starts the binary; false (see why()) when it could not be executed.
    bool start(const QStringList &arguments, int timeoutMs = 5000);

    // Waits for the "listening on HOST:PORT" line and parses it into host() and port().
    // False when the process exits first or the time runs out.
    bool waitForListening(int timeoutMs = 10000);
    // Waits for "startup complete" (the first health round finished).
    bool waitForStartupComplete(int timeoutMs = 10000);
    // Waits until the log (from its beginning) matches `pattern`.
    bool waitForLog(const QRegularExpression &pattern, int timeoutMs = 10000);

    QString host() const { return m_host; }
    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); }

    // Keeps the child's standard input open for writeInput() (before start(); otherwise the
    // child reads end of file at once). The dashboard's test driver reads commands there.
    void setWritableInput(bool writable) { m_writableInput = writable; }
    void writeInput(const QByteArray &bytes) { m_process.write(bytes); }
    // Sends one command to the dashboard's test driver and returns its answer line without the
    // "driver: " prefix ("ok ..." / "error ..."), or "timeout waiting for: LINE".
    QString driverCommand(const QByteArray &line, int timeoutMs = 15000);

    // SIGTERM (a graceful drain); kill() is SIGKILL.
    void terminate();
    void kill();

    // True once the process has exited (immediately when it never ran).
    bool waitForExit(int timeoutMs = 10000);
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    int exitCode() const { return m_process.exitCode(); }
    QProcess::ExitStatus exitStatus() const { return m_process.exitStatus(); }
    // True when it exited by itself (not killed by a signal) with `code`.
    bool exitedWith(int code) const;

    // Everything read so far from standard error (and standard output when merged).
    QString log();
    QStringList logLines();
    QString output();

    // A diagnostic for QVERIFY2: the last error plus the log so far.
    QByteArray why();

private:
    void collect();
    void fail(const QString &what) { m_error = what; }

    QString m_binary;
    QProcess m_process;
    QProcessEnvironment m_env;
    QString m_workingDirectory;
    bool m_merged = false;
    bool m_writableInput = false;
    int m_driverReplies = 0;  // driver answers already returned by driverCommand()
    QByteArray m_log;
    QByteArray m_output;
    QString m_host;
    quint16 m_port = 0;
    QString m_error;
};

// ---- a small blocking HTTP/1.1 client for tests --------------------------------------------

using HttpHeaderList = QList<std::pair<QByteArray, QByteArray>>;

struct HttpReply
{
    int status = 0;  // 0: no complete answer, see error
    QByteArray reason;
    HttpHeaderList headers;
    QByteArray body;
    QString error;

    bool ok() const { return status != 0; }
    // First header of that name (case-insensitive), or a null QByteArray.
    QByteArray header(QByteArrayView name) const;
    int headerCount(QByteArrayView name) const;
    // The body as a JSON object; empty when it is not one.
    QJsonObject json() const;
    // "503 {...body...}" for failure messages.
    QByteArray describe() const;
};

// One client connection on which requests can be written raw and answers read one by one.
// Waits run a local event loop.
class HttpConnection
{
public:
    HttpConnection() = default;
    ~HttpConnection();
    HttpConnection(const HttpConnection &) = delete;
    HttpConnection &operator=(const HttpConnection &) = delete;

    bool connectTo(const QString &host, quint16 port, int timeoutMs = 5000);
    void sendRaw(const QByteArray &bytes);
    // Reads one answer. `headRequest`: the answer to HEAD has no body whatever its headers say.
    HttpReply readReply(int timeoutMs = 5000, bool headRequest = false);
    // True when the server closed the connection within the time.
    bool waitForClose(int timeoutMs = 5000);
    QString errorString() const { return m_socket.errorString(); }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    bool m_closed = false;
};

// One request on a fresh connection ("Connection: close" unless `headers` has a Connection).
HttpReply httpRequest(quint16 port, const QByteArray &method, const QByteArray &target,
                      const HttpHeaderList &headers = {}, const QByteArray &body = {},
                      int timeoutMs = 5000, const QString &host = QStringLiteral("127.0.0.1"));
inline HttpReply httpGet(quint16 port, const QByteArray &target, const HttpHeaderList &headers = {},
                         int timeoutMs = 5000)
{
    return httpRequest(port, "GET", target, headers, {}, timeoutMs);
}

// A TCP port that was free a moment ago on 127.0.0.1 (0 when none could be bound).
quint16 freeTcpPort();

}  // namespace sluice::test
