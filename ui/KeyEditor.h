#pragma once

#include "DashboardSource.h"

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QVariantMap>

namespace sluice {

// Every edit the pages make, turned into one admin edit (one transaction in AdminService): a
// new key, a revoke, one limit or the tier of a key, a user or a tier, a user's name and email,
// a new tier or a tier's shadow mode. Nothing is validated here (except a duplicate new tier): the
// admin service refuses bad values and its message comes back in finished(). Each call returns a
// ticket that finished() names.
class KeyEditor : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY finished)
public:
    explicit KeyEditor(QObject *parent = nullptr);

    void setSource(DashboardSource *source);
    bool busy() const { return !m_pending.isEmpty(); }
    QString lastError() const { return m_lastError; }

    // A key for `userName` (created with the key when `createUser`); tier "" = the user's.
    Q_INVOKABLE int createKey(const QString &userName, const QString &keyName, const QString &tier,
                              bool createUser);
    Q_INVOKABLE int revokeKey(const QString &keyId);
    // `text` as typed: "" resets to inherit, "0" is unlimited (see LimitJson::valueForText).
    Q_INVOKABLE int setKeyLimit(const QString &keyId, const QString &field, const QString &text);
    Q_INVOKABLE int setKeyTier(const QString &keyId, const QString &tier);
    Q_INVOKABLE int setUserLimit(const QString &userName, const QString &field,
                                 const QString &text);
    Q_INVOKABLE int setUserTier(const QString &userName, const QString &tier);
    // Renames the user and sets its email ("" removes it) in one edit: both or neither.
    Q_INVOKABLE int setUserIdentity(const QString &userName, const QString &newName,
                                    const QString &email);
    Q_INVOKABLE int setTierLimit(const QString &tierName, const QString &field,
                                 const QString &text);
    // A new tier, every limit inherited until edited (the admin service checks the name).
    // Refused here when `existing` has the name: creating must not edit a tier by accident.
    Q_INVOKABLE int createTier(const QString &name, const QStringList &existing);
    // Shadow mode: the tier's limits are evaluated and counted, never enforced.
    Q_INVOKABLE int setTierShadow(const QString &tierName, bool shadow);

signals:
    // ok: the edit is saved (the gateway applies it within a second); else `message` says why
    // and nothing was changed. `result` is the edited resource's JSON.
    void finished(int ticket, bool ok, const QString &message, const QVariantMap &result);
    // After a successful createKey: the plaintext, shown once.
    void keyCreated(int ticket, const QString &plaintext, const QString &prefix);
    void busyChanged();
    // Something was saved: the pages reload.
    void changed();

private:
    int submit(DashboardEdit::Kind kind, const QString &target, const QJsonObject &body);
    void onFinished(int ticket, const QJsonObject &result, const QString &error);
    // Answers a ticket with `message` on the next event-loop turn, like a refused edit.
    int refuse(const QString &message);

    QPointer<DashboardSource> m_source;
    QSet<int> m_pending;
    QSet<int> m_creates;
    int m_nextTicket = 1;
    QString m_lastError;
};

}  // namespace sluice
