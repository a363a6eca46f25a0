#pragma once

#include "IdentityTypes.h"

#include <QSqlQuery>
#include <QString>
#include <QVariantList>

namespace sluice {

// How tiers, users, keys and defaults map to rows: the column lists of the SELECTs that
// AdminService and IdentityStore share, the readers of those rows, and the bound form of
// values (NULL for unset limits, empty text and invalid times; Timestamp text for times;
// hex for hashes; a JSON array for model globs).
class IdentityRows
{
public:
    // "requests_per_second, burst, ..." with every column prefixed by `qualifier` ("k.").
    static QString limitColumns(const QString &qualifier = QString());
    // "?, ?, ..." with one placeholder per limit column, for INSERT ... VALUES.
    static QString limitPlaceholders();
    // "requests_per_second = ?, burst = ?, ..." for UPDATE ... SET.
    static QString limitAssignments();
    static QVariantList limitValues(const LimitOverrides &limits);
    // Reads the limit columns (LimitFields::names() order) starting at column `first`.
    static LimitOverrides limitsAt(const QSqlQuery &q, int first);

    // SELECTs ending after FROM (and the join), ready for " WHERE ..." / " ORDER BY ...".
    static QString tierSelect();
    static Tier tierFrom(const QSqlQuery &q);
    static QString userSelect();  // columns unqualified, table users
    static User userFrom(const QSqlQuery &q);
    static QString keySelect();  // api_keys k JOIN users u: qualify filters with k. / u.
    static ApiKey keyFrom(const QSqlQuery &q);
    // SELECT principal + limit columns FROM principal_defaults.
    static QString defaultsSelect();

    static QString hashText(const QByteArray &hash);  // lower-case hex
    static QString modelsText(const QStringList &models);
    static QStringList modelsFrom(const QString &text);
    // Shadow flags as INTEGER 0/1; NULL for a key that follows its tier.
    static QVariant shadowValue(std::optional<bool> shadow);
    static std::optional<bool> shadowFrom(const QVariant &value);
    static QVariant nullIfEmpty(const QString &text);
    static QVariant timeValue(const QDateTime &time);  // Timestamp text, NULL when invalid
};

}  // namespace sluice
