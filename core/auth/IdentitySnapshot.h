#pragma once

#include "IdentityStore.h"
#include "Principal.h"

#include <QHash>
#include <memory>
#include <vector>

namespace sluice {

// An immutable view of every usable key, built on the identity thread from the database and
// published to the workers as a whole (KeyCache). Lookups never touch the database: a key
// missing here is unknown (or revoked), which also makes guessing cheap to refuse.
class IdentitySnapshot
{
public:
    static std::shared_ptr<const IdentitySnapshot> build(const IdentitySnapshotData &data);

    // By the raw 32-byte SHA-256 of the presented key; the match is confirmed in constant time.
    const Principal *find(const QByteArray &hash) const;
    qint64 revision() const { return m_revision; }
    // Limits of the "anonymous" tier (failed authentications, per client IP).
    const EffectiveLimits &anonymousLimits() const { return m_anonymous; }
    const std::vector<std::unique_ptr<Principal>> &principals() const { return m_principals; }
    // Carries last-use times over from the snapshot this one replaces.
    void inheritUsage(const IdentitySnapshot &previous) const;

private:
    qint64 m_revision = 0;
    EffectiveLimits m_anonymous;
    std::vector<std::unique_ptr<Principal>> m_principals;
    QHash<QByteArray, const Principal *> m_byHash;
    QHash<qint64, const Principal *> m_byKeyId;
};

}  // namespace sluice
