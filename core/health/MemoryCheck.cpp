#include "MemoryCheck.h"

#include "ProcessMetrics.h"

namespace sluice {

MemoryCheck::MemoryCheck(qint64 limitBytes, RssReader readRss)
    : HealthCheck(QStringLiteral("memory"), QStringLiteral("memory"), false),
      m_limit(limitBytes),
      m_readRss(readRss ? std::move(readRss) : RssReader(&ProcessMetrics::residentMemoryBytes))
{}

HealthResult MemoryCheck::probe()
{
    HealthResult r;
    const qint64 rss = m_readRss();
    if (rss <= 0) {
        r.status = HealthStatus::Degraded;
        r.message = QStringLiteral("cannot read the resident memory size");
        return r;
    }
    const double ratio = m_limit > 0 ? double(rss) / double(m_limit) : 0.0;
    r.message = QStringLiteral("resident %1 MiB of %2 MiB limit")
                    .arg(rss / (1024 * 1024))
                    .arg(m_limit / (1024 * 1024));
    if (ratio > 1.0)
        r.status = HealthStatus::Unhealthy;
    else if (ratio > 0.9)
        r.status = HealthStatus::Degraded;
    else
        r.status = HealthStatus::Healthy;
    return r;
}

}  // namespace sluice
