#include "EndpointPool.h"

#include "LogCategories.h"

#include <QSslCertificate>
#include <QSslSocket>
#include <QUrl>
#include <algorithm>

namespace sluice {

EndpointPool::EndpointPool(const UpstreamEndpoint &endpoint, QObject *connectionParent)
    : m_name(endpoint.name),
      m_caFile(endpoint.caFile),
      m_httpProxy(endpoint.httpProxy),
      m_hostHeader(endpoint.hostHeader()),
      m_connectionParent(connectionParent),
      m_maxConnections(qMax(1, endpoint.maxConnections))
{
    m_target.host = endpoint.host;
    m_target.port = endpoint.port;
    m_target.tls = endpoint.tls;
    if (endpoint.tls) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();  // system CAs
        ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
        // HTTP/1.1 is all this client speaks; a server must not pick h2.
        ssl.setAllowedNextProtocols({QByteArray(QSslConfiguration::NextProtocolHttp1_1)});
        if (!endpoint.caFile.isEmpty()) {
            // Like curl's --cacert: the file replaces the system CAs for this upstream.
            const QList<QSslCertificate> cas =
                QSslCertificate::fromPath(endpoint.caFile, QSsl::Pem);
            if (cas.isEmpty()) {
                m_target.setupError =
                    QStringLiteral("ca_file %1 cannot be read or holds no PEM certificate")
                        .arg(endpoint.caFile);
                m_target.setupErrorKind = UpstreamError::Kind::Tls;
                qCWarning(lcUpstream).noquote()
                    << "upstream" << endpoint.name << m_target.setupError;
            } else {
                ssl.setCaCertificates(cas);
            }
        }
        m_target.ssl = ssl;
    }
    if (!endpoint.httpProxy.isEmpty()) {
        const QString spec = endpoint.httpProxy.contains(QLatin1String("://"))
                                 ? endpoint.httpProxy
                                 : QLatin1String("http://") + endpoint.httpProxy;
        const QUrl url(spec, QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != QLatin1String("http") || url.host().isEmpty()) {
            m_target.setupError =
                QStringLiteral("http_proxy %1 is not of the form http://host:port")
                    .arg(endpoint.httpProxy);
            qCWarning(lcUpstream).noquote() << "upstream" << endpoint.name << m_target.setupError;
        } else {
            // Qt's HTTP proxy for a TCP socket is a CONNECT tunnel, TLS runs inside it.
            m_target.proxy = QNetworkProxy(QNetworkProxy::HttpProxy, url.host(),
                                           quint16(url.port(8080)), url.userName(), url.password());
        }
    }
}

EndpointPool::~EndpointPool()
{
    for (const auto &call : m_waiting)
        call->abandon();
    m_waiting.clear();
    // The connections are children of the pool object, which deletes them right after this.
    for (UpstreamConnection *c : m_connections)
        c->abandon();
    m_connections.clear();
    m_idle.clear();
}

bool EndpointPool::matches(const UpstreamEndpoint &e) const
{
    return e.port == m_target.port && e.tls == m_target.tls && e.host == m_target.host &&
           e.name == m_name && e.caFile == m_caFile && e.httpProxy == m_httpProxy;
}

void EndpointPool::submit(std::shared_ptr<PendingCall> call)
{
    if (UpstreamConnection *c = takeIdle()) {
        c->start(std::move(call));
    } else if (int(m_connections.size()) < m_maxConnections) {
        openFor(std::move(call));
    } else {
        enqueue(std::move(call), false);
    }
}

void EndpointPool::enqueue(std::shared_ptr<PendingCall> call, bool front)
{
    call->queue = this;
    call->queuedSinceMs = UpstreamConnection::nowMs();
    if (front)
        m_waiting.push_front(std::move(call));
    else
        m_waiting.push_back(std::move(call));
}

UpstreamConnection *EndpointPool::takeIdle()
{
    while (!m_idle.empty()) {
        UpstreamConnection *c = m_idle.back();
        m_idle.pop_back();
        if (c->isReusable())
            return c;
        qCDebug(lcUpstream).noquote()
            << "discarding a kept-alive connection to" << m_name << "that the server closed";
        m_connections.erase(std::find(m_connections.begin(), m_connections.end(), c));
        c->close();
    }
    return nullptr;
}

void EndpointPool::openFor(std::shared_ptr<PendingCall> call)
{
    auto *c = new UpstreamConnection(m_target, this, m_connectionParent);
    m_connections.push_back(c);
    c->open(std::move(call));  // may fail at once and come back through connectionClosed()
}

void EndpointPool::serveQueue()
{
    while (!m_waiting.empty()) {
        UpstreamConnection *c = takeIdle();
        if (!c && int(m_connections.size()) >= m_maxConnections)
            return;
        std::shared_ptr<PendingCall> call = std::move(m_waiting.front());
        m_waiting.pop_front();
        call->queue = nullptr;
        if (c)
            c->start(std::move(call));
        else
            openFor(std::move(call));
    }
}

void EndpointPool::connectionReleased(UpstreamConnection *connection)
{
    if (m_waiting.empty()) {
        m_idle.push_back(connection);
        return;
    }
    std::shared_ptr<PendingCall> call = std::move(m_waiting.front());
    m_waiting.pop_front();
    call->queue = nullptr;
    connection->start(std::move(call));
}

void EndpointPool::connectionClosed(UpstreamConnection *connection,
                                    std::shared_ptr<PendingCall> retry)
{
    forget(connection);
    if (retry) {
        // The failed connection's place goes to its own request, ahead of the queue.
        if (int(m_connections.size()) < m_maxConnections) {
            openFor(std::move(retry));
        } else {
            enqueue(std::move(retry), true);
        }
    }
    serveQueue();
}

void EndpointPool::forget(UpstreamConnection *connection)
{
    const auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it != m_connections.end()) {
        *it = m_connections.back();
        m_connections.pop_back();
    }
    const auto idle = std::find(m_idle.begin(), m_idle.end(), connection);
    if (idle != m_idle.end())
        m_idle.erase(idle);
}

void EndpointPool::dequeue(PendingCall *call)
{
    const auto it = std::find_if(m_waiting.begin(), m_waiting.end(),
                                 [call](const auto &waiting) { return waiting.get() == call; });
    if (it != m_waiting.end())
        m_waiting.erase(it);
}

void EndpointPool::expireWaiting(qint64 nowMs)
{
    // Out of the queue first, callbacks after: a caller may send again from its onError.
    for (auto it = m_waiting.begin(); it != m_waiting.end();) {
        const PendingCall &call = **it;
        if (call.connectTimeoutMs > 0 && nowMs - call.queuedSinceMs >= call.connectTimeoutMs) {
            (*it)->queue = nullptr;
            m_expired.push_back(std::move(*it));
            it = m_waiting.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto &call : m_expired) {
        call->deliverError(UpstreamError::Kind::Timeout,
                           QStringLiteral("no connection to %1 became free within %2 ms "
                                          "(max_connections %3 busy)")
                               .arg(m_name)
                               .arg(call->connectTimeoutMs)
                               .arg(m_maxConnections));
    }
    m_expired.clear();
}

bool EndpointPool::sweep(qint64 nowMs)
{
    if (!m_waiting.empty())
        expireWaiting(nowMs);
    // A copy: a timeout closes connections (and may open others) while we walk the list.
    m_sweepList.assign(m_connections.begin(), m_connections.end());
    for (UpstreamConnection *c : m_sweepList)
        c->sweep(nowMs);
    return !m_connections.empty() || !m_waiting.empty();
}

}  // namespace sluice
