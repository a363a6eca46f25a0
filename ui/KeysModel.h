#pragma once

#include "DashboardSource.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QVariantMap>

namespace sluice {

// The Keys page: one row per API key with its user, effective tier and limits, this month's
// use and its status; users without a key get a row of their own (keyId 0) so their tier and
// limits can be edited too. Rebuilt from each KeysSnapshot; a row keeps its place when only
// its values changed, so an open inline editor is not reset by a refresh.
class KeysModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int activeKeyCount READ activeKeyCount NOTIFY countChanged)
    Q_PROPERTY(bool loaded READ loaded NOTIFY countChanged)
    Q_PROPERTY(QStringList tierNames READ tierNames NOTIFY countChanged)
public:
    enum Role
    {
        KeyIdRole = Qt::UserRole + 1,
        PrefixRole,
        KeyNameRole,
        UserNameRole,
        UserIdRole,
        UserTierRole,
        TierRole,      // effective: the key's own, else its user's
        OwnTierRole,   // the key's own tier; "" = its user's
        StatusRole,    // active | revoked | user disabled | no key
        LastUsedRole,  // ISO text, "" = never
        MonthRequestsRole,
        MonthTokensRole,
        EffectiveRole,      // {field: number}, 0 = unlimited
        OverridesRole,      // the key's own {field: number}, only set fields
        UserOverridesRole,  // the user's own
        UserEmailRole       // "" = none
    };
    Q_ENUM(Role)

    explicit KeysModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    int activeKeyCount() const;
    bool loaded() const { return m_loaded; }
    QStringList tierNames() const { return m_tierNames; }
    // The row's values by role name, for QML and tests ({} when out of range).
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE int rowOfPrefix(const QString &prefix) const;

    void setSnapshot(const KeysSnapshot &snapshot);
    // user id / key id -> name, for other pages that show ids.
    QHash<qint64, QString> userNames() const;
    QHash<qint64, QString> keyLabels() const;

signals:
    void countChanged();

private:
    struct Row
    {
        qint64 keyId = 0;
        QString prefix;
        QString keyName;
        QString userName;
        QString userEmail;
        qint64 userId = 0;
        QString userTier;
        QString tier;
        QString ownTier;
        QString status;
        QString lastUsed;
        qint64 monthRequests = 0;
        qint64 monthTokens = 0;
        QVariantMap effective;
        QVariantMap overrides;
        QVariantMap userOverrides;
        bool operator==(const Row &) const = default;
        // Same row identity: a key, or a user without a key.
        bool sameItem(const Row &o) const
        {
            return keyId == o.keyId && (keyId != 0 || userId == o.userId);
        }
    };
    static QList<Row> buildRows(const KeysSnapshot &snapshot);

    QList<Row> m_rows;
    QStringList m_tierNames;
    bool m_loaded = false;
};

}  // namespace sluice
