#pragma once

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QHash>
#include <QJsonArray>

namespace sluice {

// The Traffic page's second table: recent rate-limit violations (one row per key, limit,
// route and minute) and monthly quota alerts, newest first, in one list.
class LimitEventsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int alertCount READ alertCount NOTIFY countChanged)
public:
    enum Role
    {
        KindRole = Qt::UserRole + 1,  // violation | alert
        AtRole,                       // ISO text: the minute, or when the alert was raised
        WhoRole,                      // "user / key"
        LimitNameRole,
        DetailRole,  // "3 denials on /v1/chat/completions", "80 % of 1,000 (812 used)"
        ShadowRole
    };
    Q_ENUM(Role)

    explicit LimitEventsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int alertCount() const;

    void setEvents(const QJsonArray &violations, const QJsonArray &alerts);
    void setNames(const QHash<qint64, QString> &users, const QHash<qint64, QString> &keys);

signals:
    void countChanged();

private:
    struct Row
    {
        QString kind;
        QString at;
        qint64 userId = 0;
        qint64 keyId = 0;
        QString limitName;
        QString detail;
        bool shadow = false;
        bool operator==(const Row &) const = default;
    };
    static Row rowOf(const QString &kind, const QJsonObject &o, QLatin1String atField);
    void rebuild();

    QJsonArray m_violations;
    QJsonArray m_alerts;
    QList<Row> m_rows;
    QHash<qint64, QString> m_users;
    QHash<qint64, QString> m_keys;
};

}  // namespace sluice
