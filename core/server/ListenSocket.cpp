#include "ListenSocket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace sluice {

namespace {

qintptr openListener(const QHostAddress &host, quint16 port, int backlog, bool reusePort,
                     QString *error)
{
    const bool v6 = host.protocol() == QAbstractSocket::IPv6Protocol;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    auto fail = [&](const char *what) -> qintptr {
        if (error)
            *error = QStringLiteral("%1 %2:%3: %4")
                         .arg(QLatin1String(what), host.toString())
                         .arg(port)
                         .arg(QString::fromLocal8Bit(std::strerror(errno)));
        if (fd >= 0)
            ::close(fd);
        return -1;
    };
    if (fd < 0)
        return fail("socket");
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reusePort && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail("SO_REUSEPORT on");

    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        const Q_IPV6ADDR addr = host.toIPv6Address();
        std::memcpy(&a->sin6_addr, &addr, sizeof addr);
        len = sizeof *a;
    } else {
        auto *a = reinterpret_cast<sockaddr_in *>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(host.toIPv4Address());
        len = sizeof *a;
    }
    if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0)
        return fail("cannot bind");
    if (backlog > 0 && ::listen(fd, backlog) != 0)
        return fail("cannot listen on");
    return fd;
}

}  // namespace

qintptr openReusePortListener(const QHostAddress &host, quint16 port, int backlog, QString *error)
{
    return openListener(host, port, backlog, true, error);
}

bool probePortFree(const QHostAddress &host, quint16 port, QString *error)
{
    const qintptr fd = openListener(host, port, 0, false, error);
    if (fd < 0)
        return false;
    ::close(int(fd));
    return true;
}

quint16 boundPort(qintptr fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(int(fd), reinterpret_cast<sockaddr *>(&ss), &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

}  // namespace sluice
