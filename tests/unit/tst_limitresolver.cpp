#include "LimitResolver.h"

#include <QtTest>

using namespace sluice;

namespace {

LimitOverrides rps(double r, std::optional<qint64> burst = std::nullopt)
{
    LimitOverrides l;
    l.requestsPerSecond = r;
    l.burst = burst;
    return l;
}

Tier tier(const QString &name, const LimitOverrides &limits)
{
    Tier t;
    t.name = name;
    t.limits = limits;
    return t;
}

PrincipalDefaults builtInDefaults()
{
    PrincipalDefaults d;
    d.user = rps(100, 200);
    d.key = rps(50, 100);
    return d;
}

}  // namespace

class TestLimitResolver : public QObject
{
    Q_OBJECT

private slots:
    void overridesAndEmptiness();
    void resolveTurnsUnsetIntoUnlimited();
    void effectiveTier();
    void keyInheritsDefaultsWhenNothingElseSays();
    void keyTierBeatsDefault();
    void keyFallsBackToUserTier();
    void keyOverrideBeatsEverything();
    void zeroMeansUnlimitedAndStillOverrides();
    void fractionalRequestsPerSecond();
    void unknownTierContributesNothing();
    void userLayers();
    void userAndKeyAreIndependent();
    void concurrentRequestsLayers();
    void shadowFollowsKeyThenTier();
    void modelLimitsOverlayTierWithKey();
    void modelLimitsMostSpecificFirst();
    void modelLimitsOfMissingTier();
};

void TestLimitResolver::overridesAndEmptiness()
{
    LimitOverrides a;
    QVERIFY(a.isEmpty());
    a.requestsPerMinute = 10;
    QVERIFY(!a.isEmpty());
    LimitOverrides zero;
    zero.monthlyTokens = 0;  // set to 0 is not empty
    QVERIFY(!zero.isEmpty());
    LimitOverrides concurrent;
    concurrent.concurrentRequests = 0;
    QVERIFY(!concurrent.isEmpty());

    LimitOverrides b;
    b.requestsPerMinute = 20;
    b.burst = 5;
    const LimitOverrides merged = a.overlaidWith(b);
    QCOMPARE(merged.requestsPerMinute, std::optional<qint64>(20));
    QCOMPARE(merged.burst, std::optional<qint64>(5));
    QVERIFY(!merged.requestsPerSecond);
    QVERIFY(!merged.concurrentRequests);
    LimitOverrides c;
    c.concurrentRequests = 4;
    QCOMPARE(a.overlaidWith(c).concurrentRequests, std::optional<qint64>(4));
    QCOMPARE(a.overlaidWith(c).requestsPerMinute, std::optional<qint64>(10));
    QCOMPARE(c.overlaidWith(b).concurrentRequests, std::optional<qint64>(4));  // b is silent
    QCOMPARE(a.overlaidWith(LimitOverrides()), a);  // an empty overlay changes nothing
    QCOMPARE(LimitOverrides().overlaidWith(a), a);
}

void TestLimitResolver::resolveTurnsUnsetIntoUnlimited()
{
    QCOMPARE(LimitResolver::resolve(LimitOverrides()), EffectiveLimits());
    LimitOverrides all;
    all.requestsPerSecond = 1.5;
    all.burst = 2;
    all.requestsPerMinute = 3;
    all.tokensPerMinute = 4;
    all.monthlyRequests = 5;
    all.monthlyTokens = 6;
    all.concurrentRequests = 7;
    const EffectiveLimits e = LimitResolver::resolve(all);
    QCOMPARE(e.requestsPerSecond, 1.5);
    QCOMPARE(e.burst, 2);
    QCOMPARE(e.requestsPerMinute, 3);
    QCOMPARE(e.tokensPerMinute, 4);
    QCOMPARE(e.monthlyRequests, 5);
    QCOMPARE(e.monthlyTokens, 6);
    QCOMPARE(e.concurrentRequests, 7);
    QCOMPARE(LimitResolver::resolve(LimitOverrides()).concurrentRequests, 0);  // unlimited
}

void TestLimitResolver::effectiveTier()
{
    User u;
    u.tier = QStringLiteral("pro");
    ApiKey k;
    QCOMPARE(LimitResolver::effectiveTier(k, u), QStringLiteral("pro"));
    k.tier = QStringLiteral("partner");
    QCOMPARE(LimitResolver::effectiveTier(k, u), QStringLiteral("partner"));
}

void TestLimitResolver::keyInheritsDefaultsWhenNothingElseSays()
{
    User u;  // tier "free", which is not in the map and sets nothing
    ApiKey k;
    const EffectiveLimits e = LimitResolver::forKey(k, u, {}, builtInDefaults());
    QCOMPARE(e.requestsPerSecond, 50.0);
    QCOMPARE(e.burst, 100);
    QCOMPARE(e.requestsPerMinute, 0);  // nobody sets it: unlimited
}

