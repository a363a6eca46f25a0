#include "AdminService.h"

#include "ApiKeyCodec.h"
#include "DatabaseConnection.h"
#include "IdentityJson.h"
#include "IdentityRows.h"
#include "IdentityTransaction.h"
#include "IdentityValidation.h"
#include "LimitFields.h"
#include "ModelLimitRows.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QMap>
#include <algorithm>
#include <cstring>

namespace sluice {

int AdminError::httpStatus() const
{
    switch (kind) {
        case Kind::Invalid:
            return 400;
        case Kind::NotFound:
            return 404;
        case Kind::Conflict:
            return 409;
        case Kind::Internal:
            return 500;
    }
    return 500;
}

QList<ModelLimit> ModelLimitsPatch::appliedTo(const QList<ModelLimit> &entries) const
{
    QList<ModelLimit> out = replace ? QList<ModelLimit>() : entries;
    for (const ModelLimitEdit &edit : edits) {
        const auto it = std::find_if(out.begin(), out.end(),
                                     [&](const ModelLimit &m) { return m.model == edit.model; });
        if (edit.remove) {
            if (it != out.end())
                out.erase(it);
            continue;
        }
        ModelLimit &entry = it != out.end() ? *it : out.emplace_back(ModelLimit{edit.model, {}});
        entry.limits = entry.limits.overlaidWith(edit.limits);
        for (const QString &name : edit.clearLimits)
            LimitFields::setValue(entry.limits, name, QVariant());
    }
    std::sort(out.begin(), out.end(),
              [](const ModelLimit &a, const ModelLimit &b) { return a.model < b.model; });
    return out;
}

namespace {

using V = IdentityValidation;

AdminError internalError(const QString &why)
{
    return IdentityTransaction::internalError(why);
}

AdminError notFound(const QString &field, const QString &message)
{
    return AdminError{AdminError::Kind::NotFound, field, message};
}

AdminError conflict(const QString &field, const QString &message)
{
    return AdminError{AdminError::Kind::Conflict, field, message};
}

// What a message may echo of an idOrPrefix argument: never more than a display prefix, even
// when someone pasted a whole key.
QString keyReference(const QString &idOrPrefix)
{
    const qsizetype display = qsizetype(std::strlen(ApiKeyCodec::Prefix)) + 4;
    if (idOrPrefix.startsWith(QLatin1String("sk-")) && idOrPrefix.size() > display)
        return V::quoted(ApiKeyCodec::displayPrefix(idOrPrefix) + QStringLiteral("..."));
    return V::quoted(idOrPrefix);
}

// NOT NULL text columns: a null QString would bind as SQL NULL.
QString nonNull(const QString &text)
{
    return text.isNull() ? QStringLiteral("") : text;
}

QJsonValue jsonOf(const QVariant &v)
{
    if (v.isNull())
        return QJsonValue::Null;
    if (v.typeId() == QMetaType::Double)
        return v.toDouble();
    return QJsonValue(v.toLongLong());
}

QJsonValue jsonOf(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonValue jsonOf(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(Timestamp::toText(time)) : QJsonValue(QJsonValue::Null);
}

QJsonValue jsonOf(std::optional<bool> shadow)
{
    return shadow ? QJsonValue(*shadow) : QJsonValue(QJsonValue::Null);
}

// Shadow flag and model limits of a creation, when given.
void addShadowAndModels(QJsonObject &details, std::optional<bool> shadow,
                        const QList<ModelLimit> &modelLimits)
{
    if (shadow)
        details.insert(QStringLiteral("shadow"), *shadow);
    if (!modelLimits.isEmpty())
        details.insert(QStringLiteral("model_limits"), IdentityJson::toJson(modelLimits));
}

// Set limit fields as JSON members (creations list only what was given).
void addLimits(QJsonObject &details, const LimitOverrides &limits)
{
    for (const QString &name : LimitFields::names()) {
        const QVariant v = LimitFields::value(limits, name);
        if (!v.isNull())
            details.insert(name, jsonOf(v));
    }
}

// Records one changed field as {"from": old, "to": new}; unchanged fields are left out.
void addChange(QJsonObject &changes, const QString &field, const QJsonValue &from,
               const QJsonValue &to)
{
    if (from != to)
        changes.insert(field,
                       QJsonObject{{QStringLiteral("from"), from}, {QStringLiteral("to"), to}});
}

void addLimitChanges(QJsonObject &changes, const LimitOverrides &from, const LimitOverrides &to)
{
    for (const QString &name : LimitFields::names())
        addChange(changes, name, jsonOf(LimitFields::value(from, name)),
                  jsonOf(LimitFields::value(to, name)));
}

// `limits` with the set fields of `set` written and the `clear` fields reset to inherit.
LimitOverrides patched(const LimitOverrides &limits, const LimitOverrides &set,
                       const QStringList &clear)
{
    LimitOverrides r = limits.overlaidWith(set);
    for (const QString &name : clear)
        LimitFields::setValue(r, name, QVariant());
    return r;
}

// Reads a single integer (COUNT(*)); -1 with *err on failure.
qint64 scalar(DatabaseConnection &db, const QString &sql, const QVariantList &values,
              AdminError *err)
{
    QString why;
    auto q = db.query(sql, values, &why);
    if (!q) {
        *err = internalError(why);
        return -1;
    }
    return q->next() ? q->value(0).toLongLong() : 0;
}

// true when the tier exists; false with *err NotFound (field `field`) or Internal.
bool requireTier(DatabaseConnection &db, const QString &tier, const QString &field, AdminError *err)
{
    const qint64 n =
        scalar(db, QStringLiteral("SELECT COUNT(*) FROM tiers WHERE name = ?"), {tier}, err);
    if (n < 0)
        return false;
    if (n == 0) {
        *err = notFound(field, QStringLiteral("tier %1 does not exist").arg(V::quoted(tier)));
        return false;
    }
    return true;
}

std::optional<User> findUser(DatabaseConnection &db, const QString &idOrName, AdminError *err)
{
    const bool byId = V::isId(idOrName);
    QString why;
    auto q = db.query(IdentityRows::userSelect() + (byId ? QStringLiteral(" WHERE id = ?")
                                                         : QStringLiteral(" WHERE name = ?")),
                      {byId ? QVariant(idOrName.toLongLong()) : QVariant(idOrName)}, &why);
    if (!q) {
        *err = internalError(why);
        return std::nullopt;
    }
    if (!q->next()) {
        *err = notFound(QStringLiteral("user"),
                        QStringLiteral("user %1 does not exist").arg(V::quoted(idOrName)));
        return std::nullopt;
    }
    return IdentityRows::userFrom(*q);
}

std::optional<ApiKey> findKey(DatabaseConnection &db, const QString &idOrPrefix, AdminError *err)
{
    const QString field = QStringLiteral("key");
    const qsizetype prefixLength = qsizetype(std::strlen(ApiKeyCodec::Prefix));
    QString where;
    QVariant value;
    if (V::isId(idOrPrefix)) {
        where = QStringLiteral(" WHERE k.id = ?");
        value = idOrPrefix.toLongLong();
    } else if (ApiKeyCodec::looksValid(idOrPrefix.toLatin1())) {
        // A whole key (e.g. revoking a leaked one): found by its hash, never echoed.
        where = QStringLiteral(" WHERE k.hash = ?");
        value = IdentityRows::hashText(ApiKeyCodec::hash(idOrPrefix.toLatin1()));
    } else if (idOrPrefix.startsWith(QLatin1String(ApiKeyCodec::Prefix)) &&
               idOrPrefix.size() == ApiKeyCodec::displayPrefix(idOrPrefix).size() &&
               idOrPrefix.size() > prefixLength) {
        where = QStringLiteral(" WHERE k.prefix = ?");
        value = idOrPrefix;
    } else {
        *err = notFound(field, QStringLiteral("key %1 does not exist (give a key id or a display "
                                              "prefix such as sk-sluice-AbCd)")
                                   .arg(keyReference(idOrPrefix)));
        return std::nullopt;
    }
    QString why;
    auto q = db.query(IdentityRows::keySelect() + where + QStringLiteral(" ORDER BY k.id"), {value},
                      &why);
    if (!q) {
        *err = internalError(why);
        return std::nullopt;
    }
    if (!q->next()) {
        *err =
            notFound(field, QStringLiteral("key %1 does not exist").arg(keyReference(idOrPrefix)));
        return std::nullopt;
    }
    ApiKey key = IdentityRows::keyFrom(*q);
    if (q->next()) {
        *err =
            conflict(field, QStringLiteral("prefix %1 matches more than one key; give the key id")
                                .arg(keyReference(idOrPrefix)));
        return std::nullopt;
    }
    q.reset();
    const auto models =
        ModelLimitRows::load(db, ModelLimitRows::Owner::Key, &why, QString::number(key.id));
    if (!models) {
        *err = internalError(why);
        return std::nullopt;
    }
    key.modelLimits = models->value(QString::number(key.id));
    return key;
}

std::optional<Tier> findTier(DatabaseConnection &db, const QString &name, AdminError *err)
{
    QString why;
    auto q = db.query(IdentityRows::tierSelect() + QStringLiteral(" WHERE name = ?"), {name}, &why);
    if (!q) {
        *err = internalError(why);
        return std::nullopt;
    }
    if (!q->next()) {
        *err = notFound(QStringLiteral("tier"),
                        QStringLiteral("tier %1 does not exist").arg(V::quoted(name)));
        return std::nullopt;
    }
    Tier tier = IdentityRows::tierFrom(*q);
    q.reset();
    const auto models = ModelLimitRows::load(db, ModelLimitRows::Owner::Tier, &why, name);
    if (!models) {
        *err = internalError(why);
        return std::nullopt;
    }
    tier.modelLimits = models->value(name);
    return tier;
}

// Inserts a user (already validated) and returns it as stored.
std::optional<User> insertUser(IdentityTransaction &tx, const NewUser &in, AdminError *err)
{
    DatabaseConnection &db = tx.db();
    const qint64 taken =
        scalar(db, QStringLiteral("SELECT COUNT(*) FROM users WHERE name = ?"), {in.name}, err);
    if (taken < 0)
        return std::nullopt;
    if (taken > 0) {
        *err = conflict(QStringLiteral("name"),
                        QStringLiteral("user %1 already exists").arg(V::quoted(in.name)));
        return std::nullopt;
    }
    const QString tier = in.tier.isEmpty() ? QStringLiteral("free") : in.tier;
    if (!requireTier(db, tier, QStringLiteral("tier"), err))
        return std::nullopt;
    const QString now = Timestamp::toText(Timestamp::now());
    QVariantList values = {in.name, IdentityRows::nullIfEmpty(in.email), tier,
                           QStringLiteral("active")};
    values << IdentityRows::limitValues(in.limits) << now << now;
    QString why;
    if (!db.exec(QStringLiteral("INSERT INTO users (name, email, tier, status, %1, created_at, "
                                "updated_at) VALUES (?, ?, ?, ?, %2, ?, ?)")
                     .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders()),
                 values, &why)) {
        *err = internalError(why);
        return std::nullopt;
    }
    std::optional<User> user = findUser(db, in.name, err);
    if (!user)
        return std::nullopt;
    QJsonObject details = {{QStringLiteral("name"), user->name},
                           {QStringLiteral("email"), jsonOf(user->email)},
                           {QStringLiteral("tier"), user->tier},
                           {QStringLiteral("status"), user->status}};
    addLimits(details, user->limits);
    if (!tx.audit(QStringLiteral("user.create"), QStringLiteral("user"), QString::number(user->id),
                  details, err))
        return std::nullopt;
    return user;
}

std::optional<AdminError> validateNewUser(const NewUser &in)
{
    if (auto e = V::userName(QStringLiteral("name"), in.name))
        return e;
    if (auto e = V::email(in.email))
        return e;
    return V::limits(in.limits);
}

// What a find*() helper found, else why not.
template <typename T>
AdminResult<T> resultOf(const std::optional<T> &found, const AdminError &err)
{
    return found ? AdminResult<T>::success(*found) : AdminResult<T>::failure(err);
}

// What is wrong with a list call, if anything: the page first, then the status filter (when
// given) as `checkStatus` sees it.
std::optional<AdminError> listRequestError(
    const Page &page, const QString &status,
    std::optional<AdminError> (*checkStatus)(const QString &))
{
    if (auto e = V::page(page.limit, page.afterId))
        return e;
    if (!status.isEmpty())
        return checkStatus(status);
    return std::nullopt;
}

// Runs a read-only query and maps every row.
template <typename T, typename Map>
AdminResult<QList<T>> listOf(DatabaseConnection &db, const QString &sql, const QVariantList &values,
                             Map map)
{
    QString why;
    auto q = db.query(sql, values, &why);
    if (!q)
        return AdminResult<QList<T>>::failure(internalError(why));
    QList<T> out;
    while (q->next())
        out << map(*q);
    return AdminResult<QList<T>>::success(out);
}

// listOf() with the model limits of every tier or key listed.
template <typename T>
AdminResult<QList<T>> withModelLimits(DatabaseConnection &db, AdminResult<QList<T>> listed)
{
    QString why;
    if (listed.ok() && !ModelLimitRows::attach(db, *listed.value, &why))
        return AdminResult<QList<T>>::failure(internalError(why));
    return listed;
}

}  // namespace

AdminService::AdminService(DatabaseConnection &db, QString actor)
    : m_db(db), m_actor(std::move(actor))
{}

// ---- users ----

AdminResult<User> AdminService::createUser(const NewUser &user)
{
    using R = AdminResult<User>;
    if (auto e = validateNewUser(user))
        return R::failure(*e);
    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    std::optional<User> created = insertUser(tx, user, &err);
    if (!created || !tx.commit(&err))
        return R::failure(err);
    return R::success(*created);
}

AdminResult<User> AdminService::getUser(const QString &idOrName)
{
    AdminError err;
    return resultOf(findUser(m_db, idOrName, &err), err);
}

AdminResult<QList<User>> AdminService::listUsers(const UserFilter &filter, const Page &page)
{
    if (auto e = listRequestError(page, filter.status, V::userStatus))
        return AdminResult<QList<User>>::failure(*e);
    QString sql = IdentityRows::userSelect() + QStringLiteral(" WHERE id > ?");
    QVariantList values = {page.afterId};
    if (!filter.tier.isEmpty()) {
        sql += QStringLiteral(" AND tier = ?");
        values << filter.tier;
    }
    if (!filter.status.isEmpty()) {
        sql += QStringLiteral(" AND status = ?");
        values << filter.status;
    }
    if (!filter.nameContains.isEmpty()) {
        // LOWER on both sides: LIKE is case-insensitive in SQLite but not in PostgreSQL.
        QString pattern = filter.nameContains.toLower();
        pattern.replace(u'\\', QStringLiteral("\\\\"));
        pattern.replace(u'%', QStringLiteral("\\%"));
        pattern.replace(u'_', QStringLiteral("\\_"));
        sql += QStringLiteral(" AND LOWER(name) LIKE ? ESCAPE '\\'");
        values << u'%' + pattern + u'%';
    }
    sql += QStringLiteral(" ORDER BY id LIMIT ?");
    values << page.limit;
    return listOf<User>(m_db, sql, values,
                        [](const QSqlQuery &q) { return IdentityRows::userFrom(q); });
}

AdminResult<User> AdminService::updateUser(const QString &idOrName, const UserPatch &patch)
{
    using R = AdminResult<User>;
    if (patch.name) {
        if (auto e = V::userName(QStringLiteral("name"), *patch.name))
            return R::failure(*e);
    }
    if (patch.email) {
        if (auto e = V::email(*patch.email))
            return R::failure(*e);
    }
    if (patch.tier && patch.tier->isEmpty())
        return R::failure(
            V::invalid(QStringLiteral("tier"),
                       QStringLiteral("tier must name a tier; a user always has one")));
    if (patch.status) {
        if (auto e = V::userStatus(*patch.status))
            return R::failure(*e);
    }
    if (auto e = V::limits(patch.limits, patch.clearLimits))
        return R::failure(*e);

    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    std::optional<User> old = findUser(m_db, idOrName, &err);
    if (!old)
        return R::failure(err);
    if (patch.tier && !requireTier(m_db, *patch.tier, QStringLiteral("tier"), &err))
        return R::failure(err);
    if (patch.name && *patch.name != old->name) {
        const qint64 taken = scalar(
            m_db, QStringLiteral("SELECT COUNT(*) FROM users WHERE name = ?"), {*patch.name}, &err);
        if (taken < 0)
            return R::failure(err);
        if (taken > 0)
            return R::failure(
                conflict(QStringLiteral("name"),
                         QStringLiteral("user %1 already exists").arg(V::quoted(*patch.name))));
    }

    User updated = *old;
    if (patch.name)
        updated.name = *patch.name;
    if (patch.email)
        updated.email = *patch.email;
    if (patch.tier)
        updated.tier = *patch.tier;
    if (patch.status)
        updated.status = *patch.status;
    updated.limits = patched(old->limits, patch.limits, patch.clearLimits);

    QJsonObject changes;
    addChange(changes, QStringLiteral("name"), old->name, updated.name);
    addChange(changes, QStringLiteral("email"), jsonOf(old->email), jsonOf(updated.email));
    addChange(changes, QStringLiteral("tier"), old->tier, updated.tier);
    addChange(changes, QStringLiteral("status"), old->status, updated.status);
    addLimitChanges(changes, old->limits, updated.limits);
    if (changes.isEmpty())
        return R::success(*old);  // nothing to write, nothing to tell the caches

    QVariantList values = {updated.name, IdentityRows::nullIfEmpty(updated.email), updated.tier,
                           updated.status};
    values << IdentityRows::limitValues(updated.limits) << Timestamp::toText(Timestamp::now())
           << old->id;
    QString why;
    if (!m_db.exec(QStringLiteral("UPDATE users SET name = ?, email = ?, tier = ?, status = ?, %1, "
                                  "updated_at = ? WHERE id = ?")
                       .arg(IdentityRows::limitAssignments()),
                   values, &why))
        return R::failure(internalError(why));
    const QString action =
        patch.status && old->status != updated.status
            ? (updated.status == QLatin1String("disabled") ? QStringLiteral("user.disable")
                                                           : QStringLiteral("user.enable"))
            : QStringLiteral("user.update");
    QJsonObject details = {{QStringLiteral("name"), old->name},
                           {QStringLiteral("changes"), changes}};
    if (!tx.audit(action, QStringLiteral("user"), QString::number(old->id), details, &err))
        return R::failure(err);
    std::optional<User> stored = findUser(m_db, QString::number(old->id), &err);
    if (!stored || !tx.commit(&err))
        return R::failure(err);
    return R::success(*stored);
}

AdminResult<User> AdminService::disableUser(const QString &idOrName)
{
    // Keys stay as they are: authentication refuses them while their user is disabled, and
    // enabling the user again brings them back.
    UserPatch patch;
    patch.status = QStringLiteral("disabled");
    return updateUser(idOrName, patch);
}

// ---- keys ----

AdminResult<CreatedKey> AdminService::createKey(const NewKey &key)
{
    using R = AdminResult<CreatedKey>;
    const QString userField = QStringLiteral("user");
    if (key.userName.isEmpty())
        return R::failure(V::invalid(userField, QStringLiteral("user is required")));
    if (key.createUser) {
        if (auto e = V::userName(userField, key.userName))
            return R::failure(*e);
    }
    if (!key.name.isEmpty()) {
        if (auto e = V::name(QStringLiteral("name"), key.name))
            return R::failure(*e);
    }
    if (auto e = V::limits(key.limits))
        return R::failure(*e);
    if (auto e = V::models(key.models))
        return R::failure(*e);
    if (auto e = V::expiresAt(key.expiresAt))
        return R::failure(*e);
    ModelLimitsPatch models;
    for (const ModelLimit &m : key.modelLimits)
        models.edits.append({m.model, false, m.limits, {}});
    if (auto e = V::modelLimits(models))
        return R::failure(*e);
    if (auto e = V::modelLimitCount(key.modelLimits))
        return R::failure(*e);

    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    if (!key.tier.isEmpty() && !requireTier(m_db, key.tier, QStringLiteral("tier"), &err))
        return R::failure(err);
    std::optional<User> user = findUser(m_db, key.userName, &err);
    if (!user && err.kind == AdminError::Kind::NotFound && key.createUser) {
        NewUser nu;
        nu.name = key.userName;
        user = insertUser(tx, nu, &err);
    }
    if (!user)
        return R::failure(err);

    const QString plaintext = ApiKeyCodec::generate();
    const QString hash = IdentityRows::hashText(ApiKeyCodec::hash(plaintext.toLatin1()));
    const QString prefix = ApiKeyCodec::displayPrefix(plaintext);
    const QString now = Timestamp::toText(Timestamp::now());
    QVariantList values = {user->id, nonNull(key.name), prefix, hash,
                           IdentityRows::nullIfEmpty(key.tier)};
    values << IdentityRows::limitValues(key.limits) << IdentityRows::modelsText(key.models)
           << QStringLiteral("active") << now << IdentityRows::timeValue(key.expiresAt) << now
           << IdentityRows::shadowValue(key.shadow);
    QString why;
    if (!m_db.exec(QStringLiteral("INSERT INTO api_keys (user_id, name, prefix, hash, tier, %1, "
                                  "models, status, created_at, expires_at, updated_at, shadow) "
                                  "VALUES (?, ?, ?, ?, ?, %2, ?, ?, ?, ?, ?, ?)")
                       .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders()),
                   values, &why))
        return R::failure(internalError(why));
    auto q =
        m_db.query(IdentityRows::keySelect() + QStringLiteral(" WHERE k.hash = ?"), {hash}, &why);
    if (!q || !q->next())
        return R::failure(internalError(q ? QStringLiteral("new key not found") : why));
    ApiKey created = IdentityRows::keyFrom(*q);
    q.reset();
    created.modelLimits = models.appliedTo({});
    if (!ModelLimitRows::replace(m_db, ModelLimitRows::Owner::Key, QString::number(created.id),
                                 created.modelLimits, &why))
        return R::failure(internalError(why));

