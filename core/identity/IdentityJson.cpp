#include "IdentityJson.h"

#include "IdentityValidation.h"
#include "LimitFields.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QLocale>
#include <cmath>

namespace sluice {

namespace {

// Largest integer a JSON number (a double) holds exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;

QJsonValue orNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonValue orNull(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(Timestamp::toText(time)) : QJsonValue(QJsonValue::Null);
}

void insertLimits(QJsonObject &json, const LimitOverrides &limits)
{
    for (const QString &name : LimitFields::names()) {
        const QVariant v = LimitFields::value(limits, name);
        if (v.isNull())
            json.insert(name, QJsonValue::Null);
        else if (LimitFields::isFractional(name))
            json.insert(name, v.toDouble());
        else
            json.insert(name, QJsonValue(v.toLongLong()));
    }
}

// A JSON value as a message shows it: strings quoted, other scalars as written.
QString shown(const QJsonValue &v)
{
    switch (v.type()) {
        case QJsonValue::String:
            return IdentityValidation::quoted(v.toString());
        case QJsonValue::Double:
            return QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
        case QJsonValue::Bool:
            return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        case QJsonValue::Null:
            return QStringLiteral("null");
        case QJsonValue::Array:
            return QStringLiteral("an array");
        case QJsonValue::Object:
            return QStringLiteral("an object");
        case QJsonValue::Undefined:
            break;
    }
    return QStringLiteral("nothing");
}

// Reads the members of one JSON body, remembering the first error.
class Reader
{
public:
    Reader(const QJsonObject &json, AdminError *error) : m_json(json), m_error(error) {}

    bool ok() const { return m_ok; }
    bool has(const QString &field) const { return m_json.contains(field); }
    bool isNull(const QString &field) const { return m_json.value(field).isNull(); }

    // Refuses members outside `known` (typos such as "rpm" must not be ignored silently).
    void onlyKnown(const QStringList &known, const QStringList &ignored = {})
    {
        for (auto it = m_json.constBegin(); m_ok && it != m_json.constEnd(); ++it) {
            if (!known.contains(it.key()) && !ignored.contains(it.key()))
                fail(it.key(), QStringLiteral("unknown field %1; expected one of %2")
                                   .arg(IdentityValidation::quoted(it.key()),
                                        known.join(QStringLiteral(", "))));
        }
    }

    void required(const QString &field)
    {
        if (m_ok && (!has(field) || isNull(field)))
            fail(field, QStringLiteral("%1 is required").arg(field));
    }

    // A string member; null reads as the empty string when allowNull.
    std::optional<QString> string(const QString &field, bool allowNull)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (v.isString())
            return v.toString();
        if (v.isNull() && allowNull)
            return QStringLiteral("");
        fail(field, QStringLiteral("%1 must be a string, got %2").arg(field, shown(v)));
        return std::nullopt;
    }

    std::optional<bool> boolean(const QString &field)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (v.isBool())
            return v.toBool();
        fail(field, QStringLiteral("%1 must be true or false, got %2").arg(field, shown(v)));
        return std::nullopt;
    }

