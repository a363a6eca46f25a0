#pragma once

#include "IdentityTypes.h"

#include <QMap>
#include <QSet>
#include <QString>
#include <QVariant>
#include <optional>

namespace sluice {

class DatabaseConnection;

// Creates the tiers and per-principal defaults at first start: the built-in ones, overridden
// field by field by the INI file's [tier.NAME], [defaults.user] and [defaults.key] sections
// (keys: the limit field names of LimitFields, e.g. concurrent_requests = 4; an empty value
// means inherit; [tier.NAME] also takes shadow = true|false) and the per-model limits of
// [tier.NAME.model.MODEL] (the limit fields; MODEL a name or glob, split from NAME at the first
// ".model."). A row is only inserted when it does not exist yet, so operator edits (CLI,
// admin API, dashboard) are never overwritten: after the first start the database is the
// source of truth. A tier declared in the INI file later is still added; a tier's shadow flag
// and model limits are part of it, written only when the tier is inserted.
//
// Built in: free (100 requests/min, 50 000 requests/month), pro (1 000/min, 1 000 000/month),
// enterprise and partner (unlimited: every field 0), anonymous (100 requests/min per client
// IP, for failed authentications and unauthenticated routes); defaults user 100 requests/s
// burst 200, key 50 requests/s burst 100. No built-in row limits concurrent requests.
class IdentitySeeder
{
public:
    // GatewayConfig::extraSections: section name -> key -> value as QSettings returns it
    // (QString, or QStringList for an unquoted "a,b").
    using IniSections = QMap<QString, QMap<QString, QVariant>>;

    struct Seed
    {
        QMap<QString, LimitOverrides> tiers;
        QSet<QString> shadowTiers;                     // tiers in shadow mode
        QMap<QString, QList<ModelLimit>> modelLimits;  // by tier, ordered by model
        PrincipalDefaults defaults;
    };

    static QMap<QString, LimitOverrides> builtInTiers();
    static PrincipalDefaults builtInDefaults();

    // The built-ins with the INI sections applied; sections other than tier.* and defaults.*
    // are ignored. On a bad section name, key or value: nullopt and a one-line *error naming
    // section, key and value (`source`, the INI file, is named too when given).
    static std::optional<Seed> fromIni(const IniSections &sections, QString *error,
                                       const QString &source = QString());

    // fromIni() then seed(db, Seed). Returns false with *error on a bad INI value (nothing
    // written) or a database error.
    static bool seed(DatabaseConnection &db, const IniSections &sections, QString *error,
                     int *inserted = nullptr);
    // Inserts what is missing, in one transaction, with an audit row per inserted tier or
    // default (actor "config") and one identity revision bump when anything was inserted.
    // *inserted (optional) receives the number of rows added.
    static bool seed(DatabaseConnection &db, const Seed &plan, QString *error,
                     int *inserted = nullptr);
};

}  // namespace sluice