    // The prefix identifies the key in the audit trail; the key and its hash never go there.
    QJsonObject details = {{QStringLiteral("user"), user->name},
                           {QStringLiteral("name"), created.name},
                           {QStringLiteral("prefix"), created.prefix},
                           {QStringLiteral("tier"), jsonOf(created.tier)},
                           {QStringLiteral("models"), QJsonArray::fromStringList(created.models)},
                           {QStringLiteral("expires_at"), jsonOf(created.expiresAt)}};
    addLimits(details, created.limits);
    addShadowAndModels(details, created.shadow, created.modelLimits);
    if (!tx.audit(QStringLiteral("key.create"), QStringLiteral("key"), QString::number(created.id),
                  details, &err) ||
        !tx.commit(&err))
        return R::failure(err);
    return R::success(CreatedKey{created, plaintext});
}

AdminResult<ApiKey> AdminService::getKey(const QString &idOrPrefix)
{
    AdminError err;
    return resultOf(findKey(m_db, idOrPrefix, &err), err);
}

AdminResult<QList<ApiKey>> AdminService::listKeys(const KeyFilter &filter, const Page &page)
{
    if (auto e = listRequestError(page, filter.status, V::keyStatus))
        return AdminResult<QList<ApiKey>>::failure(*e);
    QString sql = IdentityRows::keySelect() + QStringLiteral(" WHERE k.id > ?");
    QVariantList values = {page.afterId};
    if (!filter.userName.isEmpty()) {
        if (V::isId(filter.userName)) {
            sql += QStringLiteral(" AND k.user_id = ?");
            values << filter.userName.toLongLong();
        } else {
            sql += QStringLiteral(" AND u.name = ?");
            values << filter.userName;
        }
    }
    if (!filter.tier.isEmpty()) {
        // The effective tier: the key's own, else its user's.
        sql += QStringLiteral(" AND COALESCE(k.tier, u.tier) = ?");
        values << filter.tier;
    }
    if (!filter.status.isEmpty()) {
        sql += QStringLiteral(" AND k.status = ?");
        values << filter.status;
    }
    sql += QStringLiteral(" ORDER BY k.id LIMIT ?");
    values << page.limit;
    return withModelLimits(m_db, listOf<ApiKey>(m_db, sql, values, [](const QSqlQuery &q) {
                               return IdentityRows::keyFrom(q);
                           }));
}

