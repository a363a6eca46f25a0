#include "KeysModel.h"

#include "LimitJson.h"
#include "ModelRows.h"

#include <algorithm>

namespace sluice {

KeysModel::KeysModel(QObject *parent) : QAbstractListModel(parent) {}

int KeysModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> KeysModel::roleNames() const
{
    return {{KeyIdRole, "keyId"},
            {PrefixRole, "prefix"},
            {KeyNameRole, "keyName"},
            {UserNameRole, "userName"},
            {UserIdRole, "userId"},
            {UserTierRole, "userTier"},
            {TierRole, "tier"},
            {OwnTierRole, "ownTier"},
            {StatusRole, "status"},
            {LastUsedRole, "lastUsed"},
            {MonthRequestsRole, "monthRequests"},
            {MonthTokensRole, "monthTokens"},
            {EffectiveRole, "effective"},
            {OverridesRole, "overrides"},
            {UserOverridesRole, "userOverrides"},
            {UserEmailRole, "userEmail"}};
}

QVariant KeysModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
            return r.prefix.isEmpty() ? r.userName : r.prefix;
        case KeyIdRole:
            return r.keyId;
        case PrefixRole:
            return r.prefix;
        case KeyNameRole:
            return r.keyName;
        case UserNameRole:
            return r.userName;
        case UserIdRole:
            return r.userId;
        case UserTierRole:
            return r.userTier;
        case TierRole:
            return r.tier;
        case OwnTierRole:
            return r.ownTier;
        case StatusRole:
            return r.status;
        case LastUsedRole:
            return r.lastUsed;
        case MonthRequestsRole:
            return r.monthRequests;
        case MonthTokensRole:
            return r.monthTokens;
        case EffectiveRole:
            return r.effective;
        case OverridesRole:
            return r.overrides;
        case UserOverridesRole:
            return r.userOverrides;
        case UserEmailRole:
            return r.userEmail;
        default:
            return {};
    }
}

QVariantMap KeysModel::get(int row) const
{
    return modelRowAsMap(*this, row);
}

int KeysModel::rowOfPrefix(const QString &prefix) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).prefix == prefix)
            return i;
    }
    return -1;
}

int KeysModel::activeKeyCount() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row &r) {
        return r.keyId != 0 && r.status == QLatin1String("active");
    }));
}

QHash<qint64, QString> KeysModel::userNames() const
{
    QHash<qint64, QString> out;
    for (const Row &r : m_rows)
        out.insert(r.userId, r.userName);
    return out;
}

QHash<qint64, QString> KeysModel::keyLabels() const
{
    QHash<qint64, QString> out;
    for (const Row &r : m_rows) {
        if (r.keyId != 0)
            out.insert(r.keyId, r.keyName.isEmpty() ? r.prefix : r.keyName);
    }
    return out;
}

QList<KeysModel::Row> KeysModel::buildRows(const KeysSnapshot &s)
{
    QHash<QString, QJsonObject> tiers;
    for (const QJsonValue &t : s.tiers)
        tiers.insert(t[QLatin1String("name")].toString(), t.toObject());
    QHash<qint64, QJsonObject> users;
    for (const QJsonValue &u : s.users)
        users.insert(u[QLatin1String("id")].toInteger(), u.toObject());
    const QJsonObject keyDefaults = s.defaults.value(QLatin1String("key")).toObject();

    QList<Row> rows;
    QSet<qint64> usersWithKeys;
    for (const QJsonValue &v : s.keys) {
        const QJsonObject k = v.toObject();
        Row r;
        r.keyId = k.value(QLatin1String("id")).toInteger();
        r.userId = k.value(QLatin1String("user_id")).toInteger();
        const QJsonObject user = users.value(r.userId);
        r.prefix = k.value(QLatin1String("prefix")).toString();
        r.keyName = k.value(QLatin1String("name")).toString();
        r.userName = k.value(QLatin1String("user")).toString();
        r.userTier = user.value(QLatin1String("tier")).toString();
        r.userEmail = user.value(QLatin1String("email")).toString();
        r.ownTier = k.value(QLatin1String("tier")).toString();
        r.tier = r.ownTier.isEmpty() ? r.userTier : r.ownTier;
        r.status = k.value(QLatin1String("status")).toString();
        if (r.status == QLatin1String("active") &&
            user.value(QLatin1String("status")).toString() == QLatin1String("disabled"))
            r.status = QStringLiteral("user disabled");
        r.lastUsed = k.value(QLatin1String("last_used_at")).toString();
        r.monthRequests = s.monthRequests.value(r.keyId);
        r.monthTokens = s.monthTokens.value(r.keyId);
        r.effective = LimitJson::toMap(LimitJson::effective(k, tiers.value(r.tier), keyDefaults));
        r.overrides = LimitJson::toMap(LimitJson::overrides(k));
        r.userOverrides = LimitJson::toMap(LimitJson::overrides(user));
        usersWithKeys.insert(r.userId);
        rows.append(r);
    }
    for (auto it = users.cbegin(); it != users.cend(); ++it) {
        if (usersWithKeys.contains(it.key()))
            continue;
        Row r;
        r.userId = it.key();
        r.userName = it->value(QLatin1String("name")).toString();
        r.userTier = it->value(QLatin1String("tier")).toString();
        r.userEmail = it->value(QLatin1String("email")).toString();
        r.tier = r.userTier;
        r.status = QStringLiteral("no key");
        r.userOverrides = LimitJson::toMap(LimitJson::overrides(*it));
        rows.append(r);
    }
    // Users by name, their keys newest first; users without keys after their peers.
    std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        const int byUser = a.userName.compare(b.userName);
        if (byUser != 0)
            return byUser < 0;
        return a.keyId > b.keyId;
    });
    return rows;
}

void KeysModel::setSnapshot(const KeysSnapshot &snapshot)
{
    const QList<Row> rows = buildRows(snapshot);
    QStringList tierNames;
    for (const QJsonValue &t : snapshot.tiers)
        tierNames.append(t[QLatin1String("name")].toString());
    const bool sameShape = rows.size() == m_rows.size() &&
                           std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(),
                                      [](const Row &a, const Row &b) { return a.sameItem(b); });
    m_tierNames = tierNames;
    m_loaded = true;
    if (sameShape) {
        for (int i = 0; i < rows.size(); ++i) {
            if (!(rows.at(i) == m_rows.at(i))) {
                m_rows[i] = rows.at(i);
                emit dataChanged(index(i), index(i));
            }
        }
    } else {
        beginResetModel();
        m_rows = rows;
        endResetModel();
    }
    emit countChanged();  // also the active count and the tier names
}

}  // namespace sluice
