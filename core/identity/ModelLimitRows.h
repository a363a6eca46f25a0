#pragma once

#include "IdentityTypes.h"

#include <QHash>
#include <QList>
#include <QString>

namespace sluice {

class DatabaseConnection;

// The model_limits table: the per-model limits of tiers (owner = the tier's name) and keys
// (owner = the key's id as text), one row per owner and model, read and written whole per
// owner. Callers hold the transaction (AdminService, IdentitySeeder).
class ModelLimitRows
{
public:
    enum class Owner
    {
        Tier,
        Key
    };

    // The rows of one kind (of one owner when `owner` is given): owner -> its entries, ordered
    // by model. nullopt with *error.
    static std::optional<QHash<QString, QList<ModelLimit>>> load(DatabaseConnection &db, Owner kind,
                                                                 QString *error,
                                                                 const QString &owner = {});
    // Fills modelLimits of every tier / key in the list (one query).
    static bool attach(DatabaseConnection &db, QList<Tier> &tiers, QString *error);
    static bool attach(DatabaseConnection &db, QList<ApiKey> &keys, QString *error);
    // Replaces the owner's rows with `entries`.
    static bool replace(DatabaseConnection &db, Owner kind, const QString &owner,
                        const QList<ModelLimit> &entries, QString *error);
};

}  // namespace sluice