AdminResult<ApiKey> AdminService::updateKey(const QString &idOrPrefix, const KeyPatch &patch)
{
    using R = AdminResult<ApiKey>;
    if (patch.name && !patch.name->isEmpty()) {
        if (auto e = V::name(QStringLiteral("name"), *patch.name))
            return R::failure(*e);
    }
    if (patch.models) {
        if (auto e = V::models(*patch.models))
            return R::failure(*e);
    }
    if (patch.expiresAt) {
        if (auto e = V::expiresAt(*patch.expiresAt))
            return R::failure(*e);
    }
    if (auto e = V::limits(patch.limits, patch.clearLimits))
        return R::failure(*e);
    if (auto e = V::modelLimits(patch.modelLimits))
        return R::failure(*e);

    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    std::optional<ApiKey> old = findKey(m_db, idOrPrefix, &err);
    if (!old)
        return R::failure(err);
    if (old->status == QLatin1String("revoked"))
        return R::failure(conflict(QStringLiteral("key"),
                                   QStringLiteral("key %1 (%2) is revoked and cannot be edited")
                                       .arg(old->id)
                                       .arg(old->prefix)));
    if (patch.tier && !patch.tier->isEmpty() &&
        !requireTier(m_db, *patch.tier, QStringLiteral("tier"), &err))
        return R::failure(err);

    ApiKey updated = *old;
    if (patch.name)
        updated.name = *patch.name;
    if (patch.tier)
        updated.tier = *patch.tier;
    if (patch.models)
        updated.models = *patch.models;
    if (patch.expiresAt)
        updated.expiresAt = patch.expiresAt->isValid() ? patch.expiresAt->toUTC() : QDateTime();
    updated.limits = patched(old->limits, patch.limits, patch.clearLimits);
    if (patch.shadow)
        updated.shadow = *patch.shadow;
    updated.modelLimits = patch.modelLimits.appliedTo(old->modelLimits);
    if (auto e = V::modelLimitCount(updated.modelLimits))
        return R::failure(*e);

    QJsonObject changes;
    addChange(changes, QStringLiteral("name"), old->name, updated.name);
    addChange(changes, QStringLiteral("tier"), jsonOf(old->tier), jsonOf(updated.tier));
    addChange(changes, QStringLiteral("models"), QJsonArray::fromStringList(old->models),
              QJsonArray::fromStringList(updated.models));
    addChange(changes, QStringLiteral("expires_at"), jsonOf(old->expiresAt),
              jsonOf(updated.expiresAt));
    addLimitChanges(changes, old->limits, updated.limits);
    addChange(changes, QStringLiteral("shadow"), jsonOf(old->shadow), jsonOf(updated.shadow));
    addChange(changes, QStringLiteral("model_limits"), IdentityJson::toJson(old->modelLimits),
              IdentityJson::toJson(updated.modelLimits));
    if (changes.isEmpty())
        return R::success(*old);

    QVariantList values = {nonNull(updated.name), IdentityRows::nullIfEmpty(updated.tier)};
    values << IdentityRows::limitValues(updated.limits) << IdentityRows::modelsText(updated.models)
           << IdentityRows::timeValue(updated.expiresAt)
           << IdentityRows::shadowValue(updated.shadow) << Timestamp::toText(Timestamp::now())
           << old->id;
    QString why;
    if (!m_db.exec(QStringLiteral("UPDATE api_keys SET name = ?, tier = ?, %1, models = ?, "
                                  "expires_at = ?, shadow = ?, updated_at = ? WHERE id = ?")
                       .arg(IdentityRows::limitAssignments()),
                   values, &why) ||
        !ModelLimitRows::replace(m_db, ModelLimitRows::Owner::Key, QString::number(old->id),
                                 updated.modelLimits, &why))
        return R::failure(internalError(why));
    QJsonObject details = {{QStringLiteral("prefix"), old->prefix},
                           {QStringLiteral("user"), old->userName},
                           {QStringLiteral("changes"), changes}};
    if (!tx.audit(QStringLiteral("key.update"), QStringLiteral("key"), QString::number(old->id),
                  details, &err))
        return R::failure(err);
    std::optional<ApiKey> stored = findKey(m_db, QString::number(old->id), &err);
    if (!stored || !tx.commit(&err))
        return R::failure(err);
    return R::success(*stored);
}

