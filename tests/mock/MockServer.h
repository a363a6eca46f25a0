#pragma once

// The mock upstream's HTTP/1.1 server: a QTcpServer whose connections (plain or TLS) parse
// requests, answer them as MockApi plans, and keep the counters and the request log that the
// /mock/* endpoints show. One thread; every wait is a timer.

#include "MockApi.h"

#include <QJsonObject>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <deque>

namespace sluice::mock {

struct RecordedRequest
{
    quint64 seq = 0;
    qint64 timeMs = 0;
    MockRequest request;
    QByteArray remote;
    bool tls = false;
};

struct MockStats
{
    qint64 openRequests = 0;     // received, answer not ended
    qint64 maxOpenRequests = 0;  // the most open at one time
    qint64 total = 0;            // API requests received (not /mock/*)
    qint64 completed = 0;        // answers written to their end
    qint64 aborted = 0;          // the client closed before the answer ended
    qint64 reset = 0;            // the mock reset the connection itself (x-mock-reset/drop)
    qint64 connectionsOpen = 0;
    qint64 connectionsTotal = 0;
};

class MockServer : public QTcpServer
{
public:
    explicit MockServer(QObject *parent = nullptr);

    void setTls(const QSslCertificate &certificate, const QSslKey &key);
    bool tls() const { return !m_certificate.isNull(); }
    // How many requests /mock/requests keeps (the oldest are forgotten); 0 keeps none.
    void setRecordLimit(int limit) { m_recordLimit = limit; }
    // Idle keep-alive connections are closed after this many ms; 0: never.
    void setIdleTimeoutMs(int ms) { m_idleTimeoutMs = ms; }
    int idleTimeoutMs() const { return m_idleTimeoutMs; }
    // API requests must carry one of these keys (none: any or no key is fine).
    void setApiKeys(const QList<QByteArray> &keys) { m_apiKeys = keys; }
    const QList<QByteArray> &apiKeys() const { return m_apiKeys; }
    // Compress JSON answers with gzip when the request accepts it, as the providers' front ends
    // do (also per request with x-mock-gzip: 1).
    void setGzip(bool on) { m_gzip = on; }
    bool gzip() const { return m_gzip; }

    // Bookkeeping, called by the connections.
    quint64 requestStarted(const MockRequest &request, const QByteArray &remote);
    void requestEnded(bool completed, bool aborted, bool reset);
    void connectionOpened();
    void connectionClosed();

    // The answer to GET/POST/DELETE /mock/*.
    MockAnswer control(const MockRequest &request);

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    QJsonObject statsJson() const;

    QSslCertificate m_certificate;
    QSslKey m_key;
    int m_recordLimit = 1000;
    int m_idleTimeoutMs = 0;
    QList<QByteArray> m_apiKeys;
    bool m_gzip = false;
    quint64 m_seq = 0;
    MockStats m_stats;
    std::deque<RecordedRequest> m_recorded;
};

}  // namespace sluice::mock
