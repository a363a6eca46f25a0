#include "IdentitySnapshot.h"

#include "ApiKeyCodec.h"
#include "LimitResolver.h"

namespace sluice {

std::shared_ptr<const IdentitySnapshot> IdentitySnapshot::build(const IdentitySnapshotData &data)
{
    auto snapshot = std::make_shared<IdentitySnapshot>();
    snapshot->m_revision = data.revision;
    LimitResolver::Tiers tiers;
    for (const Tier &t : data.tiers)
        tiers.insert(t.name, t);
    if (tiers.contains(QStringLiteral("anonymous")))
        snapshot->m_anonymous =
            LimitResolver::resolve(tiers.value(QStringLiteral("anonymous")).limits);
    QHash<qint64, const User *> users;
    for (const User &u : data.users)
        users.insert(u.id, &u);

    snapshot->m_principals.reserve(size_t(data.keys.size()));
    for (const ApiKey &key : data.keys) {
        if (key.status != QLatin1String("active"))
            continue;
        const User *user = users.value(key.userId);
        if (!user)
            continue;
        auto p = std::make_unique<Principal>();
        p->keyId = key.id;
        p->userId = user->id;
        p->keyIdText = QByteArray::number(key.id);
        p->userIdText = QByteArray::number(user->id);
        p->userName = user->name;
        p->keyName = key.name;
        p->keyPrefix = key.prefix;
        p->tier = LimitResolver::effectiveTier(key, *user).toUtf8();
        p->userTier = user->tier.toUtf8();
        p->keyLimits = LimitResolver::forKey(key, *user, tiers, data.defaults);
        p->userLimits = LimitResolver::forUser(*user, tiers, data.defaults);
        p->modelLimits = LimitResolver::modelLimitsForKey(key, *user, tiers);
        p->shadow = LimitResolver::shadowForKey(key, *user, tiers);
        p->models = key.models;
        p->expiresAtMs = key.expiresAt.isValid() ? key.expiresAt.toMSecsSinceEpoch() : 0;
        p->userDisabled = user->status != QLatin1String("active");
        // Stored as raw bytes or as hex, depending on the column type: normalise to raw.
        p->hash = key.hash.size() == 64 ? QByteArray::fromHex(key.hash) : key.hash;
        const qint64 lastUsed = key.lastUsedAt.isValid() ? key.lastUsedAt.toMSecsSinceEpoch() : 0;
        p->lastUsedMs.store(lastUsed, std::memory_order_relaxed);
        p->flushedMs.store(lastUsed, std::memory_order_relaxed);
        snapshot->m_byHash.insert(p->hash, p.get());
        snapshot->m_byKeyId.insert(p->keyId, p.get());
        snapshot->m_principals.push_back(std::move(p));
    }
    return snapshot;
}

const Principal *IdentitySnapshot::find(const QByteArray &hash) const
{
    const Principal *p = m_byHash.value(hash, nullptr);
    if (!p || !ApiKeyCodec::constantTimeEquals(p->hash, hash))
        return nullptr;
    return p;
}

void IdentitySnapshot::inheritUsage(const IdentitySnapshot &previous) const
{
    for (const auto &old : previous.m_principals) {
        const Principal *now = m_byKeyId.value(old->keyId, nullptr);
        if (!now)
            continue;
        const qint64 used = old->lastUsedMs.load(std::memory_order_relaxed);
        if (used > now->lastUsedMs.load(std::memory_order_relaxed))
            now->lastUsedMs.store(used, std::memory_order_relaxed);
        const qint64 flushed = old->flushedMs.load(std::memory_order_relaxed);
        if (flushed > now->flushedMs.load(std::memory_order_relaxed))
            now->flushedMs.store(flushed, std::memory_order_relaxed);
    }
}

}  // namespace sluice
