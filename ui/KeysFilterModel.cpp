#include "KeysFilterModel.h"

#include "KeysModel.h"

#include <QDateTime>
#include <limits>

namespace sluice {

namespace {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

const QStringList &limitFields()
{
    static const QStringList fields = {
        QStringLiteral("requests_per_second"), QStringLiteral("burst"),
        QStringLiteral("requests_per_minute"), QStringLiteral("tokens_per_minute"),
        QStringLiteral("monthly_requests"),    QStringLiteral("monthly_tokens"),
        QStringLiteral("concurrent_requests")};
    return fields;
}

// A limit as it sorts: 0 and none both mean unlimited, the largest.
double limitValue(const QVariant &v)
{
    if (!v.isValid() || v.isNull())
        return kUnlimited;
    const double d = v.toDouble();
    return d == 0 ? kUnlimited : d;
}

}  // namespace

KeysFilterModel::KeysFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    // Re-sorting is ours (resort()): a user's position depends on all of its rows, which the
    // proxy's own per-row dynamic re-sort would not see, and an editor must keep its row.
    setDynamicSortFilter(false);
    connect(this, &QAbstractItemModel::rowsInserted, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &KeysFilterModel::countChanged);
    connect(this, &QAbstractItemModel::layoutChanged, this, &KeysFilterModel::countChanged);
}

void KeysFilterModel::setSourceModel(QAbstractItemModel *model)
{
    if (sourceModel())
        disconnect(sourceModel(), nullptr, this, nullptr);
    // After the proxy's own connections, so its mapping is current when these run.
    QSortFilterProxyModel::setSourceModel(model);
    if (!model)
        return;
    // Once per turn of the event loop: a refresh of the keys changes many rows one by one.
    auto changed = [this] {
        m_groupsValid = false;
        if (m_refreshPending)
            return;
        m_refreshPending = true;
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_refreshPending = false;
                if (!m_holdOrder)
                    refresh();
            },
            Qt::QueuedConnection);
    };
    connect(model, &QAbstractItemModel::modelReset, this, changed);
    connect(model, &QAbstractItemModel::dataChanged, this, changed);
    connect(model, &QAbstractItemModel::rowsInserted, this, changed);
    connect(model, &QAbstractItemModel::rowsRemoved, this, changed);
    connect(model, &QAbstractItemModel::layoutChanged, this, changed);
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
    refresh();
    emit filterChanged();
    emit countChanged();
}

void KeysFilterModel::refresh()
{
    m_groupsValid = false;
    invalidateFilter();
    // Without dynamic sorting the proxy neither re-sorts nor places rows a filter let in.
    m_groupsValid = false;
    sort(m_sortKey.isEmpty() ? -1 : 0, m_descending ? Qt::DescendingOrder : Qt::AscendingOrder);
}

void KeysFilterModel::toggleSort(const QString &key)
{
    sortBy(key, key == m_sortKey && !key.isEmpty() ? !m_descending : false);
}

void KeysFilterModel::sortBy(const QString &key, bool descending)
{
    if (key == m_sortKey && descending == m_descending)
        return;
    m_sortKey = key;
    m_descending = descending;
    m_groupsValid = false;
    sort(key.isEmpty() ? -1 : 0, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    emit sortChanged();
}

void KeysFilterModel::setHoldOrder(bool hold)
{
    if (hold == m_holdOrder)
        return;
    m_holdOrder = hold;
    if (!hold)
        refresh();
    emit holdOrderChanged();
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

KeysFilterModel::SortValue KeysFilterModel::sortValue(int sourceRow) const
{
    const QModelIndex i = sourceModel()->index(sourceRow, 0);
    SortValue v;
    auto text = [&](int role) {
        v.text = i.data(role).toString();
        return v;
    };
    auto number = [&](double n, double then = 0) {
        v.isNumber = true;
        v.number = n;
        v.then = then;
        return v;
    };
    const bool isKey = i.data(KeysModel::KeyIdRole).toLongLong() != 0;
    if (m_sortKey == QLatin1String("user"))
        return text(KeysModel::UserNameRole);
    if (m_sortKey == QLatin1String("keyName"))
        return text(KeysModel::KeyNameRole);
    if (m_sortKey == QLatin1String("prefix"))
        return text(KeysModel::PrefixRole);
    if (m_sortKey == QLatin1String("tier"))
        return text(KeysModel::TierRole);
    if (m_sortKey == QLatin1String("status"))
        return text(KeysModel::StatusRole);
    if (m_sortKey == QLatin1String("usage"))
        return number(i.data(KeysModel::MonthRequestsRole).toDouble(),
                      i.data(KeysModel::MonthTokensRole).toDouble());
    if (m_sortKey == QLatin1String("lastUsed")) {
        const QString at = i.data(KeysModel::LastUsedRole).toString();
        const QDateTime t = QDateTime::fromString(at, Qt::ISODateWithMs);
        return number(t.isValid() ? double(t.toMSecsSinceEpoch()) : -1);  // never: oldest
    }
    if (limitFields().contains(m_sortKey)) {
        // What the row's field shows: a key's effective limit, a keyless user's own value.
        const QVariantMap limits =
            i.data(isKey ? KeysModel::EffectiveRole : KeysModel::UserOverridesRole).toMap();
        return number(limitValue(limits.value(m_sortKey)));
    }
    return v;
}

int KeysFilterModel::compare(const SortValue &a, const SortValue &b)
{
    if (a.isNumber) {
        if (a.number != b.number)
            return a.number < b.number ? -1 : 1;
        if (a.then != b.then)
            return a.then < b.then ? -1 : 1;
        return 0;
    }
    return a.text.compare(b.text, Qt::CaseInsensitive);
}

const KeysFilterModel::SortValue &KeysFilterModel::groupValue(qint64 userId) const
{
    if (!m_groupsValid) {
        m_groups.clear();
        const bool descending = sortOrder() == Qt::DescendingOrder;
        QAbstractItemModel *source = sourceModel();
        for (int row = 0; row < source->rowCount(); ++row) {
            if (!filterAcceptsRow(row, {}))
                continue;
            const qint64 user = source->index(row, 0).data(KeysModel::UserIdRole).toLongLong();
            const SortValue v = sortValue(row);
            auto it = m_groups.find(user);
            if (it == m_groups.end())
                m_groups.insert(user, v);
            else if (descending ? compare(v, *it) > 0 : compare(v, *it) < 0)
                *it = v;
        }
        m_groupsValid = true;
    }
    static const SortValue none;
    const auto it = m_groups.constFind(userId);
    return it == m_groups.cend() ? none : *it;
}

bool KeysFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    // Ties keep the model's order in both directions: the proxy sorts descending by calling
    // lessThan(right, left), so the tie-break is turned around to cancel that out.
    const bool descending = sortOrder() == Qt::DescendingOrder;
    const bool modelOrder = (left.row() < right.row()) != descending;
    const qint64 leftUser = left.data(KeysModel::UserIdRole).toLongLong();
    const qint64 rightUser = right.data(KeysModel::UserIdRole).toLongLong();
    if (leftUser != rightUser) {
        const int byGroup = compare(groupValue(leftUser), groupValue(rightUser));
        return byGroup != 0 ? byGroup < 0 : modelOrder;  // a user's rows are adjacent there
    }
    if (m_sortKey != QLatin1String("user")) {
        const int byRow = compare(sortValue(left.row()), sortValue(right.row()));
        if (byRow != 0)
            return byRow < 0;
    }
    return modelOrder;
}

}  // namespace sluice