AdminResult<ApiKey> AdminService::revokeKey(const QString &idOrPrefix)
{
    using R = AdminResult<ApiKey>;
    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    std::optional<ApiKey> key = findKey(m_db, idOrPrefix, &err);
    if (!key)
        return R::failure(err);
    if (key->status == QLatin1String("revoked"))
        return R::success(*key);  // idempotent: DELETE twice answers the same

    QString why;
    if (!m_db.exec(
            QStringLiteral("UPDATE api_keys SET status = 'revoked', updated_at = ? WHERE id = ?"),
            {Timestamp::toText(Timestamp::now()), key->id}, &why))
        return R::failure(internalError(why));
    const QJsonObject details = {{QStringLiteral("prefix"), key->prefix},
                                 {QStringLiteral("user"), key->userName}};
    if (!tx.audit(QStringLiteral("key.revoke"), QStringLiteral("key"), QString::number(key->id),
                  details, &err) ||
        !tx.commit(&err))
        return R::failure(err);
    key->status = QStringLiteral("revoked");
    return R::success(*key);
}

// ---- tiers ----

AdminResult<QList<Tier>> AdminService::listTiers()
{
    return withModelLimits(
        m_db, listOf<Tier>(m_db, IdentityRows::tierSelect() + QStringLiteral(" ORDER BY name"), {},
                           [](const QSqlQuery &q) { return IdentityRows::tierFrom(q); }));
}

