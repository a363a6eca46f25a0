#pragma once

#include "IdentityTypes.h"

#include <QHash>

namespace sluice {

// Resolves stored limits into effective ones. Pure functions, unit-tested.
// A key: key override > key's tier (its own, else its user's) > key default.
// A user: user override > user's tier > user default. 0 = unlimited; a field nobody sets is 0.
class LimitResolver
{
public:
    using Tiers = QHash<QString, Tier>;
    static QString effectiveTier(const ApiKey &key, const User &user);
    static EffectiveLimits forUser(const User &user, const Tiers &tiers,
                                   const PrincipalDefaults &d);
    static EffectiveLimits forKey(const ApiKey &key, const User &user, const Tiers &tiers,
                                  const PrincipalDefaults &d);
    static EffectiveLimits resolve(const LimitOverrides &layers);

    // Shadow mode of a key: its own setting, else its effective tier's (off for a missing tier).
    static bool shadowForKey(const ApiKey &key, const User &user, const Tiers &tiers);
    // Per-model limits of a key: its effective tier's entries, each overlaid field by field with
    // the key's entry for the same model string; the key's entries for other models added.
    // Unset fields are 0 (unlimited). Ordered with moreSpecific(): the first match applies.
    static QList<ResolvedModelLimit> modelLimitsForKey(const ApiKey &key, const User &user,
                                                       const Tiers &tiers);
    // Model patterns, most specific first: names without wildcards (* ?) before globs, then
    // longer before shorter, then by name.
    static bool moreSpecific(const QString &a, const QString &b);
};

}  // namespace sluice
