#pragma once

#include "AdminService.h"

#include <QJsonObject>
#include <QString>

namespace sluice {

class DatabaseConnection;

// One identity edit as a transaction: BEGIN (IMMEDIATE on SQLite; on PostgreSQL also a
// transaction-scoped advisory lock, so check-then-write steps such as "is this name taken" are
// exact across processes there too), audit rows, and at commit the identity_revision bump
// that makes every gateway's key cache reload. Rolls back unless committed.
class IdentityTransaction
{
public:
    IdentityTransaction(DatabaseConnection &db, const QString &actor);
    ~IdentityTransaction();
    IdentityTransaction(const IdentityTransaction &) = delete;
    IdentityTransaction &operator=(const IdentityTransaction &) = delete;

    bool begin(AdminError *error);
    // One audit_log row; also marks the transaction as a change (revision bump at commit).
    // `details` must never hold key material or hashes.
    bool audit(const QString &action, const QString &targetType, const QString &targetId,
               const QJsonObject &details, AdminError *error);
    bool commit(AdminError *error);

    bool changed() const { return m_changed; }
    DatabaseConnection &db() { return m_db; }

    // A failed statement as an Internal AdminError carrying the database's message (logged).
    static AdminError internalError(const QString &why);

private:
    DatabaseConnection &m_db;
    QString m_actor;
    bool m_open = false;
    bool m_changed = false;
};

}  // namespace sluice
