#pragma once

#include "AdminService.h"
#include "IdentityTypes.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <optional>

namespace sluice {

// The limits part of a PUT/PATCH body (tiers, defaults): set fields, and the fields a JSON null
// resets to inherit. An absent member leaves its field as it is.
struct LimitsPatch
{
    LimitOverrides limits;
    QStringList clearLimits;
};

// JSON shapes of the identity resources, shared by the admin REST API, the CLI's --json output
// and the dashboard. Limits are the seven snake_case members (requests_per_second, burst,
// requests_per_minute, tokens_per_minute, monthly_requests, monthly_tokens,
// concurrent_requests) at the top level of a resource, null meaning "inherit"; timestamps are
// ISO 8601 UTC with milliseconds, null when unset. Key hashes are never part of any shape.
//
// The parsers check JSON types only (value rules are AdminService's): a wrong type or an
// unknown member gives an Invalid AdminError naming the field and the value, e.g.
// `requests_per_minute must be a non-negative integer, got "abc"`.
class IdentityJson
{
public:
    static QJsonObject toJson(const LimitOverrides &limits);
    static QJsonObject toJson(const EffectiveLimits &limits);
    static QJsonObject toJson(const User &user);
    // effectiveTier (the key's tier, else its user's) is added as "effective_tier" when given.
    static QJsonObject toJson(const ApiKey &key, const QString &effectiveTier = QString());
    // The key's shape plus "key": the plaintext, for the one answer that creates it.
    static QJsonObject toJson(const CreatedKey &created, const QString &effectiveTier = QString());
    static QJsonObject toJson(const Tier &tier);
    static QJsonObject toJson(const PrincipalDefaults &defaults);  // {"user": {...}, "key": {...}}
    // "model_limits" of a tier or key: {"gpt-4o": {limits}, "claude-*": {limits}}.
    static QJsonObject toJson(const QList<ModelLimit> &modelLimits);
    // Resolved per-model limits in their order: [{"model": "gpt-4o", limits}, ...].
    static QJsonArray toJson(const QList<ResolvedModelLimit> &modelLimits);

    // {"name", "email"?, "tier"?, limits?}; null limits mean inherit (as absent).
    static std::optional<NewUser> newUserFromJson(const QJsonObject &json, AdminError *error);
    // {"email"?, "tier"?, "status"?, limits?}; "email": null or "" removes the email, a null
    // limit resets it to inherit.
    static std::optional<UserPatch> userPatchFromJson(const QJsonObject &json, AdminError *error);
    // {"user" (name or numeric id), "create_user"?, "name"?, "tier"?, "models"?, "expires_at"?,
    // "shadow"? (true, false; null = the tier's), "model_limits"? ({"MODEL": {limits}}), limits?}
    static std::optional<NewKey> newKeyFromJson(const QJsonObject &json, AdminError *error);
    // {"name"?, "tier"? (null or "" = the user's), "models"? (null = every model),
    // "expires_at"? (null = never), "shadow"? (null = the tier's), "model_limits"?, limits?}.
    // model_limits patches per model: {"gpt-4o": {"tokens_per_minute": 1000, "burst": null}}
    // sets and clears fields of that entry (creating it), {"gpt-4o": null} removes it.
    static std::optional<KeyPatch> keyPatchFromJson(const QJsonObject &json, AdminError *error);
    // {"shadow"?, "model_limits"? (as for keys), limits?}; members in `ignored` are skipped.
    static std::optional<TierPatch> tierPatchFromJson(const QJsonObject &json, AdminError *error,
                                                      const QStringList &ignored = {});
    // The limit members only; members listed in `ignored` (e.g. "name", "created_at" of a
    // resource sent back whole) are skipped instead of refused.
    static std::optional<LimitsPatch> limitsPatchFromJson(const QJsonObject &json,
                                                          AdminError *error,
                                                          const QStringList &ignored = {});
};

}  // namespace sluice
