#pragma once

#include <QtGlobal>

namespace sluice {

class MetricsRegistry;

// The standard Prometheus process metrics (Linux, from /proc/self and getrlimit), read at
// scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds.
class ProcessMetrics
{
public:
    static void registerOn(MetricsRegistry &registry);

    // Resident set size in bytes, -1 when unreadable (the memory health check uses it).
    static qint64 residentMemoryBytes();

    static double cpuSeconds();          // user + system, -1 when unreadable
    static qint64 virtualMemoryBytes();  // -1 when unreadable
    static qint64 openFds();             // -1 when unreadable
    static double maxFds();              // soft RLIMIT_NOFILE, +Inf when unlimited
    static double startTimeSeconds();    // since the Unix epoch, -1 when unreadable
};

}  // namespace sluice
