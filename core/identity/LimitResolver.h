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
};

}  // namespace sluice
