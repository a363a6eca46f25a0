#include "TiersModel.h"

#include "LimitJson.h"
#include "ModelRows.h"

namespace sluice {

TiersModel::TiersModel(QObject *parent) : QAbstractListModel(parent) {}

int TiersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> TiersModel::roleNames() const
{
    return {{NameRole, "name"},
            {LimitsRole, "limits"},
            {ShadowRole, "shadow"},
            {KeyCountRole, "keyCount"},
            {ModelLimitCountRole, "modelLimitCount"}};
}

QVariant TiersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
        case NameRole:
            return r.name;
        case LimitsRole:
            return r.limits;
        case ShadowRole:
            return r.shadow;
        case KeyCountRole:
            return r.keyCount;
        case ModelLimitCountRole:
            return r.modelLimitCount;
        default:
            return {};
    }
}

QVariantMap TiersModel::get(int row) const
{
    return modelRowAsMap(*this, row);
}

void TiersModel::setSnapshot(const KeysSnapshot &snapshot)
{
    QList<Row> rows;
    for (const QJsonValue &v : snapshot.tiers) {
        const QJsonObject t = v.toObject();
        Row r;
        r.name = t.value(QLatin1String("name")).toString();
        r.limits = LimitJson::toMap(LimitJson::overrides(t));
        r.shadow = t.value(QLatin1String("shadow")).toBool();
        r.keyCount = snapshot.keyCounts.value(r.name).toInteger();
        r.modelLimitCount = int(t.value(QLatin1String("model_limits")).toObject().size());
        rows.append(r);
    }
    if (rows == m_rows)
        return;
    const bool sameNames = rows.size() == m_rows.size() &&
                           std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(),
                                      [](const Row &a, const Row &b) { return a.name == b.name; });
    if (sameNames) {
        for (int i = 0; i < rows.size(); ++i) {
            if (!(rows.at(i) == m_rows.at(i))) {
                m_rows[i] = rows.at(i);
                emit dataChanged(index(i), index(i));
            }
        }
        return;
    }
    beginResetModel();
    m_rows = rows;
    endResetModel();
    emit countChanged();
}

}  // namespace sluice
