#pragma once

#include "TrafficTail.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QHash>

namespace sluice {

// The Traffic page's live tail: the latest finished /v1 requests, newest first. New requests
// are inserted at the top (rows above stay where they are for a reader scrolling below).
class TrafficModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int rateLimitedCount READ rateLimitedCount NOTIFY countChanged)
public:
    enum Role
    {
        AtMsRole = Qt::UserRole + 1,
        RequestIdRole,
        MethodRole,
        RouteRole,
        PathRole,
        StatusRole,
        LatencyMsRole,
        UserRole,  // the user's name when known, else its id
        KeyRole    // the key's name or prefix when known, else its id
    };
    Q_ENUM(Role)

    explicit TrafficModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int rateLimitedCount() const;

    // `entries` newest first; the ones newer than the newest held are added at the top.
    void update(const QList<TrafficEntry> &entries);
    void setNames(const QHash<qint64, QString> &users, const QHash<qint64, QString> &keys);
    static constexpr int Capacity = 200;

signals:
    void countChanged();

private:
    QList<TrafficEntry> m_rows;
    QHash<qint64, QString> m_users;
    QHash<qint64, QString> m_keys;
};

}  // namespace sluice
