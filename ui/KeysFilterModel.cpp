#include "KeysFilterModel.h"

#include "KeysModel.h"

namespace sluice {

KeysFilterModel::KeysFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    connect(this, &QAbstractItemModel::rowsInserted, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::layoutChanged, this, &KeysFilterModel::countChanged);
}

void KeysFilterModel::setSearch(const QString &text)
{
    if (text == m_search)
        return;
    m_search = text;
    refilter();
}

void KeysFilterModel::setStatus(const QString &status)
{
    if (status == m_status)
        return;
    m_status = status;
    refilter();
}

void KeysFilterModel::setTier(const QString &tier)
{
    if (tier == m_tier)
        return;
    m_tier = tier;
    refilter();
}

void KeysFilterModel::refilter()
{
    invalidateFilter();
    emit filterChanged();
    emit countChanged();
}

int KeysFilterModel::sourceRow(int row) const
{
    return mapToSource(index(row, 0)).row();
}

bool KeysFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex i = sourceModel()->index(sourceRow, 0, sourceParent);
    auto text = [&](int role) { return i.data(role).toString(); };
    if (!m_status.isEmpty() && text(KeysModel::StatusRole) != m_status)
        return false;
    if (!m_tier.isEmpty() && text(KeysModel::TierRole) != m_tier)
        return false;
    const QString needle = m_search.trimmed();
    if (needle.isEmpty())
        return true;
    for (int role : {KeysModel::UserNameRole, KeysModel::KeyNameRole, KeysModel::PrefixRole,
                     KeysModel::TierRole}) {
        if (text(role).contains(needle, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

}  // namespace sluice