    // A name or a numeric id, as a string.
    std::optional<QString> nameOrId(const QString &field)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (v.isString())
            return v.toString();
        const double d = v.toDouble(-1);
        if (v.isDouble() && d >= 0 && d == std::floor(d) && d <= kMaxExactInteger)
            return QString::number(qint64(d));
        fail(field,
             QStringLiteral("%1 must be a name or a numeric id, got %2").arg(field, shown(v)));
        return std::nullopt;
    }

    // An array of strings; null reads as an empty list.
    std::optional<QStringList> strings(const QString &field)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (v.isNull())
            return QStringList();
        if (v.isArray()) {
            QStringList out;
            const QJsonArray array = v.toArray();
            for (const QJsonValue &item : array) {
                if (!item.isString()) {
                    fail(field, QStringLiteral("%1 must be an array of strings, got %2 in it")
                                    .arg(field, shown(item)));
                    return std::nullopt;
                }
                out << item.toString();
            }
            return out;
        }
        fail(field, QStringLiteral("%1 must be an array of strings, got %2").arg(field, shown(v)));
        return std::nullopt;
    }

    // An ISO 8601 date or date-time; null reads as an invalid QDateTime (never).
    std::optional<QDateTime> time(const QString &field)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (v.isNull())
            return QDateTime();
        const QDateTime t = v.isString() ? Timestamp::parse(v.toString()) : QDateTime();
        if (t.isValid())
            return t;
        fail(field, QStringLiteral("%1 must be an ISO 8601 date or date-time such as "
                                   "2030-12-31 or 2030-12-31T23:59:59Z, or null, got %2")
                        .arg(field, shown(v)));
        return std::nullopt;
    }

    // true, false, or null (nullopt inside: inherit); nullopt when absent.
    std::optional<std::optional<bool>> booleanOrNull(const QString &field)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        std::optional<std::optional<bool>> out;
        if (v.isBool())
            out.emplace(v.toBool());
        else if (v.isNull())
            out.emplace(std::nullopt);  // in place: copying an empty optional upsets GCC 12
        else
            fail(field,
                 QStringLiteral("%1 must be true, false or null, got %2").arg(field, shown(v)));
        return out;
    }

    // {"MODEL": {limit members}, ...}: each model's set fields, nulls cleared (when `patch`);
    // a null model removes its entry (only when `patch`). Value rules are AdminService's.
    std::optional<ModelLimitsPatch> modelLimits(const QString &field, bool patch)
    {
        if (!m_ok || !has(field))
            return std::nullopt;
        const QJsonValue v = m_json.value(field);
        if (!v.isObject()) {
            fail(field, QStringLiteral("%1 must be an object of model names or globs to limits, "
                                       "got %2")
                            .arg(field, shown(v)));
            return std::nullopt;
        }
        ModelLimitsPatch out;
        const QJsonObject models = v.toObject();
        for (auto it = models.constBegin(); m_ok && it != models.constEnd(); ++it) {
            ModelLimitEdit edit;
            edit.model = it.key();
            const QString where = QStringLiteral("%1 of %2").arg(field, shown(it.key()));
            if (it.value().isNull() && patch) {
                edit.remove = true;
            } else if (!it.value().isObject()) {
                fail(field, QStringLiteral("%1 must be an object of limits%2, got %3")
                                .arg(where, patch ? QStringLiteral(" or null") : QString(),
                                     shown(it.value())));
            } else {
                AdminError inner;
                const QJsonObject limits = it.value().toObject();
                Reader r(limits, &inner);
                r.onlyKnown(LimitFields::names());
                r.limits(&edit.limits, patch ? &edit.clearLimits : nullptr);
                if (!r.ok())
                    fail(field, QStringLiteral("%1: %2").arg(where, inner.message));
            }
            out.edits.append(edit);
        }
        return m_ok ? std::optional<ModelLimitsPatch>(out) : std::nullopt;
    }

    // The limit members: numbers are set, nulls are added to *clear (or, without clear,
    // mean the same as absent).
    void limits(LimitOverrides *limits, QStringList *clear)
    {
        for (const QString &name : LimitFields::names()) {
            if (!m_ok || !has(name))
                continue;
            const QJsonValue v = m_json.value(name);
            if (v.isNull()) {
                if (clear)
                    clear->append(name);
                continue;
            }
            const double d = v.toDouble(-1);
            const bool number = v.isDouble() && std::isfinite(d) && d >= 0;
            if (LimitFields::isFractional(name) && number) {
                LimitFields::setValue(*limits, name, d);
            } else if (!LimitFields::isFractional(name) && number && d == std::floor(d) &&
                       d <= kMaxExactInteger) {
                LimitFields::setValue(*limits, name, qint64(d));
            } else {
                fail(name, QStringLiteral("%1 must be %2, got %3")
                               .arg(name, LimitFields::expectation(name), shown(v)));
            }
        }
    }

private:
    void fail(const QString &field, const QString &message)
    {
        if (!m_ok)
            return;
        m_ok = false;
        if (m_error)
            *m_error = IdentityValidation::invalid(field, message);
    }

    const QJsonObject &m_json;
    AdminError *m_error;
    bool m_ok = true;
};

QStringList withLimits(QStringList fields)
{
    return fields << LimitFields::names();
}

const QString kShadow = QStringLiteral("shadow");
const QString kModelLimits = QStringLiteral("model_limits");

}  // namespace

QJsonObject IdentityJson::toJson(const LimitOverrides &limits)
{
    QJsonObject json;
    insertLimits(json, limits);
    return json;
}