void TestLimitResolver::keyTierBeatsDefault()
{
    LimitOverrides pro;
    pro.requestsPerMinute = 1000;
    pro.burst = 400;
    const LimitResolver::Tiers tiers = {{QStringLiteral("pro"), tier(QStringLiteral("pro"), pro)}};
    User u;
    ApiKey k;
    k.tier = QStringLiteral("pro");
    const EffectiveLimits e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 1000);
    QCOMPARE(e.burst, 400);               // tier over default
    QCOMPARE(e.requestsPerSecond, 50.0);  // tier silent: default
}

void TestLimitResolver::keyFallsBackToUserTier()
{
    LimitOverrides free;
    free.requestsPerMinute = 100;
    free.monthlyRequests = 50000;
    LimitOverrides pro;
    pro.requestsPerMinute = 1000;
    const LimitResolver::Tiers tiers = {
        {QStringLiteral("free"), tier(QStringLiteral("free"), free)},
        {QStringLiteral("pro"), tier(QStringLiteral("pro"), pro)}};
    User u;
    u.tier = QStringLiteral("free");
    ApiKey k;  // no tier of its own
    EffectiveLimits e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 100);
    QCOMPARE(e.monthlyRequests, 50000);
    k.tier = QStringLiteral("pro");  // its own tier replaces the user's entirely
    e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 1000);
    QCOMPARE(e.monthlyRequests, 0);
}

void TestLimitResolver::keyOverrideBeatsEverything()
{
    LimitOverrides pro;
    pro.requestsPerMinute = 1000;
    pro.requestsPerSecond = 20;
    const LimitResolver::Tiers tiers = {{QStringLiteral("pro"), tier(QStringLiteral("pro"), pro)}};
    User u;
    u.tier = QStringLiteral("pro");
    u.limits.requestsPerMinute = 7;  // the user's overrides do not apply to its keys
    ApiKey k;
    k.limits.requestsPerMinute = 10;
    k.limits.tokensPerMinute = 5000;
    const EffectiveLimits e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 10);
    QCOMPARE(e.tokensPerMinute, 5000);
    QCOMPARE(e.requestsPerSecond, 20.0);
    QCOMPARE(e.burst, 100);
}

void TestLimitResolver::zeroMeansUnlimitedAndStillOverrides()
{
    LimitOverrides enterprise;
    enterprise.requestsPerSecond = 0;
    enterprise.burst = 0;
    enterprise.requestsPerMinute = 0;
    const LimitResolver::Tiers tiers = {
        {QStringLiteral("enterprise"), tier(QStringLiteral("enterprise"), enterprise)}};
    User u;
    u.tier = QStringLiteral("enterprise");
    ApiKey k;
    EffectiveLimits e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerSecond, 0.0);  // 0 from the tier beats the default 50
    QCOMPARE(e.burst, 0);
    k.limits.requestsPerMinute = 30;  // a key override can limit an unlimited tier
    e = LimitResolver::forKey(k, u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 30);
    // ... and a 0 override lifts a tier limit.
    LimitOverrides free;
    free.requestsPerMinute = 100;
    ApiKey k2;
    k2.limits.requestsPerMinute = 0;
    User u2;
    e = LimitResolver::forKey(
        k2, u2, {{QStringLiteral("free"), tier(QStringLiteral("free"), free)}}, builtInDefaults());
    QCOMPARE(e.requestsPerMinute, 0);
}

void TestLimitResolver::fractionalRequestsPerSecond()
{
    User u;
    ApiKey k;
    k.limits = rps(0.25);
    const EffectiveLimits e = LimitResolver::forKey(k, u, {}, builtInDefaults());
    QCOMPARE(e.requestsPerSecond, 0.25);
    QCOMPARE(e.burst, 100);
    PrincipalDefaults d;
    d.user = rps(0.5);
    QCOMPARE(LimitResolver::forUser(u, {}, d).requestsPerSecond, 0.5);
}

void TestLimitResolver::unknownTierContributesNothing()
{
    User u;
    u.tier = QStringLiteral("deleted");
    u.limits.monthlyTokens = 9;
    const EffectiveLimits e = LimitResolver::forUser(u, {}, builtInDefaults());
    QCOMPARE(e.requestsPerSecond, 100.0);
    QCOMPARE(e.burst, 200);
    QCOMPARE(e.monthlyTokens, 9);
}

