#pragma once

#include <QHash>
#include <QString>
#include <array>
#include <atomic>
#include <memory>

namespace sluice {

// Outcomes of real requests per upstream over the last minute (six 10-second buckets of
// atomics, no lock), so an upstream's health comes from traffic first and an active probe is
// only needed when it has been quiet.
class UpstreamTraffic
{
public:
    struct Window
    {
        qint64 ok = 0;
        qint64 failed = 0;  // connection errors, timeouts, 5xx
    };
    explicit UpstreamTraffic(const QStringList &upstreams);
    void record(const QString &upstream, bool ok, qint64 nowMs);
    Window lastMinute(const QString &upstream, qint64 nowMs) const;

private:
    struct Bucket
    {
        std::atomic<qint64> slot{-1};  // nowMs / 10000 this bucket counts for
        std::atomic<qint64> ok{0};
        std::atomic<qint64> failed{0};
    };
    struct Series
    {
        std::array<Bucket, 6> buckets;
    };
    QHash<QString, std::shared_ptr<Series>> m_series;  // fixed after construction: read-only map
};

}  // namespace sluice
