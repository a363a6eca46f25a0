#include "TrafficTail.h"

#include <QDateTime>
#include <QJsonObject>

namespace sluice {

namespace {

// Ids are whole numbers elsewhere in the admin API; an unauthenticated request has none.
QJsonValue idValue(const QByteArray &id)
{
    bool ok = false;
    const qint64 n = id.toLongLong(&ok);
    return ok ? QJsonValue(n) : QJsonValue(QJsonValue::Null);
}

QByteArray idText(const QJsonValue &v)
{
    if (v.isDouble())
        return QByteArray::number(qint64(v.toDouble()));
    return v.toString().toUtf8();
}

QByteArray text(const QJsonObject &o, const char *name)
{
    return o.value(QLatin1String(name)).toString().toUtf8();
}

}  // namespace

TrafficTail::TrafficTail(int capacity) : m_ring(size_t(qMax(1, capacity))) {}

void TrafficTail::record(TrafficEntry entry)
{
    {
        std::lock_guard lock(m_mutex);
        std::swap(m_ring[m_next], entry);
        m_next = (m_next + 1) % m_ring.size();
        m_size = qMin(m_size + 1, m_ring.size());
    }
    // `entry` now holds the overwritten one: freed here, outside the lock.
}

QList<TrafficEntry> TrafficTail::recent(int limit) const
{
    std::lock_guard lock(m_mutex);
    const size_t n = size_t(qBound(0, limit, int(m_size)));
    QList<TrafficEntry> out;
    out.reserve(qsizetype(n));
    for (size_t i = 1; i <= n; ++i)
        out.append(m_ring[(m_next + m_ring.size() - i) % m_ring.size()]);
    return out;
}

QJsonArray TrafficTail::toJson(const QList<TrafficEntry> &entries)
{
    QJsonArray array;
    for (const TrafficEntry &e : entries) {
        array.append(QJsonObject{
            {QStringLiteral("at"),
             QDateTime::fromMSecsSinceEpoch(e.atMs, Qt::UTC).toString(Qt::ISODateWithMs)},
            {QStringLiteral("request_id"), QString::fromUtf8(e.requestId)},
            {QStringLiteral("method"), QString::fromUtf8(e.method)},
            {QStringLiteral("route"), QString::fromUtf8(e.route)},
            {QStringLiteral("path"), QString::fromUtf8(e.path)},
            {QStringLiteral("status"), e.status},
            {QStringLiteral("duration_ms"), e.seconds * 1000.0},
            {QStringLiteral("user_id"), idValue(e.userId)},
            {QStringLiteral("key_id"), idValue(e.keyId)}});
    }
    return array;
}

QList<TrafficEntry> TrafficTail::fromJson(const QJsonArray &json)
{
    QList<TrafficEntry> entries;
    entries.reserve(json.size());
    for (const QJsonValue &v : json) {
        const QJsonObject o = v.toObject();
        TrafficEntry e;
        e.atMs = QDateTime::fromString(o.value(QStringLiteral("at")).toString(), Qt::ISODateWithMs)
                     .toMSecsSinceEpoch();
        e.requestId = text(o, "request_id");
        e.method = text(o, "method");
        e.route = text(o, "route");
        e.path = text(o, "path");
        e.status = o.value(QStringLiteral("status")).toInt();
        e.seconds = o.value(QStringLiteral("duration_ms")).toDouble() / 1000.0;
        e.userId = idText(o.value(QStringLiteral("user_id")));
        e.keyId = idText(o.value(QStringLiteral("key_id")));
        entries.append(e);
    }
    return entries;
}

}  // namespace sluice