void TestLimitResolver::userLayers()
{
    LimitOverrides pro;
    pro.requestsPerMinute = 1000;
    pro.burst = 300;
    const LimitResolver::Tiers tiers = {{QStringLiteral("pro"), tier(QStringLiteral("pro"), pro)}};
    User u;
    u.tier = QStringLiteral("pro");
    u.limits.burst = 50;
    const EffectiveLimits e = LimitResolver::forUser(u, tiers, builtInDefaults());
    QCOMPARE(e.requestsPerSecond, 100.0);  // user default
    QCOMPARE(e.burst, 50);                 // user override over tier
    QCOMPARE(e.requestsPerMinute, 1000);   // tier
    QCOMPARE(e.monthlyRequests, 0);
}

void TestLimitResolver::userAndKeyAreIndependent()
{
    const LimitResolver::Tiers tiers;
    User u;
    u.limits.requestsPerSecond = 1;
    ApiKey k;
    k.limits.requestsPerSecond = 2;
    QCOMPARE(LimitResolver::forUser(u, tiers, builtInDefaults()).requestsPerSecond, 1.0);
    QCOMPARE(LimitResolver::forKey(k, u, tiers, builtInDefaults()).requestsPerSecond, 2.0);
    QCOMPARE(LimitResolver::forUser(u, tiers, builtInDefaults()).burst, 200);
    QCOMPARE(LimitResolver::forKey(k, u, tiers, builtInDefaults()).burst, 100);
}

void TestLimitResolver::concurrentRequestsLayers()
{
    // Nobody sets it: unlimited (the built-in defaults leave it unset).
    User u;
    ApiKey k;
    QCOMPARE(LimitResolver::forKey(k, u, {}, builtInDefaults()).concurrentRequests, 0);
    QCOMPARE(LimitResolver::forUser(u, {}, builtInDefaults()).concurrentRequests, 0);

    // Default < tier < override, for keys and users alike.
    PrincipalDefaults d = builtInDefaults();
    d.key.concurrentRequests = 2;
    d.user.concurrentRequests = 8;
    QCOMPARE(LimitResolver::forKey(k, u, {}, d).concurrentRequests, 2);
    QCOMPARE(LimitResolver::forUser(u, {}, d).concurrentRequests, 8);

    LimitOverrides pro;
    pro.concurrentRequests = 4;
    LimitOverrides enterprise;
    enterprise.concurrentRequests = 0;
    const LimitResolver::Tiers tiers = {
        {QStringLiteral("pro"), tier(QStringLiteral("pro"), pro)},
        {QStringLiteral("enterprise"), tier(QStringLiteral("enterprise"), enterprise)}};
    u.tier = QStringLiteral("pro");
    QCOMPARE(LimitResolver::forKey(k, u, tiers, d).concurrentRequests, 4);  // the user's tier
    QCOMPARE(LimitResolver::forUser(u, tiers, d).concurrentRequests, 4);
    k.tier = QStringLiteral("enterprise");  // 0 from the tier beats the default 2
    QCOMPARE(LimitResolver::forKey(k, u, tiers, d).concurrentRequests, 0);
    k.limits.concurrentRequests = 1;  // the key's override beats everything
    QCOMPARE(LimitResolver::forKey(k, u, tiers, d).concurrentRequests, 1);
    QCOMPARE(LimitResolver::forUser(u, tiers, d).concurrentRequests, 4);  // not the user's
    u.limits.concurrentRequests = 16;
    QCOMPARE(LimitResolver::forUser(u, tiers, d).concurrentRequests, 16);
    QCOMPARE(LimitResolver::forKey(k, u, tiers, d).concurrentRequests, 1);

    // The other fields are untouched by it.
    const EffectiveLimits e = LimitResolver::forKey(k, u, tiers, d);
    QCOMPARE(e.requestsPerSecond, 50.0);
    QCOMPARE(e.burst, 100);
}

void TestLimitResolver::shadowFollowsKeyThenTier()
{
    Tier trial = tier(QStringLiteral("trial"), {});
    trial.shadow = true;
    const LimitResolver::Tiers tiers = {{QStringLiteral("trial"), trial},
                                        {QStringLiteral("free"), tier(QStringLiteral("free"), {})}};
    User user;
    user.tier = QStringLiteral("free");
    ApiKey key;
    QVERIFY(!LimitResolver::shadowForKey(key, user, tiers));  // the user's tier: not shadow
    key.tier = QStringLiteral("trial");
    QVERIFY(LimitResolver::shadowForKey(key, user, tiers));  // the key's own tier
    key.shadow = false;
    QVERIFY(!LimitResolver::shadowForKey(key, user, tiers));  // the key's setting wins
    key.tier.clear();
    key.shadow = true;
    QVERIFY(LimitResolver::shadowForKey(key, user, tiers));
    key.shadow.reset();
    user.tier = QStringLiteral("gone");  // a missing tier is not in shadow mode
    QVERIFY(!LimitResolver::shadowForKey(key, user, tiers));
}

