#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace sluice {

// Limit fields as stored on tiers, users and keys. nullopt = inherit (key override > key's tier
// > per-principal default); 0 = unlimited. concurrentRequests is the most requests of the
// principal in flight at once.
struct LimitOverrides
{
    std::optional<double> requestsPerSecond;
    std::optional<qint64> burst;
    std::optional<qint64> requestsPerMinute;
    std::optional<qint64> tokensPerMinute;
    std::optional<qint64> monthlyRequests;
    std::optional<qint64> monthlyTokens;
    std::optional<qint64> concurrentRequests;

    bool isEmpty() const;
    // Fields set in `over` replace ours.
    LimitOverrides overlaidWith(const LimitOverrides &over) const;
    bool operator==(const LimitOverrides &) const = default;
};

// Every field resolved: 0 = unlimited.
struct EffectiveLimits
{
    double requestsPerSecond = 0;
    qint64 burst = 0;
    qint64 requestsPerMinute = 0;
    qint64 tokensPerMinute = 0;
    qint64 monthlyRequests = 0;
    qint64 monthlyTokens = 0;
    qint64 concurrentRequests = 0;
    bool operator==(const EffectiveLimits &) const = default;
};

// What an empty field resolves to when neither the principal nor its tier sets it.
// Built-in: user 100 requests/s with burst 200; key 50 requests/s with burst 100.
struct PrincipalDefaults
{
    LimitOverrides user;
    LimitOverrides key;
};

// The limits of one model on a tier or a key ("[tier.pro.model.gpt-4o]"): counted per key and
// model, on top of the key's and user's own limits. `model` is a name or a glob as in key
// allow-lists ("gpt-4o", "claude-*"). Unset fields are unlimited; a key's entry for the same
// model overrides its tier's field by field.
struct ModelLimit
{
    QString model;
    LimitOverrides limits;
    bool operator==(const ModelLimit &) const = default;
};

// A ModelLimit resolved for one key (tier's entry overlaid with the key's).
struct ResolvedModelLimit
{
    QString model;  // name or glob
    EffectiveLimits limits;
    bool operator==(const ResolvedModelLimit &) const = default;
};

struct Tier
{
    QString name;
    LimitOverrides limits;
    // Shadow mode: limits are computed and would-be denials counted and logged as shadow
    // violations, but nothing is denied. For trying new limits on live traffic.
    bool shadow = false;
    QList<ModelLimit> modelLimits;
    QDateTime createdAt;
    QDateTime updatedAt;
};

struct User
{
    qint64 id = 0;
    QString name;
    QString email;  // optional: empty
    QString tier = QStringLiteral("free");
    QString status = QStringLiteral("active");  // active | disabled
    LimitOverrides limits;
    QDateTime createdAt;
};

struct ApiKey
{
    qint64 id = 0;
    qint64 userId = 0;
    QString userName;  // joined from users, for display
    QString name;
    QString prefix;   // "sk-sluice-AbCd" display prefix, never enough to authenticate
    QByteArray hash;  // SHA-256 of the plaintext key (32 bytes)
    QString tier;     // empty = the user's tier
    LimitOverrides limits;
    std::optional<bool> shadow;     // nullopt = its effective tier's
    QList<ModelLimit> modelLimits;  // over its effective tier's, field by field
    QStringList models;             // allow-list of model globs; empty = every model
    QString status = QStringLiteral("active");  // active | revoked
    QDateTime createdAt;
    QDateTime lastUsedAt;  // invalid = never
    QDateTime expiresAt;   // invalid = never
};

}  // namespace sluice
