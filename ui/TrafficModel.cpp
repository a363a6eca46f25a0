#include "TrafficModel.h"

#include <algorithm>

namespace sluice {

TrafficModel::TrafficModel(QObject *parent) : QAbstractListModel(parent) {}

int TrafficModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> TrafficModel::roleNames() const
{
    return {{AtMsRole, "atMs"},           {RequestIdRole, "requestId"}, {MethodRole, "method"},
            {RouteRole, "route"},         {PathRole, "path"},           {StatusRole, "status"},
            {LatencyMsRole, "latencyMs"}, {UserRole, "user"},           {KeyRole, "key"}};
}

QVariant TrafficModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TrafficEntry &e = m_rows.at(index.row());
    auto named = [](const QHash<qint64, QString> &names, const QByteArray &id) {
        bool numeric = false;
        const qint64 n = id.toLongLong(&numeric);
        return numeric && names.contains(n) ? names.value(n) : QString::fromUtf8(id);
    };
    switch (role) {
        case Qt::DisplayRole:
        case PathRole:
            return QString::fromUtf8(e.path);
        case AtMsRole:
            return double(e.atMs);
        case RequestIdRole:
            return QString::fromUtf8(e.requestId);
        case MethodRole:
            return QString::fromUtf8(e.method);
        case RouteRole:
            return QString::fromUtf8(e.route);
        case StatusRole:
            return e.status;
        case LatencyMsRole:
            return e.seconds * 1000.0;
        case UserRole:
            return named(m_users, e.userId);
        case KeyRole:
            return named(m_keys, e.keyId);
        default:
            return {};
    }
}

int TrafficModel::rateLimitedCount() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(),
                             [](const TrafficEntry &e) { return e.status == 429; }));
}

void TrafficModel::update(const QList<TrafficEntry> &entries)
{
    const qint64 newestMs = m_rows.isEmpty() ? -1 : m_rows.first().atMs;
    const QByteArray newestId = m_rows.isEmpty() ? QByteArray() : m_rows.first().requestId;
    QList<TrafficEntry> fresh;
    for (const TrafficEntry &e : entries) {
        if (e.atMs < newestMs || (e.atMs == newestMs && e.requestId == newestId))
            break;
        fresh.append(e);
        if (fresh.size() == Capacity)
            break;
    }
    if (fresh.isEmpty())
        return;
    beginInsertRows(QModelIndex(), 0, int(fresh.size()) - 1);
    m_rows = fresh + m_rows;
    endInsertRows();
    if (m_rows.size() > Capacity) {
        beginRemoveRows(QModelIndex(), Capacity, int(m_rows.size()) - 1);
        m_rows.resize(Capacity);
        endRemoveRows();
    }
    emit countChanged();
}

void TrafficModel::setNames(const QHash<qint64, QString> &users, const QHash<qint64, QString> &keys)
{
    if (users == m_users && keys == m_keys)
        return;
    m_users = users;
    m_keys = keys;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0), index(int(m_rows.size()) - 1), {UserRole, KeyRole});
}

}  // namespace sluice
