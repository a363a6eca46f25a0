#pragma once

#include "DashboardSource.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QVariantMap>

namespace sluice {

// The Tiers page: each tier's own limits (unset = inherit the per-principal default), its
// shadow flag and how many keys are on it.
class TiersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Role
    {
        NameRole = Qt::UserRole + 1,
        LimitsRole,  // {field: number}, only the set fields
        ShadowRole,
        KeyCountRole,
        ModelLimitCountRole
    };
    Q_ENUM(Role)

    explicit TiersModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    Q_INVOKABLE QVariantMap get(int row) const;

    void setSnapshot(const KeysSnapshot &snapshot);

signals:
    void countChanged();

private:
    struct Row
    {
        QString name;
        QVariantMap limits;
        bool shadow = false;
        qint64 keyCount = 0;
        int modelLimitCount = 0;
        bool operator==(const Row &) const = default;
    };
    QList<Row> m_rows;
};

}  // namespace sluice
