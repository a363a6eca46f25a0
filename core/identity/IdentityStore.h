#pragma once

#include "IdentityTypes.h"

#include <QHash>
#include <QList>

namespace sluice {

class DatabaseConnection;

// Everything the gateway's key cache needs, read in one go.
struct IdentitySnapshotData
{
    qint64 revision = 0;
    QList<Tier> tiers;
    QList<User> users;
    QList<ApiKey> keys;  // active and expired ones; revoked keys are left out
    PrincipalDefaults defaults;
};

// Reads for the gateway's hot-path cache and batched writes from it. Synchronous on a
// DatabaseConnection owned by the calling thread (the identity database thread).
class IdentityStore
{
public:
    explicit IdentityStore(DatabaseConnection &db);
    // The revision every AdminService edit bumps; -1 on error.
    qint64 revision(QString *error = nullptr);
    std::optional<IdentitySnapshotData> loadAll(QString *error = nullptr);
    // One transaction for a batch of last_used_at updates (keyId -> time).
    bool touchLastUsed(const QHash<qint64, QDateTime> &lastUsed, QString *error = nullptr);

private:
    DatabaseConnection &m_db;
};

}  // namespace sluice
