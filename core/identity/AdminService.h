#pragma once

#include "IdentityTypes.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>

namespace sluice {

class DatabaseConnection;

// The outcome of an admin operation: ok, or an error that maps to an HTTP status and names the
// field at fault ("tier", "rps", "name"). The REST API, the CLI and the dashboard show `message`.
struct AdminError
{
    enum class Kind
    {
        Invalid,
        NotFound,
        Conflict,
        Internal
    };
    Kind kind = Kind::Invalid;
    QString field;           // may be empty
    QString message;         // one line, names the field and the value
    int httpStatus() const;  // 400, 404, 409, 500
};

template <typename T>
struct AdminResult
{
    std::optional<T> value;
    std::optional<AdminError> error;
    bool ok() const { return value.has_value(); }
    static AdminResult success(T v) { return {std::move(v), std::nullopt}; }
    static AdminResult failure(AdminError e) { return {std::nullopt, std::move(e)}; }
};

struct Page
{
    int limit = 100;     // 1..1000
    qint64 afterId = 0;  // keyset pagination: rows with id > afterId
};

struct UserFilter
{
    QString tier;
    QString status;
    QString nameContains;
};

struct KeyFilter
{
    QString userName;
    QString tier;
    QString status;
};

struct NewUser
{
    QString name;
    QString email;
    QString tier;  // empty = "free"
    LimitOverrides limits;
};

// A patch: nullopt leaves the field as is. For limit fields, `clear*` resets to inherit.
struct UserPatch
{
    std::optional<QString> name;  // renames: a new user's rules, unused; ids and keys stay
    std::optional<QString> email;
    std::optional<QString> tier;
    std::optional<QString> status;  // active | disabled
    LimitOverrides limits;          // set fields are written
    QStringList clearLimits;        // field names reset to inherit: "requests_per_second", ...
};

// Changes to the per-model limits of a tier or a key. Each edit names one model (a name or a
// glob): `remove` drops its entry; otherwise the entry is created when missing, its set fields
// written and its cleared ones unset (an entry with no field set stays: that model has no
// per-model limit, which also exempts it from broader globs).
struct ModelLimitEdit
{
    QString model;
    bool remove = false;
    LimitOverrides limits;
    QStringList clearLimits;
};

struct ModelLimitsPatch
{
    bool replace = false;  // start from no entries (PUT): the result is exactly `edits`
    QList<ModelLimitEdit> edits;
    bool isEmpty() const { return !replace && edits.isEmpty(); }
    // `entries` with the patch applied, ordered by model.
    QList<ModelLimit> appliedTo(const QList<ModelLimit> &entries) const;
};

// A tier edit (setTier): set limit fields are written, cleared ones inherit, the rest stay.
struct TierPatch
{
    LimitOverrides limits;
    QStringList clearLimits;
    std::optional<bool> shadow;
    ModelLimitsPatch modelLimits;
};

struct NewKey
{
    QString userName;  // required; must exist unless createUser
    bool createUser = false;
    QString name;  // display name, optional
    QString tier;  // empty = the user's tier
    LimitOverrides limits;
    QStringList models;             // globs
    QDateTime expiresAt;            // invalid = never
    std::optional<bool> shadow;     // nullopt = the effective tier's
    QList<ModelLimit> modelLimits;  // over the effective tier's, field by field
};

struct KeyPatch
{
    std::optional<QString> name;
    std::optional<QString> tier;  // "" = back to the user's tier
    std::optional<QStringList> models;
    std::optional<QDateTime> expiresAt;  // invalid QDateTime = never
    LimitOverrides limits;
    QStringList clearLimits;
    // nullopt leaves it; a nullopt inside goes back to the effective tier's.
    std::optional<std::optional<bool>> shadow;
    ModelLimitsPatch modelLimits;
};

struct CreatedKey
{
    ApiKey key;
    QString plaintext;  // shown once; never stored, never logged
};

// Every identity edit, once: validation, one transaction, the identity revision bump that
// tells every gateway's key cache to reload, and an audit row. Synchronous on a
// DatabaseConnection owned by the calling thread: the CLI calls it directly, the admin API and
// the dashboard through the identity database thread.
//
// Limit field names used in messages, patches, JSON, INI [tier.NAME] keys and columns:
// requests_per_second, burst, requests_per_minute, tokens_per_minute, monthly_requests,
// monthly_tokens, concurrent_requests (CLI flags: --rps --burst --rpm --tpm
// --monthly-requests --monthly-tokens --concurrent-requests). Tiers and keys also carry a
// shadow flag and per-model limits (model_limits table), written in the same transaction.
class AdminService
{
public:
    AdminService(DatabaseConnection &db, QString actor);

    // Users
    AdminResult<User> createUser(const NewUser &user);
    AdminResult<User> getUser(const QString &idOrName);
    AdminResult<QList<User>> listUsers(const UserFilter &filter, const Page &page);
    AdminResult<User> updateUser(const QString &idOrName, const UserPatch &patch);
    AdminResult<User> disableUser(const QString &idOrName);

    // Keys
    AdminResult<CreatedKey> createKey(const NewKey &key);
    AdminResult<ApiKey> getKey(const QString &idOrPrefix);
    AdminResult<QList<ApiKey>> listKeys(const KeyFilter &filter, const Page &page);
    AdminResult<ApiKey> updateKey(const QString &idOrPrefix, const KeyPatch &patch);
    AdminResult<ApiKey> revokeKey(const QString &idOrPrefix);

    // Tiers
    AdminResult<QList<Tier>> listTiers();
    AdminResult<Tier> getTier(const QString &name);
    // Creates the tier when it does not exist; set fields are written, cleared ones inherit.
    AdminResult<Tier> setTier(const QString &name, const TierPatch &patch);
    AdminResult<Tier> setTier(const QString &name, const LimitOverrides &limits,
                              const QStringList &clearLimits = {});
    // Number of keys whose effective tier is each tier (dashboard, CLI).
    AdminResult<QList<QPair<QString, qint64>>> keyCountsByTier();

    // Per-principal defaults ("user", "key"): what an empty field resolves to when neither the
    // principal nor its tier sets it.
    AdminResult<PrincipalDefaults> getDefaults();
    AdminResult<PrincipalDefaults> setDefaults(const QString &principal,
                                               const LimitOverrides &limits,
                                               const QStringList &clearLimits = {});

private:
    DatabaseConnection &m_db;
    QString m_actor;
};

}  // namespace sluice
