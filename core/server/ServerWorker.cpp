#include "ServerWorker.h"

#include "ListenSocket.h"
#include "LogCategories.h"
#include "ServerConnection.h"

#include <unistd.h>
#include <QTimerEvent>
#include <chrono>

namespace sluice {

ServerWorker::ServerWorker(int index, const ServerOptions &options, const Router *router,
                           RequestObserver *observer)
    : m_index(index)
{
    m_ctx.options = options;
    m_ctx.router = router;
    m_ctx.observer = observer;
    m_ctx.worker = this;
}

ServerWorker::~ServerWorker()
{
    closeAll();
}

bool ServerWorker::startListening(qintptr fd, QString *error)
{
    m_server = std::make_unique<DescriptorServer>([this](qintptr s) { accept(s); });
    if (!m_server->setSocketDescriptor(fd)) {
        if (error)
            *error = m_server->errorString();
        ::close(int(fd));
        m_server.reset();
        return false;
    }
    // Timeouts are checked by one coarse sweep per worker instead of a timer per connection:
    // nothing to re-arm on the hot path, and 10 s +/- 250 ms is precise enough.
    m_sweepTimer.start(250, Qt::CoarseTimer, this);
    return true;
}

void ServerWorker::accept(qintptr fd)
{
    auto *connection = new ServerConnection(fd, &m_ctx, this);
    m_connections.insert(connection);
    connect(connection, &ServerConnection::closed, this, [this](ServerConnection *c) {
        if (m_connections.erase(c))
            c->deleteLater();
    });
    if (m_ctx.draining)
        connection->beginDrain();
}

void ServerWorker::beginDrain()
{
    m_ctx.draining = true;
    if (m_server)
        m_server->close();  // stop accepting; the kernel refuses new connections on this socket
    const auto snapshot = m_connections;
    for (ServerConnection *c : snapshot)
        c->beginDrain();
}

void ServerWorker::closeAll()
{
    m_sweepTimer.stop();
    if (m_server)
        m_server->close();
    m_server.reset();
    const auto snapshot = std::exchange(m_connections, {});
    for (ServerConnection *c : snapshot) {
        c->disconnect(this);
        c->abort();
        delete c;
    }
}

void ServerWorker::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_sweepTimer.timerId())
        return QObject::timerEvent(event);
    const qint64 now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    const auto snapshot = m_connections;  // sweep may close (and unregister) connections
    for (ServerConnection *c : snapshot) {
        if (m_connections.count(c))
            c->sweep(now);
    }
}

}  // namespace sluice
