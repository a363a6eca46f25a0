#include "UnixSignalWatcher.h"

#include <sys/socket.h>
#include <unistd.h>
#include <QSocketNotifier>
#include <atomic>
#include <csignal>

namespace {
int g_fds[2] = {-1, -1};
std::atomic<int> g_count{0};

void onSignal(int signo)
{
    if (g_count.fetch_add(1) >= 1)
        _exit(1);  // second signal: no drain, no cleanup
    const char c = char(signo);
    [[maybe_unused]] const ssize_t n = ::write(g_fds[1], &c, 1);
}
}  // namespace

UnixSignalWatcher::UnixSignalWatcher(QObject *parent) : QObject(parent)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_fds) != 0)
        qFatal("socketpair failed");
    m_notifier = new QSocketNotifier(g_fds[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignalWatcher::onReadable);
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    // A client that vanishes must not kill the process through a write to its socket.
    signal(SIGPIPE, SIG_IGN);
}

UnixSignalWatcher::~UnixSignalWatcher()
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
}

void UnixSignalWatcher::onReadable()
{
    char c = 0;
    if (::read(g_fds[0], &c, 1) == 1)
        emit terminationRequested(int(c));
}
