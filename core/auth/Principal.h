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
    // Per-model limits of the key (its tier's, overlaid with its own), most specific first:
    // plain names before globs, longer globs before shorter. The first match applies.
    QList<ResolvedModelLimit> modelLimits;
    bool shadow = false;  // the key's, else its effective tier's: nothing is denied
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
