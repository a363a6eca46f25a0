#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QList>
#include <mutex>
#include <vector>

namespace sluice {

// One finished /v1 request, as the dashboard's traffic table shows it.
struct TrafficEntry
{
    qint64 atMs = 0;  // epoch ms when the answer was complete
    QByteArray requestId, method, route, path;
    int status = 0;
    double seconds = 0;
    QByteArray userId, keyId;
};

// The last finished /v1 requests, newest first. record() runs on the worker threads for every
// /v1 request: one short lock and a move into a preallocated ring, nothing else.
class TrafficTail
{
public:
    explicit TrafficTail(int capacity = 500);

    int capacity() const { return int(m_ring.size()); }
    void record(TrafficEntry entry);
    // The newest `limit` entries, newest first.
    QList<TrafficEntry> recent(int limit) const;

    // [{"at":"RFC 3339 with ms","request_id","method","route","path","status","duration_ms",
    //   "user_id","key_id"}] and back.
    static QJsonArray toJson(const QList<TrafficEntry> &entries);
    static QList<TrafficEntry> fromJson(const QJsonArray &json);

private:
    mutable std::mutex m_mutex;
    std::vector<TrafficEntry> m_ring;
    size_t m_next = 0;
    size_t m_size = 0;
};

}  // namespace sluice