QJsonObject IdentityJson::toJson(const EffectiveLimits &limits)
{
    return {{QStringLiteral("requests_per_second"), limits.requestsPerSecond},
            {QStringLiteral("burst"), QJsonValue(limits.burst)},
            {QStringLiteral("requests_per_minute"), QJsonValue(limits.requestsPerMinute)},
            {QStringLiteral("tokens_per_minute"), QJsonValue(limits.tokensPerMinute)},
            {QStringLiteral("monthly_requests"), QJsonValue(limits.monthlyRequests)},
            {QStringLiteral("monthly_tokens"), QJsonValue(limits.monthlyTokens)},
            {QStringLiteral("concurrent_requests"), QJsonValue(limits.concurrentRequests)}};
}

QJsonObject IdentityJson::toJson(const User &user)
{
    QJsonObject json = {{QStringLiteral("id"), QJsonValue(user.id)},
                        {QStringLiteral("name"), user.name},
                        {QStringLiteral("email"), orNull(user.email)},
                        {QStringLiteral("tier"), user.tier},
                        {QStringLiteral("status"), user.status},
                        {QStringLiteral("created_at"), orNull(user.createdAt)}};
    insertLimits(json, user.limits);
    return json;
}

QJsonObject IdentityJson::toJson(const ApiKey &key, const QString &effectiveTier)
{
    QJsonObject json = {{QStringLiteral("id"), QJsonValue(key.id)},
                        {QStringLiteral("user_id"), QJsonValue(key.userId)},
                        {QStringLiteral("user"), key.userName},
                        {QStringLiteral("name"), key.name},
                        {QStringLiteral("prefix"), key.prefix},
                        {QStringLiteral("tier"), orNull(key.tier)},
                        {QStringLiteral("models"), QJsonArray::fromStringList(key.models)},
                        {QStringLiteral("status"), key.status},
                        {QStringLiteral("created_at"), orNull(key.createdAt)},
                        {QStringLiteral("last_used_at"), orNull(key.lastUsedAt)},
                        {QStringLiteral("expires_at"), orNull(key.expiresAt)},
                        {kShadow, key.shadow ? QJsonValue(*key.shadow) : QJsonValue()},
                        {kModelLimits, toJson(key.modelLimits)}};
    if (!effectiveTier.isEmpty())
        json.insert(QStringLiteral("effective_tier"), effectiveTier);
    insertLimits(json, key.limits);
    return json;
}

QJsonObject IdentityJson::toJson(const CreatedKey &created, const QString &effectiveTier)
{
    QJsonObject json = toJson(created.key, effectiveTier);
    json.insert(QStringLiteral("key"), created.plaintext);
    return json;
}

QJsonObject IdentityJson::toJson(const Tier &tier)
{
    QJsonObject json = {{QStringLiteral("name"), tier.name},
                        {QStringLiteral("created_at"), orNull(tier.createdAt)},
                        {QStringLiteral("updated_at"), orNull(tier.updatedAt)},
                        {kShadow, tier.shadow},
                        {kModelLimits, toJson(tier.modelLimits)}};
    insertLimits(json, tier.limits);
    return json;
}

QJsonObject IdentityJson::toJson(const QList<ModelLimit> &modelLimits)
{
    QJsonObject json;
    for (const ModelLimit &m : modelLimits)
        json.insert(m.model, toJson(m.limits));
    return json;
}

QJsonArray IdentityJson::toJson(const QList<ResolvedModelLimit> &modelLimits)
{
    QJsonArray array;
    for (const ResolvedModelLimit &m : modelLimits) {
        QJsonObject o = toJson(m.limits);
        o.insert(QStringLiteral("model"), m.model);
        array.append(o);
    }
    return array;
}

QJsonObject IdentityJson::toJson(const PrincipalDefaults &defaults)
{
    return {{QStringLiteral("user"), toJson(defaults.user)},
            {QStringLiteral("key"), toJson(defaults.key)}};
}

std::optional<NewUser> IdentityJson::newUserFromJson(const QJsonObject &json, AdminError *error)
{
    Reader r(json, error);
    r.onlyKnown(
        withLimits({QStringLiteral("name"), QStringLiteral("email"), QStringLiteral("tier")}));
    r.required(QStringLiteral("name"));
    NewUser user;
    user.name = r.string(QStringLiteral("name"), false).value_or(QString());
    user.email = r.string(QStringLiteral("email"), true).value_or(QString());
    user.tier = r.string(QStringLiteral("tier"), true).value_or(QString());
    r.limits(&user.limits, nullptr);
    return r.ok() ? std::optional<NewUser>(user) : std::nullopt;
}

