#include "IdentityRows.h"

#include "LimitFields.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sluice {

namespace {

// The number of limit columns, to find the columns after them in the SELECTs below.
int limitCount()
{
    return int(LimitFields::names().size());
}

}  // namespace

QString IdentityRows::limitColumns(const QString &qualifier)
{
    QStringList cols;
    for (const QString &name : LimitFields::names())
        cols << qualifier + name;
    return cols.join(QStringLiteral(", "));
}

QString IdentityRows::limitPlaceholders()
{
    QStringList marks;
    for (qsizetype i = 0; i < LimitFields::names().size(); ++i)
        marks << QStringLiteral("?");
    return marks.join(QStringLiteral(", "));
}

QString IdentityRows::limitAssignments()
{
    QStringList cols;
    for (const QString &name : LimitFields::names())
        cols << name + QStringLiteral(" = ?");
    return cols.join(QStringLiteral(", "));
}

QVariantList IdentityRows::limitValues(const LimitOverrides &limits)
{
    QVariantList values;
    for (const QString &name : LimitFields::names())
        values << LimitFields::value(limits, name);
    return values;
}

LimitOverrides IdentityRows::limitsAt(const QSqlQuery &q, int first)
{
    LimitOverrides limits;
    const QStringList &names = LimitFields::names();
    for (int i = 0; i < names.size(); ++i)
        LimitFields::setValue(limits, names.at(i), q.value(first + i));
    return limits;
}

QString IdentityRows::tierSelect()
{
    return QStringLiteral("SELECT name, %1, created_at, updated_at, shadow FROM tiers")
        .arg(limitColumns());
}

Tier IdentityRows::tierFrom(const QSqlQuery &q)
{
    Tier t;
    t.name = q.value(0).toString();
    t.limits = limitsAt(q, 1);
    const int next = 1 + limitCount();
    t.createdAt = Timestamp::fromText(q.value(next).toString());
    t.updatedAt = Timestamp::fromText(q.value(next + 1).toString());
    t.shadow = q.value(next + 2).toLongLong() != 0;
    return t;
}

QString IdentityRows::userSelect()
{
    return QStringLiteral("SELECT id, name, email, tier, status, %1, created_at FROM users")
        .arg(limitColumns());
}

User IdentityRows::userFrom(const QSqlQuery &q)
{
    User u;
    u.id = q.value(0).toLongLong();
    u.name = q.value(1).toString();
    u.email = q.value(2).toString();
    u.tier = q.value(3).toString();
    u.status = q.value(4).toString();
    u.limits = limitsAt(q, 5);
    u.createdAt = Timestamp::fromText(q.value(5 + limitCount()).toString());
    return u;
}

QString IdentityRows::keySelect()
{
    return QStringLiteral(
               "SELECT k.id, k.user_id, u.name, k.name, k.prefix, k.hash, k.tier, %1, k.models, "
               "k.status, k.created_at, k.last_used_at, k.expires_at, k.shadow "
               "FROM api_keys k JOIN users u ON u.id = k.user_id")
        .arg(limitColumns(QStringLiteral("k.")));
}

ApiKey IdentityRows::keyFrom(const QSqlQuery &q)
{
    ApiKey k;
    k.id = q.value(0).toLongLong();
    k.userId = q.value(1).toLongLong();
    k.userName = q.value(2).toString();
    k.name = q.value(3).toString();
    k.prefix = q.value(4).toString();
    k.hash = QByteArray::fromHex(q.value(5).toString().toLatin1());
    k.tier = q.value(6).toString();
    k.limits = limitsAt(q, 7);
    const int next = 7 + limitCount();
    k.models = modelsFrom(q.value(next).toString());
    k.status = q.value(next + 1).toString();
    k.createdAt = Timestamp::fromText(q.value(next + 2).toString());
    k.lastUsedAt = Timestamp::fromText(q.value(next + 3).toString());
    k.expiresAt = Timestamp::fromText(q.value(next + 4).toString());
    k.shadow = shadowFrom(q.value(next + 5));
    return k;
}

QString IdentityRows::defaultsSelect()
{
    return QStringLiteral("SELECT principal, %1 FROM principal_defaults").arg(limitColumns());
}

QString IdentityRows::hashText(const QByteArray &hash)
{
    return QString::fromLatin1(hash.toHex());
}

QString IdentityRows::modelsText(const QStringList &models)
{
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(models)).toJson(QJsonDocument::Compact));
}

QStringList IdentityRows::modelsFrom(const QString &text)
{
    QStringList models;
    const QJsonArray array = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const QJsonValue &v : array)
        models << v.toString();
    return models;
}

QVariant IdentityRows::shadowValue(std::optional<bool> shadow)
{
    return shadow ? QVariant(*shadow ? 1 : 0) : QVariant();
}

std::optional<bool> IdentityRows::shadowFrom(const QVariant &value)
{
    return value.isNull() ? std::nullopt : std::optional<bool>(value.toLongLong() != 0);
}

QVariant IdentityRows::nullIfEmpty(const QString &text)
{
    return text.isEmpty() ? QVariant() : QVariant(text);
}

QVariant IdentityRows::timeValue(const QDateTime &time)
{
    return time.isValid() ? QVariant(Timestamp::toText(time)) : QVariant();
}

}  // namespace sluice
