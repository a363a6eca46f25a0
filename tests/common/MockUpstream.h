#pragma once

#include "GatewayProcess.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace sluice::test {

// The mock LLM upstream (tests/mock, binary sluice-mock-llm) in a child process on a free port.
//
//   MockUpstream mock;
//   QVERIFY2(mock.start(), mock.why());
//   ... point the gateway's [upstream.openai] base_url at mock.openAiBaseUrl() ...
//   QCOMPARE(mock.lastRequest()["headers"].toObject()["authorization"].toString(),
//            "Bearer sk-upstream");
//   QCOMPARE(mock.stats()["aborted"].toInt(), 1);
//
// Requests to the mock are shaped by x-mock-* headers (tests/mock/README.md). The destructor
// kills the process (and prints its log when the test failed).
class MockUpstream
{
public:
    explicit MockUpstream(QString binary = QStringLiteral(SLUICE_MOCK_BINARY));
    ~MockUpstream() = default;
    MockUpstream(const MockUpstream &) = delete;
    MockUpstream &operator=(const MockUpstream &) = delete;

    // Starts the mock on 127.0.0.1 and a free port, with extra arguments (--record-limit ...).
    bool start(const QStringList &extraArguments = {}, int timeoutMs = 10000);
    // The same over HTTPS with a PEM certificate and key (see makeSelfSignedCertificate()).
    bool startTls(const QString &certFile, const QString &keyFile,
                  const QStringList &extraArguments = {}, int timeoutMs = 10000);
    void stop();

    quint16 port() const { return m_port; }
    bool isTls() const { return m_tls; }
    // "http://127.0.0.1:PORT" (https:// with TLS): Anthropic's base_url form.
    QString baseUrl() const;
    // baseUrl() + "/v1": OpenAI's base_url form.
    QString openAiBaseUrl() const { return baseUrl() + QStringLiteral("/v1"); }
    // An [upstream.openai] INI section that sends the models matching `models` here.
    QByteArray openAiUpstreamIni(const QString &models) const
    {
        return QStringLiteral("[upstream.openai]\nkind = openai\nbase_url = %1\nmodels = %2\n")
            .arg(openAiBaseUrl(), models)
            .toUtf8();
    }

    // What the mock received, oldest first (the last `limit`, all with 0), each
    // {seq, time_ms, method, path, version, headers: {lower-case name: value},
    //  raw_headers: [[name, value]...], body, remote, tls}. Empty on failure (see why()).
    QJsonArray requests(int limit = 0);
    QJsonObject lastRequest();
    // {open_requests, max_open_requests, total, completed, aborted, reset, connections_open,
    //  connections_total}; empty on failure.
    QJsonObject stats();
    // Forgets the recorded requests and zeroes the counters (open ones stay counted).
    bool reset();

    // A diagnostic for QVERIFY2: the last error and the mock's log.
    QByteArray why();
    QString log() { return m_process.log(); }
    GatewayProcess &process() { return m_process; }

    // Writes a self-signed certificate for "localhost" and 127.0.0.1 (its own CA, so it also
    // serves as a ca_file) and its key with the openssl command. False when that fails.
    static bool makeSelfSignedCertificate(const QString &dir, QString *certFile, QString *keyFile,
                                          QString *why = nullptr);

    // One request to the mock's control endpoints (works over TLS too); an HttpReply.
    HttpReply control(const QByteArray &method, const QByteArray &target, int timeoutMs = 5000);

private:
    bool launch(const QStringList &arguments, int timeoutMs);

    GatewayProcess m_process;
    quint16 m_port = 0;
    bool m_tls = false;
    QString m_error;
};

}  // namespace sluice::test
