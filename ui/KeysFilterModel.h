#pragma once

#include <QtQml/qqmlregistration.h>
#include <QSortFilterProxyModel>

namespace sluice {

// Search and filters of the Keys page over a KeysModel: the search text matches user, key
// name, prefix and tier (case-insensitive); status and tier filters match exactly ("" = all).
class KeysFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString search READ search WRITE setSearch NOTIFY filterChanged)
    Q_PROPERTY(QString status READ status WRITE setStatus NOTIFY filterChanged)
    Q_PROPERTY(QString tier READ tier WRITE setTier NOTIFY filterChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
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

signals:
    void filterChanged();
    void countChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    void refilter();

    QString m_search;
    QString m_status;
    QString m_tier;
};

}  // namespace sluice