AdminResult<Tier> AdminService::getTier(const QString &name)
{
    AdminError err;
    return resultOf(findTier(m_db, name, &err), err);
}

AdminResult<Tier> AdminService::setTier(const QString &name, const LimitOverrides &limits,
                                        const QStringList &clearLimits)
{
    return setTier(name, TierPatch{limits, clearLimits, std::nullopt, {}});
}

AdminResult<Tier> AdminService::setTier(const QString &name, const TierPatch &patch)
{
    using R = AdminResult<Tier>;
    if (auto e = V::name(QStringLiteral("name"), name))
        return R::failure(*e);
    if (auto e = V::limits(patch.limits, patch.clearLimits))
        return R::failure(*e);
    if (auto e = V::modelLimits(patch.modelLimits))
        return R::failure(*e);

    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    std::optional<Tier> old = findTier(m_db, name, &err);
    if (!old && err.kind != AdminError::Kind::NotFound)
        return R::failure(err);

    Tier updated = old.value_or(Tier{name, {}, false, {}, {}, {}});
    updated.limits = patched(updated.limits, patch.limits, patch.clearLimits);
    updated.shadow = patch.shadow.value_or(updated.shadow);
    updated.modelLimits = patch.modelLimits.appliedTo(updated.modelLimits);
    if (auto e = V::modelLimitCount(updated.modelLimits))
        return R::failure(*e);

    const QString now = Timestamp::toText(Timestamp::now());
    QString why;
    QJsonObject details;
    if (!old) {
        QVariantList values = {name};
        values << IdentityRows::limitValues(updated.limits) << now << now
               << IdentityRows::shadowValue(updated.shadow);
        if (!m_db.exec(QStringLiteral("INSERT INTO tiers (name, %1, created_at, updated_at, "
                                      "shadow) VALUES (?, %2, ?, ?, ?)")
                           .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders()),
                       values, &why))
            return R::failure(internalError(why));
        details.insert(QStringLiteral("created"), true);
        addLimits(details, updated.limits);
        addShadowAndModels(details, updated.shadow ? std::optional<bool>(true) : std::nullopt,
                           updated.modelLimits);
    } else {
        QJsonObject changes;
        addLimitChanges(changes, old->limits, updated.limits);
        addChange(changes, QStringLiteral("shadow"), old->shadow, updated.shadow);
        addChange(changes, QStringLiteral("model_limits"), IdentityJson::toJson(old->modelLimits),
                  IdentityJson::toJson(updated.modelLimits));
        if (changes.isEmpty())
            return R::success(*old);
        QVariantList values = IdentityRows::limitValues(updated.limits);
        values << IdentityRows::shadowValue(updated.shadow) << now << name;
        if (!m_db.exec(QStringLiteral("UPDATE tiers SET %1, shadow = ?, updated_at = ? WHERE "
                                      "name = ?")
                           .arg(IdentityRows::limitAssignments()),
                       values, &why))
            return R::failure(internalError(why));
        details.insert(QStringLiteral("changes"), changes);
    }
    if (!ModelLimitRows::replace(m_db, ModelLimitRows::Owner::Tier, name, updated.modelLimits,
                                 &why))
        return R::failure(internalError(why));
    if (!tx.audit(QStringLiteral("tier.set"), QStringLiteral("tier"), name, details, &err))
        return R::failure(err);
    std::optional<Tier> stored = findTier(m_db, name, &err);
    if (!stored || !tx.commit(&err))
        return R::failure(err);
    return R::success(*stored);
}

