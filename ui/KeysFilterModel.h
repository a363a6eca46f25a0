#pragma once

#include <QtQml/qqmlregistration.h>
#include <QHash>
#include <QSortFilterProxyModel>

namespace sluice {

// Search, filters and sorting of the Keys page over a KeysModel. The search text matches user,
// key name, prefix and tier (case-insensitive); status and tier filters match exactly ("" = all).
//
// Sorting keeps a user's rows together: users are ordered by the best value of their visible
// rows in the sort direction (the smallest ascending, the largest descending), and rows within
// a user by their own value; ties keep the model's order (users by name, newest key first).
// Sorting by "user" orders the groups by name and leaves each user's keys as they are.
// Numbers sort as numbers; a limit of 0 or none (unlimited) sorts as the largest.
class KeysFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString search READ search WRITE setSearch NOTIFY filterChanged)
    Q_PROPERTY(QString status READ status WRITE setStatus NOTIFY filterChanged)
    Q_PROPERTY(QString tier READ tier WRITE setTier NOTIFY filterChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    // "" = the model's order; else user, keyName, prefix, tier, a limit field
    // ("requests_per_minute"), usage, lastUsed, status.
    Q_PROPERTY(QString sortKey READ sortKey NOTIFY sortChanged)
    Q_PROPERTY(bool descending READ descending NOTIFY sortChanged)
    // While true, changed figures do not move rows (an editor in the table keeps its row); the
    // order and the filters are brought up to date when it turns false.
    Q_PROPERTY(bool holdOrder READ holdOrder WRITE setHoldOrder NOTIFY holdOrderChanged)
public:
    explicit KeysFilterModel(QObject *parent = nullptr);

    QString search() const { return m_search; }
    void setSearch(const QString &text);
    QString status() const { return m_status; }
    void setStatus(const QString &status);
    QString tier() const { return m_tier; }
    void setTier(const QString &tier);
    int count() const { return rowCount(); }
    // The source row of a filtered row, for KeysModel::get().
    Q_INVOKABLE int sourceRow(int row) const;

    QString sortKey() const { return m_sortKey; }
    bool descending() const { return m_descending; }
    // Sorts by `key` ascending, or reverses the order when it is already the sort key.
    Q_INVOKABLE void toggleSort(const QString &key);
    // `key` "" restores the model's order.
    Q_INVOKABLE void sortBy(const QString &key, bool descending);
    bool holdOrder() const { return m_holdOrder; }
    void setHoldOrder(bool hold);

    void setSourceModel(QAbstractItemModel *model) override;

signals:
    void filterChanged();
    void countChanged();
    void sortChanged();
    void holdOrderChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    // One row's value under the sort key: a number, or text compared case-insensitively.
    struct SortValue
    {
        bool isNumber = false;
        double number = 0;
        double then = 0;  // second number, on a tie: usage's tokens after its requests
        QString text;
    };
    SortValue sortValue(int sourceRow) const;
    static int compare(const SortValue &a, const SortValue &b);
    const SortValue &groupValue(qint64 userId) const;
    void refilter();
    // Filters and sorts again from the source rows as they are now.
    void refresh();

    QString m_search;
    QString m_status;
    QString m_tier;
    QString m_sortKey;
    bool m_descending = false;
    bool m_holdOrder = false;
    bool m_refreshPending = false;
    // The per-user sort value of the current key and order; rebuilt on first use after the
    // rows, the filters or the sort changed.
    mutable QHash<qint64, SortValue> m_groups;
    mutable bool m_groupsValid = false;
};

}  // namespace sluice
