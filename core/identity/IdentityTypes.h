#pragma once

#include <QByteArray>
#include <QDateTime>
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

struct Tier
{
    QString name;
    LimitOverrides limits;
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
    QStringList models;                         // allow-list of model globs; empty = every model
    QString status = QStringLiteral("active");  // active | revoked
    QDateTime createdAt;
    QDateTime lastUsedAt;  // invalid = never
    QDateTime expiresAt;   // invalid = never
};

}  // namespace sluice
