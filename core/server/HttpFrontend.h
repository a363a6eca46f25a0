#pragma once

#include "ServerOptions.h"

#include <QObject>
#include <QThread>
#include <memory>
#include <vector>

namespace sluice {

class RequestObserver;
class Router;
class ServerWorker;

// The data-plane listener: N worker threads, each accepting on its own SO_REUSEPORT socket
// bound to the same address. Start, drain and stop are called from the owning (main) thread.
class HttpFrontend : public QObject
{
    Q_OBJECT
public:
    // `router` and `observer` must outlive the front end; the router is read-only from start().
    HttpFrontend(const ServerOptions &options, const Router *router, RequestObserver *observer,
                 QObject *parent = nullptr);
    ~HttpFrontend() override;

    // Binds every worker's socket and starts the threads. Returns false with *error set when
    // the address cannot be bound; nothing is left running then.
    bool start(QString *error);
    QHostAddress address() const { return m_options.host; }
    quint16 port() const { return m_port; }
    // "127.0.0.1:8081" / "[::1]:8081"
    QString addressString() const;

    // Stops accepting; idle keep-alive connections close now, busy ones after their answer.
    void beginDrain();
    int openConnections() const;
    qint64 inFlightRequests() const;
    // Closes every connection and joins the worker threads.
    void stop();

private:
    ServerOptions m_options;
    const Router *m_router;
    RequestObserver *m_observer;
    quint16 m_port = 0;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<ServerWorker *> m_workers;  // deleted in stop(), after their thread ended
};

}  // namespace sluice
