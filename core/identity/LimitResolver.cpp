#include "LimitResolver.h"

namespace sluice {

namespace {

// A tier missing from the map (deleted, or not loaded yet) contributes nothing: the principal's
// own overrides and defaults still apply.
LimitOverrides tierLimits(const QString &name, const LimitResolver::Tiers &tiers)
{
    const auto it = tiers.constFind(name);
    return it == tiers.cend() ? LimitOverrides() : it->limits;
}

}  // namespace

QString LimitResolver::effectiveTier(const ApiKey &key, const User &user)
{
    return key.tier.isEmpty() ? user.tier : key.tier;
}

EffectiveLimits LimitResolver::forUser(const User &user, const Tiers &tiers,
                                       const PrincipalDefaults &d)
{
    return resolve(d.user.overlaidWith(tierLimits(user.tier, tiers)).overlaidWith(user.limits));
}

EffectiveLimits LimitResolver::forKey(const ApiKey &key, const User &user, const Tiers &tiers,
                                      const PrincipalDefaults &d)
{
    return resolve(
        d.key.overlaidWith(tierLimits(effectiveTier(key, user), tiers)).overlaidWith(key.limits));
}

EffectiveLimits LimitResolver::resolve(const LimitOverrides &layers)
{
    EffectiveLimits e;
    e.requestsPerSecond = layers.requestsPerSecond.value_or(0);
    e.burst = layers.burst.value_or(0);
    e.requestsPerMinute = layers.requestsPerMinute.value_or(0);
    e.tokensPerMinute = layers.tokensPerMinute.value_or(0);
    e.monthlyRequests = layers.monthlyRequests.value_or(0);
    e.monthlyTokens = layers.monthlyTokens.value_or(0);
    e.concurrentRequests = layers.concurrentRequests.value_or(0);
    return e;
}

}  // namespace sluice