AdminResult<QList<QPair<QString, qint64>>> AdminService::keyCountsByTier()
{
    using R = AdminResult<QList<QPair<QString, qint64>>>;
    // Every tier appears, with 0 when no key uses it; revoked keys do not count.
    QString why;
    QMap<QString, qint64> counts;
    {
        auto q = m_db.query(QStringLiteral("SELECT name FROM tiers"), {}, &why);
        if (!q)
            return R::failure(internalError(why));
        while (q->next())
            counts.insert(q->value(0).toString(), 0);
    }
    auto q = m_db.query(QStringLiteral("SELECT COALESCE(k.tier, u.tier), COUNT(*) FROM api_keys k "
                                       "JOIN users u ON u.id = k.user_id WHERE k.status = 'active' "
                                       "GROUP BY COALESCE(k.tier, u.tier)"),
                        {}, &why);
    if (!q)
        return R::failure(internalError(why));
    while (q->next())
        counts.insert(q->value(0).toString(), q->value(1).toLongLong());
    QList<QPair<QString, qint64>> out;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        out.append({it.key(), it.value()});
    return R::success(out);
}

// ---- defaults ----

AdminResult<PrincipalDefaults> AdminService::getDefaults()
{
    using R = AdminResult<PrincipalDefaults>;
    QString why;
    auto q = m_db.query(IdentityRows::defaultsSelect(), {}, &why);
    if (!q)
        return R::failure(internalError(why));
    PrincipalDefaults d;
    while (q->next()) {
        const QString principal = q->value(0).toString();
        if (principal == QLatin1String("user"))
            d.user = IdentityRows::limitsAt(*q, 1);
        else if (principal == QLatin1String("key"))
            d.key = IdentityRows::limitsAt(*q, 1);
    }
    return R::success(d);
}

