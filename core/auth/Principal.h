#pragma once

#include "IdentityTypes.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <atomic>

namespace sluice {

// An authenticated API key with everything the request path needs, resolved ahead of time
// (effective tier and limits), so authentication costs one hash and one lookup.
struct Principal
{
    qint64 keyId = 0;
    qint64 userId = 0;
    QByteArray keyIdText;  // for the access log and responder.setPrincipal()
    QByteArray userIdText;
    QString userName;
    QString keyName;
    QString keyPrefix;
    QByteArray tier;      // the key's effective tier (metrics label)
    QByteArray userTier;  // the user's tier
    EffectiveLimits keyLimits;
    EffectiveLimits userLimits;
    QStringList models;      // allow-list globs; empty = all
    qint64 expiresAtMs = 0;  // 0 = never
    bool userDisabled = false;
    QByteArray hash;  // SHA-256 of the key (raw 32 bytes)

    // Written by workers on every authenticated request (relaxed store, no lock); read by the
    // identity thread, which batches last_used_at updates.
    mutable std::atomic<qint64> lastUsedMs{0};
    mutable std::atomic<qint64> flushedMs{0};
};

}  // namespace sluice
