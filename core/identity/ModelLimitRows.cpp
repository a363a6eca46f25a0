#include "ModelLimitRows.h"

#include "DatabaseConnection.h"
#include "IdentityRows.h"

namespace sluice {

namespace {

QString kindText(ModelLimitRows::Owner kind)
{
    return kind == ModelLimitRows::Owner::Tier ? QStringLiteral("tier") : QStringLiteral("key");
}

}  // namespace

std::optional<QHash<QString, QList<ModelLimit>>> ModelLimitRows::load(DatabaseConnection &db,
                                                                      Owner kind, QString *error,
                                                                      const QString &owner)
{
    QVariantList values = {kindText(kind)};
    if (!owner.isEmpty())
        values << owner;
    auto q = db.query(QStringLiteral("SELECT owner, model, %1 FROM model_limits WHERE "
                                     "owner_kind = ?%2 ORDER BY owner, model")
                          .arg(IdentityRows::limitColumns(),
                               owner.isEmpty() ? QString() : QStringLiteral(" AND owner = ?")),
                      values, error);
    if (!q)
        return std::nullopt;
    QHash<QString, QList<ModelLimit>> byOwner;
    while (q->next())
        byOwner[q->value(0).toString()].append(
            ModelLimit{q->value(1).toString(), IdentityRows::limitsAt(*q, 2)});
    return byOwner;
}

bool ModelLimitRows::attach(DatabaseConnection &db, QList<Tier> &tiers, QString *error)
{
    const auto rows = load(db, Owner::Tier, error);
    if (!rows)
        return false;
    for (Tier &t : tiers)
        t.modelLimits = rows->value(t.name);
    return true;
}

bool ModelLimitRows::attach(DatabaseConnection &db, QList<ApiKey> &keys, QString *error)
{
    const auto rows = load(db, Owner::Key, error);
    if (!rows)
        return false;
    for (ApiKey &k : keys)
        k.modelLimits = rows->value(QString::number(k.id));
    return true;
}

bool ModelLimitRows::replace(DatabaseConnection &db, Owner kind, const QString &owner,
                             const QList<ModelLimit> &entries, QString *error)
{
    if (!db.exec(QStringLiteral("DELETE FROM model_limits WHERE owner_kind = ? AND owner = ?"),
                 {kindText(kind), owner}, error))
        return false;
    const QString insert =
        QStringLiteral(
            "INSERT INTO model_limits (owner_kind, owner, model, %1) "
            "VALUES (?, ?, ?, %2)")
            .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders());
    for (const ModelLimit &entry : entries) {
        QVariantList values = {kindText(kind), owner, entry.model};
        values << IdentityRows::limitValues(entry.limits);
        if (!db.exec(insert, values, error))
            return false;
    }
    return true;
}

}  // namespace sluice
