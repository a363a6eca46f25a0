#pragma once

#include "PendingCall.h"
#include "UpstreamConnection.h"
#include "UpstreamEndpoint.h"

#include <deque>
#include <memory>
#include <vector>

namespace sluice {

// The connections of one worker thread to one endpoint (name, host, port, TLS, CA file, proxy):
// idle ones reused last-in first-out (the warmest connection, and the cold ones age out), at
// most maxConnections open, and a FIFO queue of requests waiting for one.
class EndpointPool final : public UpstreamConnection::Owner, public PendingCall::Queue
{
public:
    EndpointPool(const UpstreamEndpoint &endpoint, QObject *connectionParent);
    ~EndpointPool();  // closes every connection; calls still running get no callback
    EndpointPool(const EndpointPool &) = delete;
    EndpointPool &operator=(const EndpointPool &) = delete;

    // Whether requests to `endpoint` belong here (cheap: compared on every request).
    bool matches(const UpstreamEndpoint &endpoint) const;
    // The latest configuration's bound applies.
    void setMaxConnections(int max) { m_maxConnections = qMax(1, max); }
    const QByteArray &hostHeader() const { return m_hostHeader; }
    const QString &name() const { return m_name; }

    void submit(std::shared_ptr<PendingCall> call);
    // Timeouts and idle expiry. Returns false when no connection and no waiting call is left.
    bool sweep(qint64 nowMs);

    int openConnections() const { return int(m_connections.size()); }
    int idleConnections() const { return int(m_idle.size()); }

    void connectionReleased(UpstreamConnection *connection) override;
    void connectionClosed(UpstreamConnection *connection,
                          std::shared_ptr<PendingCall> retry) override;
    void dequeue(PendingCall *call) override;

private:
    // A kept-alive connection that still works, or nullptr.
    UpstreamConnection *takeIdle();
    void openFor(std::shared_ptr<PendingCall> call);
    void serveQueue();
    void forget(UpstreamConnection *connection);
    void enqueue(std::shared_ptr<PendingCall> call, bool front);
    // Fails the calls that waited longer than their connect timeout for a free connection.
    void expireWaiting(qint64 nowMs);

    QString m_name;
    QString m_caFile;
    QString m_httpProxy;
    ConnectionTarget m_target;  // open connections refer to it; closed ones never look again
    QByteArray m_hostHeader;
    QObject *m_connectionParent;
    int m_maxConnections;
    std::vector<UpstreamConnection *> m_connections;  // every open one: connecting, busy, idle
    std::vector<UpstreamConnection *> m_idle;         // a stack
    std::deque<std::shared_ptr<PendingCall>> m_waiting;
    std::vector<UpstreamConnection *> m_sweepList;        // reused by sweep()
    std::vector<std::shared_ptr<PendingCall>> m_expired;  // reused by expireWaiting()
};

}  // namespace sluice