void TestLimitResolver::modelLimitsOverlayTierWithKey()
{
    LimitOverrides tierGpt;
    tierGpt.tokensPerMinute = 1000;
    tierGpt.requestsPerMinute = 60;
    LimitOverrides tierClaude;
    tierClaude.monthlyTokens = 5000;
    Tier pro = tier(QStringLiteral("pro"), rps(5));
    pro.modelLimits = {{QStringLiteral("gpt-4o"), tierGpt},
                       {QStringLiteral("claude-*"), tierClaude}};
    const LimitResolver::Tiers tiers = {{QStringLiteral("pro"), pro}};
    User user;
    user.tier = QStringLiteral("pro");

    ApiKey key;
    LimitOverrides keyGpt;
    keyGpt.tokensPerMinute = 200;  // over the tier's, field by field
    keyGpt.concurrentRequests = 2;
    LimitOverrides keyMini;
    keyMini.requestsPerSecond = 0.5;
    key.modelLimits = {{QStringLiteral("gpt-4o"), keyGpt}, {QStringLiteral("o3-mini"), keyMini}};

    const QList<ResolvedModelLimit> resolved = LimitResolver::modelLimitsForKey(key, user, tiers);
    QCOMPARE(resolved.size(), 3);
    QCOMPARE(resolved.at(0).model, QStringLiteral("o3-mini"));  // longer plain name first
    QCOMPARE(resolved.at(0).limits.requestsPerSecond, 0.5);
    QCOMPARE(resolved.at(0).limits.tokensPerMinute, 0);  // unset = unlimited
    QCOMPARE(resolved.at(1).model, QStringLiteral("gpt-4o"));
    EffectiveLimits gpt;
    gpt.tokensPerMinute = 200;
    gpt.requestsPerMinute = 60;
    gpt.concurrentRequests = 2;
    QCOMPARE(resolved.at(1).limits, gpt);
    QCOMPARE(resolved.at(2).model, QStringLiteral("claude-*"));
    QCOMPARE(resolved.at(2).limits.monthlyTokens, 5000);
    QCOMPARE(resolved.at(2).limits.requestsPerSecond, 0);  // not the tier's own rps

    // The tier itself is not changed, and a key without entries gets the tier's.
    QCOMPARE(pro.modelLimits.at(0).limits.tokensPerMinute, 1000);
    const QList<ResolvedModelLimit> plain = LimitResolver::modelLimitsForKey(ApiKey(), user, tiers);
    QCOMPARE(plain.size(), 2);
    QCOMPARE(plain.at(0).model, QStringLiteral("gpt-4o"));
    QCOMPARE(plain.at(0).limits.tokensPerMinute, 1000);
}

void TestLimitResolver::modelLimitsMostSpecificFirst()
{
    Tier t = tier(QStringLiteral("t"), {});
    for (const char *m : {"*", "gpt-*", "gpt-4o", "gpt-4o-*", "gpt-4.1", "o?", "claude-3-5-*", "a",
                          "gpt-4o-mini", "gpt-?o"})
        t.modelLimits.append({QLatin1String(m), {}});
    User user;
    user.tier = QStringLiteral("t");
    QStringList order;
    for (const ResolvedModelLimit &m :
         LimitResolver::modelLimitsForKey(ApiKey(), user, {{QStringLiteral("t"), t}}))
        order << m.model;
    QCOMPARE(order, QStringList({"gpt-4o-mini", "gpt-4.1", "gpt-4o", "a", "claude-3-5-*",
                                 "gpt-4o-*", "gpt-?o", "gpt-*", "o?", "*"}));
    QVERIFY(LimitResolver::moreSpecific(QStringLiteral("x"), QStringLiteral("xyz*")));
    QVERIFY(!LimitResolver::moreSpecific(QStringLiteral("gpt-*"), QStringLiteral("gpt-*")));
}

void TestLimitResolver::modelLimitsOfMissingTier()
{
    User user;
    user.tier = QStringLiteral("gone");
    ApiKey key;
    LimitOverrides own;
    own.burst = 3;
    key.modelLimits = {{QStringLiteral("gpt-4o"), own}};
    const QList<ResolvedModelLimit> resolved = LimitResolver::modelLimitsForKey(key, user, {});
    QCOMPARE(resolved.size(), 1);
    QCOMPARE(resolved.first().limits.burst, 3);
    QVERIFY(LimitResolver::modelLimitsForKey(ApiKey(), user, {}).isEmpty());
}

QTEST_GUILESS_MAIN(TestLimitResolver)
#include "tst_limitresolver.moc"
