#include "IdentityStore.h"

#include "DatabaseConnection.h"
#include "IdentityRows.h"
#include "ModelLimitRows.h"
#include "Timestamp.h"

namespace sluice {

namespace {

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

}  // namespace

IdentityStore::IdentityStore(DatabaseConnection &db) : m_db(db) {}

qint64 IdentityStore::revision(QString *error)
{
    auto q = m_db.query(QStringLiteral("SELECT revision FROM identity_revision WHERE id = 1"), {},
                        error);
    if (!q)
        return -1;
    if (!q->next()) {
        setError(error, QStringLiteral("identity_revision has no row; is the identity schema "
                                       "migrated?"));
        return -1;
    }
    return q->value(0).toLongLong();
}

std::optional<IdentitySnapshotData> IdentityStore::loadAll(QString *error)
{
    // No transaction (BEGIN IMMEDIATE would take SQLite's write lock for a read). Instead the
    // revision is read first: an edit committed during the load makes the data newer than the
    // revision, never older, so the next poll sees a higher revision and loads again.
    IdentitySnapshotData data;
    data.revision = revision(error);
    if (data.revision < 0)
        return std::nullopt;

    {
        auto q =
            m_db.query(IdentityRows::tierSelect() + QStringLiteral(" ORDER BY name"), {}, error);
        if (!q)
            return std::nullopt;
        while (q->next())
            data.tiers << IdentityRows::tierFrom(*q);
    }
    {
        auto q = m_db.query(IdentityRows::userSelect() + QStringLiteral(" ORDER BY id"), {}, error);
        if (!q)
            return std::nullopt;
        while (q->next())
            data.users << IdentityRows::userFrom(*q);
    }
    {
        auto q = m_db.query(IdentityRows::keySelect() +
                                QStringLiteral(" WHERE k.status <> 'revoked' ORDER BY k.id"),
                            {}, error);
        if (!q)
            return std::nullopt;
        while (q->next())
            data.keys << IdentityRows::keyFrom(*q);
    }
    if (!ModelLimitRows::attach(m_db, data.tiers, error) ||
        !ModelLimitRows::attach(m_db, data.keys, error))
        return std::nullopt;
    {
        auto q = m_db.query(IdentityRows::defaultsSelect(), {}, error);
        if (!q)
            return std::nullopt;
        while (q->next()) {
            const QString principal = q->value(0).toString();
            if (principal == QLatin1String("user"))
                data.defaults.user = IdentityRows::limitsAt(*q, 1);
            else if (principal == QLatin1String("key"))
                data.defaults.key = IdentityRows::limitsAt(*q, 1);
        }
    }
    return data;
}

bool IdentityStore::touchLastUsed(const QHash<qint64, QDateTime> &lastUsed, QString *error)
{
    if (lastUsed.isEmpty())
        return true;
    if (!m_db.beginTransaction(error))
        return false;
    bool ok = true;
    {
        // Only forward: two gateways flushing out of order must not move a time back. Not an
        // identity edit, so no revision bump (caches need not reload for it).
        auto q =
            m_db.prepare(QStringLiteral("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND "
                                        "(last_used_at IS NULL OR last_used_at < ?)"),
                         error);
        ok = q.has_value();
        for (auto it = lastUsed.cbegin(); ok && it != lastUsed.cend(); ++it) {
            const QString at = Timestamp::toText(it.value());
            if (at.isEmpty())
                continue;
            ok = m_db.execPrepared(*q, {at, it.key(), at}, error);
        }
    }
    if (ok && m_db.commit(error))
        return true;
    m_db.rollback(nullptr);
    return false;
}

}  // namespace sluice
