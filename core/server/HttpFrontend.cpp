#include "HttpFrontend.h"

#include "ListenSocket.h"
#include "LogCategories.h"
#include "ServerWorker.h"

#include <unistd.h>

namespace sluice {

HttpFrontend::HttpFrontend(const ServerOptions &options, const Router *router,
                           RequestObserver *observer, QObject *parent)
    : QObject(parent), m_options(options), m_router(router), m_observer(observer)
{}

HttpFrontend::~HttpFrontend()
{
    stop();
}

QString HttpFrontend::addressString() const
{
    const QString host = m_options.host.protocol() == QAbstractSocket::IPv6Protocol
                             ? u'[' + m_options.host.toString() + u']'
                             : m_options.host.toString();
    return host + u':' + QString::number(m_port);
}

bool HttpFrontend::start(QString *error)
{
    const int n = qMax(1, m_options.workers);
    // SO_REUSEPORT would let a second gateway (same user) join a running one's port and take
    // half its clients. A plain bind of the fixed port first fails if anyone listens there.
    if (m_options.port != 0 && !probePortFree(m_options.host, m_options.port, error))
        return false;
    // All sockets first, on this thread: a bind error is reported before any thread starts.
    std::vector<qintptr> fds;
    quint16 port = m_options.port;
    for (int i = 0; i < n; ++i) {
        const qintptr fd =
            openReusePortListener(m_options.host, port, m_options.listenBacklog, error);
        if (fd < 0) {
            for (qintptr f : fds)
                ::close(int(f));
            return false;
        }
        if (i == 0)
            port = boundPort(fd);  // with port 0 the kernel chose; the others join that port
        fds.push_back(fd);
    }
    m_port = port;

    for (int i = 0; i < n; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("%1-%2").arg(m_options.threadNamePrefix).arg(i));
        auto *worker = new ServerWorker(i, m_options, m_router, m_observer);
        worker->moveToThread(thread.get());
        thread->start();
        bool ok = false;
        QString workerError;
        QMetaObject::invokeMethod(
            worker, [&] { ok = worker->startListening(fds[size_t(i)], &workerError); },
            Qt::BlockingQueuedConnection);
        m_threads.push_back(std::move(thread));
        m_workers.push_back(worker);
        if (!ok) {
            for (size_t j = size_t(i) + 1; j < fds.size(); ++j)
                ::close(int(fds[j]));
            if (error)
                *error = workerError;
            stop();
            return false;
        }
    }
    qCDebug(lcServer) << "started" << n << "HTTP workers on" << addressString();
    return true;
}

void HttpFrontend::beginDrain()
{
    for (ServerWorker *w : m_workers)
        QMetaObject::invokeMethod(
            w, [w] { w->beginDrain(); }, Qt::BlockingQueuedConnection);
}

int HttpFrontend::openConnections() const
{
    int total = 0;
    for (const ServerWorker *w : m_workers)
        total += w->openConnections();
    return total;
}

qint64 HttpFrontend::inFlightRequests() const
{
    qint64 total = 0;
    for (const ServerWorker *w : m_workers)
        total += w->inFlight();
    return total;
}

void HttpFrontend::stop()
{
    for (size_t i = 0; i < m_workers.size(); ++i) {
        ServerWorker *w = m_workers[i];
        QThread *t = m_threads[i].get();
        if (t->isRunning()) {
            // Connections are QObjects of the worker thread: destroy them there.
            QMetaObject::invokeMethod(
                w, [w] { w->closeAll(); }, Qt::BlockingQueuedConnection);
            t->quit();
            t->wait();
        }
        delete w;
    }
    m_workers.clear();
    m_threads.clear();
}

}  // namespace sluice
