#pragma once

#include "ServerOptions.h"

#include <QBasicTimer>
#include <QObject>
#include <atomic>
#include <memory>
#include <unordered_set>

namespace sluice {

class DescriptorServer;
class RequestObserver;
class Router;
class ServerConnection;

// What a worker's connections share. Owned by the worker, used only on its thread, except the
// atomic counters which the main thread reads while draining.
struct WorkerContext
{
    ServerOptions options;
    const Router *router = nullptr;
    RequestObserver *observer = nullptr;
    QObject *worker = nullptr;
    bool draining = false;
    std::atomic<int> openConnections{0};
    std::atomic<qint64> inFlight{0};
};

// One HTTP worker: lives on its own thread, accepts on its own SO_REUSEPORT socket and owns
// every connection it accepted for the connection's whole life (no locks on the hot path).
class ServerWorker : public QObject
{
    Q_OBJECT
public:
    ServerWorker(int index, const ServerOptions &options, const Router *router,
                 RequestObserver *observer);
    ~ServerWorker() override;

    int index() const { return m_index; }
    int openConnections() const { return m_ctx.openConnections.load(); }
    qint64 inFlight() const { return m_ctx.inFlight.load(); }

    // These run on the worker's thread (invoked through QMetaObject::invokeMethod).
    bool startListening(qintptr fd, QString *error);
    void beginDrain();
    void closeAll();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void accept(qintptr fd);

    int m_index;
    WorkerContext m_ctx;
    std::unique_ptr<DescriptorServer> m_server;
    std::unordered_set<ServerConnection *> m_connections;
    QBasicTimer m_sweepTimer;
};

}  // namespace sluice
