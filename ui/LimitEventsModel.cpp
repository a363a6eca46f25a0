#include "LimitEventsModel.h"

#include "Formatter.h"

#include <QJsonObject>
#include <algorithm>

namespace sluice {

LimitEventsModel::LimitEventsModel(QObject *parent) : QAbstractListModel(parent) {}

int LimitEventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> LimitEventsModel::roleNames() const
{
    return {{KindRole, "kind"},           {AtRole, "at"},         {WhoRole, "who"},
            {LimitNameRole, "limitName"}, {DetailRole, "detail"}, {ShadowRole, "shadow"}};
}

QVariant LimitEventsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
        case KindRole:
            return r.kind;
        case AtRole:
            return r.at;
        case Qt::DisplayRole:
        case WhoRole: {
            const QString user = m_users.value(r.userId, QStringLiteral("user %1").arg(r.userId));
            if (r.keyId == 0)
                return user;
            return user + QStringLiteral(" / ") +
                   m_keys.value(r.keyId, QStringLiteral("key %1").arg(r.keyId));
        }
        case LimitNameRole:
            return r.limitName;
        case DetailRole:
            return r.detail;
        case ShadowRole:
            return r.shadow;
        default:
            return {};
    }
}

int LimitEventsModel::alertCount() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(),
                             [](const Row &r) { return r.kind == QLatin1String("alert"); }));
}

void LimitEventsModel::setEvents(const QJsonArray &violations, const QJsonArray &alerts)
{
    m_violations = violations;
    m_alerts = alerts;
    rebuild();
}

void LimitEventsModel::setNames(const QHash<qint64, QString> &users,
                                const QHash<qint64, QString> &keys)
{
    if (users == m_users && keys == m_keys)
        return;
    m_users = users;
    m_keys = keys;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0), index(int(m_rows.size()) - 1), {WhoRole, Qt::DisplayRole});
}

// What violations and alerts have alike: who, which limit, and when (`atField`).
LimitEventsModel::Row LimitEventsModel::rowOf(const QString &kind, const QJsonObject &o,
                                              QLatin1String atField)
{
    Row r;
    r.kind = kind;
    r.at = o.value(atField).toString();
    r.userId = o.value(QLatin1String("user_id")).toInteger();
    r.keyId = o.value(QLatin1String("key_id")).toInteger();
    r.limitName = o.value(QLatin1String("limit_name")).toString();
    return r;
}

void LimitEventsModel::rebuild()
{
    QList<Row> rows;
    for (const QJsonValue &v : std::as_const(m_violations)) {
        const QJsonObject o = v.toObject();
        Row r = rowOf(QStringLiteral("violation"), o, QLatin1String("minute"));
        r.shadow = o.value(QLatin1String("shadow")).toBool();
        const qint64 n = o.value(QLatin1String("count")).toInteger();
        r.detail =
            QStringLiteral("%1 %2 on %3")
                .arg(Formatter::count(double(n)),
                     r.shadow ? QStringLiteral("shadow denial(s)") : QStringLiteral("denial(s)"),
                     o.value(QLatin1String("route")).toString());
        rows.append(r);
    }
    for (const QJsonValue &v : std::as_const(m_alerts)) {
        const QJsonObject o = v.toObject();
        Row r = rowOf(QStringLiteral("alert"), o, QLatin1String("at"));
        r.detail = QStringLiteral("%1 % of %2 (%3 used) in %4")
                       .arg(o.value(QLatin1String("threshold_percent")).toInt())
                       .arg(Formatter::count(o.value(QLatin1String("limit")).toDouble()),
                            Formatter::count(o.value(QLatin1String("used")).toDouble()),
                            o.value(QLatin1String("month")).toString());
        rows.append(r);
    }
    // ISO 8601 UTC text sorts by time.
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row &a, const Row &b) { return a.at > b.at; });
    if (rows == m_rows)
        return;
    beginResetModel();
    m_rows = rows;
    endResetModel();
    emit countChanged();
}

}  // namespace sluice