AdminResult<PrincipalDefaults> AdminService::setDefaults(const QString &principal,
                                                         const LimitOverrides &limits,
                                                         const QStringList &clearLimits)
{
    using R = AdminResult<PrincipalDefaults>;
    if (principal != QLatin1String("user") && principal != QLatin1String("key"))
        return R::failure(V::invalid(
            QStringLiteral("principal"),
            QStringLiteral("principal must be user or key, got %1").arg(V::quoted(principal))));
    if (auto e = V::limits(limits, clearLimits))
        return R::failure(*e);

    AdminError err;
    IdentityTransaction tx(m_db, m_actor);
    if (!tx.begin(&err))
        return R::failure(err);
    const qint64 exists =
        scalar(m_db, QStringLiteral("SELECT COUNT(*) FROM principal_defaults WHERE principal = ?"),
               {principal}, &err);
    if (exists < 0)
        return R::failure(err);
    AdminResult<PrincipalDefaults> before = getDefaults();
    if (!before.ok())
        return before;
    const LimitOverrides old =
        principal == QLatin1String("user") ? before.value->user : before.value->key;
    const LimitOverrides updated = patched(old, limits, clearLimits);
    QJsonObject changes;
    addLimitChanges(changes, old, updated);
    if (exists && changes.isEmpty())
        return before;

    QVariantList values = IdentityRows::limitValues(updated);
    values << Timestamp::toText(Timestamp::now()) << principal;
    QString why;
    const QString sql =
        exists ? QStringLiteral(
                     "UPDATE principal_defaults SET %1, updated_at = ? WHERE "
                     "principal = ?")
                     .arg(IdentityRows::limitAssignments())
               : QStringLiteral(
                     "INSERT INTO principal_defaults (%1, updated_at, principal) "
                     "VALUES (%2, ?, ?)")
                     .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders());
    if (!m_db.exec(sql, values, &why))
        return R::failure(internalError(why));
    if (!tx.audit(QStringLiteral("defaults.set"), QStringLiteral("defaults"), principal,
                  QJsonObject{{QStringLiteral("changes"), changes}}, &err))
        return R::failure(err);
    AdminResult<PrincipalDefaults> after = getDefaults();
    if (!after.ok() || !tx.commit(&err))
        return after.ok() ? R::failure(err) : after;
    return after;
}

}  // namespace sluice