std::optional<UserPatch> IdentityJson::userPatchFromJson(const QJsonObject &json, AdminError *error)
{
    Reader r(json, error);
    r.onlyKnown(withLimits({QStringLiteral("name"), QStringLiteral("email"), QStringLiteral("tier"),
                            QStringLiteral("status")}));
    UserPatch patch;
    patch.name = r.string(QStringLiteral("name"), false);
    patch.email = r.string(QStringLiteral("email"), true);
    patch.tier = r.string(QStringLiteral("tier"), false);
    patch.status = r.string(QStringLiteral("status"), false);
    r.limits(&patch.limits, &patch.clearLimits);
    return r.ok() ? std::optional<UserPatch>(patch) : std::nullopt;
}

std::optional<NewKey> IdentityJson::newKeyFromJson(const QJsonObject &json, AdminError *error)
{
    Reader r(json, error);
    r.onlyKnown(
        withLimits({QStringLiteral("user"), QStringLiteral("create_user"), QStringLiteral("name"),
                    QStringLiteral("tier"), QStringLiteral("models"), QStringLiteral("expires_at"),
                    kShadow, kModelLimits}));
    r.required(QStringLiteral("user"));
    NewKey key;
    key.userName = r.nameOrId(QStringLiteral("user")).value_or(QString());
    key.createUser = r.boolean(QStringLiteral("create_user")).value_or(false);
    key.name = r.string(QStringLiteral("name"), true).value_or(QString());
    key.tier = r.string(QStringLiteral("tier"), true).value_or(QString());
    key.models = r.strings(QStringLiteral("models")).value_or(QStringList());
    key.expiresAt = r.time(QStringLiteral("expires_at")).value_or(QDateTime());
    key.shadow = r.booleanOrNull(kShadow).value_or(std::nullopt);
    if (const auto models = r.modelLimits(kModelLimits, false)) {
        for (const ModelLimitEdit &edit : models->edits)
            key.modelLimits.append({edit.model, edit.limits});
    }
    r.limits(&key.limits, nullptr);
    return r.ok() ? std::optional<NewKey>(key) : std::nullopt;
}

std::optional<KeyPatch> IdentityJson::keyPatchFromJson(const QJsonObject &json, AdminError *error)
{
    Reader r(json, error);
    r.onlyKnown(
        withLimits({QStringLiteral("name"), QStringLiteral("tier"), QStringLiteral("models"),
                    QStringLiteral("expires_at"), kShadow, kModelLimits}));
    KeyPatch patch;
    patch.name = r.string(QStringLiteral("name"), true);
    patch.tier = r.string(QStringLiteral("tier"), true);
    patch.models = r.strings(QStringLiteral("models"));
    patch.expiresAt = r.time(QStringLiteral("expires_at"));
    patch.shadow = r.booleanOrNull(kShadow);
    patch.modelLimits = r.modelLimits(kModelLimits, true).value_or(ModelLimitsPatch());
    r.limits(&patch.limits, &patch.clearLimits);
    return r.ok() ? std::optional<KeyPatch>(patch) : std::nullopt;
}

std::optional<TierPatch> IdentityJson::tierPatchFromJson(const QJsonObject &json, AdminError *error,
                                                         const QStringList &ignored)
{
    Reader r(json, error);
    r.onlyKnown(withLimits({kShadow, kModelLimits}), ignored);
    TierPatch patch;
    patch.shadow = r.boolean(kShadow);
    patch.modelLimits = r.modelLimits(kModelLimits, true).value_or(ModelLimitsPatch());
    r.limits(&patch.limits, &patch.clearLimits);
    return r.ok() ? std::optional<TierPatch>(patch) : std::nullopt;
}

std::optional<LimitsPatch> IdentityJson::limitsPatchFromJson(const QJsonObject &json,
                                                             AdminError *error,
                                                             const QStringList &ignored)
{
    Reader r(json, error);
    r.onlyKnown(LimitFields::names(), ignored);
    LimitsPatch patch;
    r.limits(&patch.limits, &patch.clearLimits);
    return r.ok() ? std::optional<LimitsPatch>(patch) : std::nullopt;
}

}  // namespace sluice
