#include "LimitResolver.h"

#include <algorithm>

namespace sluice {

namespace {

// A tier missing from the map (deleted, or not loaded yet) contributes nothing: the principal's
// own overrides and defaults still apply.
LimitOverrides tierLimits(const QString &name, const LimitResolver::Tiers &tiers)
{
    const auto it = tiers.constFind(name);
    return it == tiers.cend() ? LimitOverrides() : it->limits;
}

bool hasWildcard(const QString &pattern)
{
    return pattern.contains(u'*') || pattern.contains(u'?');
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

bool LimitResolver::shadowForKey(const ApiKey &key, const User &user, const Tiers &tiers)
{
    if (key.shadow)
        return *key.shadow;
    const auto it = tiers.constFind(effectiveTier(key, user));
    return it != tiers.cend() && it->shadow;
}

QList<ResolvedModelLimit> LimitResolver::modelLimitsForKey(const ApiKey &key, const User &user,
                                                           const Tiers &tiers)
{
    QList<ModelLimit> merged;
    const auto tier = tiers.constFind(effectiveTier(key, user));
    if (tier != tiers.cend())
        merged = tier->modelLimits;
    for (const ModelLimit &own : key.modelLimits) {
        const auto same = std::find_if(merged.begin(), merged.end(),
                                       [&](const ModelLimit &m) { return m.model == own.model; });
        if (same == merged.end())
            merged.append(own);
        else
            same->limits = same->limits.overlaidWith(own.limits);
    }
    QList<ResolvedModelLimit> out;
    out.reserve(merged.size());
    for (const ModelLimit &m : std::as_const(merged))
        out.append({m.model, resolve(m.limits)});
    std::sort(out.begin(), out.end(), [](const ResolvedModelLimit &a, const ResolvedModelLimit &b) {
        return moreSpecific(a.model, b.model);
    });
    return out;
}

bool LimitResolver::moreSpecific(const QString &a, const QString &b)
{
    const bool globA = hasWildcard(a);
    if (globA != hasWildcard(b))
        return !globA;
    if (a.size() != b.size())
        return a.size() > b.size();
    return a < b;
}

}  // namespace sluice
