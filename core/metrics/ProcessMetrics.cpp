#include "ProcessMetrics.h"

#include "MetricsRegistry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <QByteArray>
#include <QList>
#include <charconv>
#include <limits>

namespace sluice {

namespace {

// /proc files report size 0, so read until EOF; they are small.
QByteArray readProcFile(const char *path)
{
    QByteArray content;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return content;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        content.append(buf, n);
    }
    ::close(fd);
    return content;
}

// The fields of /proc/self/stat after "(comm)", which may itself contain spaces and ')':
// index 0 is field 3 (state) of proc(5).
QList<QByteArrayView> statFields(const QByteArray &stat)
{
    QList<QByteArrayView> fields;
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return fields;
    QByteArrayView rest = QByteArrayView(stat).sliced(close + 1).trimmed();
    qsizetype pos = 0;
    while (pos < rest.size()) {
        qsizetype space = rest.indexOf(' ', pos);
        if (space < 0)
            space = rest.size();
        fields.append(rest.sliced(pos, space - pos));
        pos = space + 1;
    }
    return fields;
}

// proc(5) field n (1-based) from statFields().
qint64 statField(const QList<QByteArrayView> &fields, int n)
{
    const qsizetype i = n - 3;
    if (i < 0 || i >= fields.size())
        return -1;
    qint64 value = -1;
    const QByteArrayView f = fields[i];
    std::from_chars(f.data(), f.data() + f.size(), value);
    return value;
}

double clockTicks()
{
    static const double ticks = double(::sysconf(_SC_CLK_TCK));
    return ticks > 0 ? ticks : 100;
}

QList<MetricsRegistry::Sample> one(double value)
{
    if (value < 0)
        return {};  // unreadable: expose HELP/TYPE only rather than a wrong number
    return {MetricsRegistry::Sample{{}, value}};
}

}  // namespace

void ProcessMetrics::registerOn(MetricsRegistry &registry)
{
    registry.addCallbackCounter("process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds.", {},
                                [] { return one(cpuSeconds()); });
    registry.addCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                              [] { return one(double(residentMemoryBytes())); });
    registry.addCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                              [] { return one(double(virtualMemoryBytes())); });
    registry.addCallbackGauge("process_open_fds", "Number of open file descriptors.", {},
                              [] { return one(double(openFds())); });
    registry.addCallbackGauge("process_max_fds", "Maximum number of open file descriptors.", {},
                              [] { return one(maxFds()); });
    registry.addCallbackGauge("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.", {},
                              [] { return one(startTimeSeconds()); });
}

qint64 ProcessMetrics::residentMemoryBytes()
{
    // statm is shorter to parse than stat: "size resident shared ..." in pages.
    const QByteArray statm = readProcFile("/proc/self/statm");
    const qsizetype space = statm.indexOf(' ');
    if (space < 0)
        return -1;
    qint64 pages = -1;
    const char *begin = statm.constData() + space + 1;
    std::from_chars(begin, statm.constData() + statm.size(), pages);
    if (pages < 0)
        return -1;
    return pages * qint64(::sysconf(_SC_PAGESIZE));
}

double ProcessMetrics::cpuSeconds()
{
    const QByteArray stat = readProcFile("/proc/self/stat");
    const QList<QByteArrayView> fields = statFields(stat);
    const qint64 utime = statField(fields, 14);
    const qint64 stime = statField(fields, 15);
    if (utime < 0 || stime < 0)
        return -1;
    return double(utime + stime) / clockTicks();
}

qint64 ProcessMetrics::virtualMemoryBytes()
{
    const QByteArray stat = readProcFile("/proc/self/stat");
    return statField(statFields(stat), 23);  // vsize, in bytes
}

qint64 ProcessMetrics::openFds()
{
    DIR *dir = ::opendir("/proc/self/fd");
    if (!dir)
        return -1;
    qint64 count = 0;
    while (const dirent *entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.')
            ++count;
    }
    ::closedir(dir);
    return count - 1;  // not counting the descriptor opendir used
}

double ProcessMetrics::maxFds()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    if (limit.rlim_cur == RLIM_INFINITY)
        return std::numeric_limits<double>::infinity();
    return double(limit.rlim_cur);
}

double ProcessMetrics::startTimeSeconds()
{
    // Constant for the process: boot time (btime in /proc/stat) + starttime ticks after boot.
    static const double start = [] {
        const QByteArray procStat = readProcFile("/proc/stat");
        const qsizetype at = procStat.indexOf("\nbtime ");
        if (at < 0)
            return -1.0;
        qint64 bootTime = -1;
        const char *begin = procStat.constData() + at + 7;
        std::from_chars(begin, procStat.constData() + procStat.size(), bootTime);
        const QByteArray stat = readProcFile("/proc/self/stat");
        const qint64 startTicks = statField(statFields(stat), 22);
        if (bootTime < 0 || startTicks < 0)
            return -1.0;
        return double(bootTime) + double(startTicks) / clockTicks();
    }();
    return start;
}

}  // namespace sluice
