#include "UpstreamPool.h"

#include "EndpointPool.h"
#include "PendingCall.h"
#include "UpstreamConnection.h"

#include <QCoreApplication>
#include <QThread>
#include <QTimer>
#include <vector>

namespace sluice {
namespace {

// Timeouts are checked by one coarse sweep per pool rather than a timer per request: arming a
// timer allocates, and a tenth of a second is precise enough for limits counted in seconds.
constexpr int kSweepIntervalMs = 100;

// The calling thread's pool. The holder deletes it when the thread ends, in case neither hook
// below ran (a thread Qt did not start).
struct PoolHolder
{
    UpstreamPool *pool = nullptr;
    ~PoolHolder() { delete pool; }
};
thread_local PoolHolder t_pool;

void destroyThreadPool()
{
    delete std::exchange(t_pool.pool, nullptr);
}

}  // namespace

const char *UpstreamError::kindName(Kind k)
{
    switch (k) {
        case Kind::ConnectFailed:
            return "connect";
        case Kind::Reset:
            return "reset";
        case Kind::Timeout:
            return "timeout";
        case Kind::Protocol:
            return "protocol";
        case Kind::Tls:
            return "tls";
        case Kind::Cancelled:
            return "cancelled";
    }
    return "unknown";
}

struct UpstreamPool::Impl
{
    std::vector<std::unique_ptr<EndpointPool>> endpoints;  // a handful: a linear scan is fastest
    QTimer *sweep = nullptr;

    EndpointPool *find(const UpstreamEndpoint &endpoint) const
    {
        for (const auto &e : endpoints) {
            if (e->matches(endpoint))
                return e.get();
        }
        return nullptr;
    }
};

UpstreamPool::UpstreamPool(QObject *parent) : QObject(parent), d(std::make_unique<Impl>())
{
    d->sweep = new QTimer(this);
    d->sweep->setInterval(kSweepIntervalMs);
    connect(d->sweep, &QTimer::timeout, this, [this] {
        const qint64 now = UpstreamConnection::nowMs();
        bool busy = false;
        for (const auto &e : d->endpoints)
            busy = e->sweep(now) || busy;
        if (!busy)
            d->sweep->stop();  // nothing open: no wake-ups until the next request
    });
}

UpstreamPool::~UpstreamPool()
{
    // Calls still running are detached without callbacks; QObject then deletes the connections.
    d->endpoints.clear();
}

UpstreamPool &UpstreamPool::forCurrentThread()
{
    if (!t_pool.pool) {
        t_pool.pool = new UpstreamPool;
        QThread *thread = QThread::currentThread();
        const QCoreApplication *app = QCoreApplication::instance();
        // Tear down while Qt is still whole: a worker right after its event loop ended (on that
        // thread), the main thread while the application object is destroyed.
        if (app && app->thread() == thread) {
            qAddPostRoutine(destroyThreadPool);
        } else {
            QObject::connect(thread, &QThread::finished, thread, destroyThreadPool,
                             Qt::DirectConnection);
        }
    }
    return *t_pool.pool;
}

std::shared_ptr<UpstreamCall> UpstreamPool::send(const UpstreamEndpoint &endpoint,
                                                 UpstreamRequest request,
                                                 UpstreamCallbacks callbacks)
{
    Q_ASSERT(QThread::currentThread() == thread());
    EndpointPool *pool = d->find(endpoint);
    if (!pool) {
        d->endpoints.push_back(std::make_unique<EndpointPool>(endpoint, this));
        pool = d->endpoints.back().get();
    }
    pool->setMaxConnections(endpoint.maxConnections);
    auto call =
        std::make_shared<PendingCall>(request, pool->hostHeader(), endpoint, std::move(callbacks));
    call->setDeferring(true);
    pool->submit(call);
    call->setDeferring(false);
    if (call->hasDeferredError()) {
        // Failed before send() returned (unreadable ca_file, connect refused at once): the
        // caller hears it from the event loop, once it holds the call.
        QMetaObject::invokeMethod(
            this, [call] { call->flushDeferred(); }, Qt::QueuedConnection);
    }
    if (!d->sweep->isActive())
        d->sweep->start();
    return call;
}

int UpstreamPool::openConnections(const QString &endpointName) const
{
    int n = 0;
    for (const auto &e : d->endpoints) {
        if (e->name() == endpointName)
            n += e->openConnections();
    }
    return n;
}

int UpstreamPool::idleConnections(const QString &endpointName) const
{
    int n = 0;
    for (const auto &e : d->endpoints) {
        if (e->name() == endpointName)
            n += e->idleConnections();
    }
    return n;
}

}  // namespace sluice
