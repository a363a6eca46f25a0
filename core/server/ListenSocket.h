#pragma once

#include <QHostAddress>
#include <QTcpServer>
#include <functional>

namespace sluice {

// Opens a listening TCP socket with SO_REUSEPORT, so every worker thread accepts on its own
// socket for the same address and the kernel spreads connections among them.
// Returns the descriptor, or -1 with *error set. With port 0 the kernel picks one; read it back
// with boundPort() and open the remaining workers' sockets on that port.
qintptr openReusePortListener(const QHostAddress &host, quint16 port, int backlog, QString *error);
quint16 boundPort(qintptr fd);
// Binds (without SO_REUSEPORT) and closes again: false with *error when the address is taken,
// also by sockets that have SO_REUSEPORT set.
bool probePortFree(const QHostAddress &host, quint16 port, QString *error);

// A QTcpServer that hands each accepted descriptor to a callback instead of queueing
// QTcpSockets, so the worker builds its own connection objects.
class DescriptorServer : public QTcpServer
{
    Q_OBJECT
public:
    using AcceptFn = std::function<void(qintptr)>;
    explicit DescriptorServer(AcceptFn accept, QObject *parent = nullptr)
        : QTcpServer(parent), m_accept(std::move(accept))
    {}

protected:
    void incomingConnection(qintptr fd) override { m_accept(fd); }

private:
    AcceptFn m_accept;
};

}  // namespace sluice
