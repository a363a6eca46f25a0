#include "AdminService.h"
#include "IdentitySeeder.h"
#include "IdentityTestDatabases.h"

#include <QtTest>

using namespace sluice;
using sluice::test::IdentityTestDatabases;

namespace {

using Sections = IdentitySeeder::IniSections;

LimitOverrides limitsOf(std::optional<double> rps, std::optional<qint64> burst,
                        std::optional<qint64> rpm, std::optional<qint64> tpm,
                        std::optional<qint64> monthlyRequests, std::optional<qint64> monthlyTokens,
                        std::optional<qint64> concurrentRequests = std::nullopt)
{
    return {rps, burst, rpm, tpm, monthlyRequests, monthlyTokens, concurrentRequests};
}

}  // namespace

class TestIdentitySeeder : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void builtIns();
    void iniOverridesFieldByField();
    void otherSectionsAreIgnored();
    void badIni_data();
    void badIni();

    void seedsBuiltInsAtFirstStart_data() { IdentityTestDatabases::backends(); }
    void seedsBuiltInsAtFirstStart();
    void iniOverridesAtFirstStart_data() { IdentityTestDatabases::backends(); }
    void iniOverridesAtFirstStart();
    void neverOverwritesLater_data() { IdentityTestDatabases::backends(); }
    void neverOverwritesLater();
    void badIniWritesNothing_data() { IdentityTestDatabases::backends(); }
    void badIniWritesNothing();
    void shadowAndModelSections();
    void shadowAndModelsAtFirstStartOnly_data() { IdentityTestDatabases::backends(); }
    void shadowAndModelsAtFirstStartOnly();

private:
    IdentityTestDatabases m_dbs;
};

void TestIdentitySeeder::initTestCase()
{
    QString why;
    if (!m_dbs.init(&why))
        QFAIL(qPrintable(why));
}

void TestIdentitySeeder::cleanupTestCase()
{
    m_dbs.cleanup();
}

void TestIdentitySeeder::builtIns()
{
    const auto tiers = IdentitySeeder::builtInTiers();
    QCOMPARE(tiers.keys(), QStringList({"anonymous", "enterprise", "free", "partner", "pro"}));
    QCOMPARE(tiers.value("free"), limitsOf({}, {}, 100, {}, 50000, {}));
    QCOMPARE(tiers.value("pro"), limitsOf({}, {}, 1000, {}, 1000000, {}));
    QCOMPARE(tiers.value("enterprise"), limitsOf(0, 0, 0, 0, 0, 0, 0));
    QCOMPARE(tiers.value("partner"), limitsOf(0, 0, 0, 0, 0, 0, 0));
    QCOMPARE(tiers.value("anonymous"), limitsOf({}, {}, 100, {}, {}, {}));
    const PrincipalDefaults d = IdentitySeeder::builtInDefaults();
    QCOMPARE(d.user, limitsOf(100, 200, {}, {}, {}, {}));
    QCOMPARE(d.key, limitsOf(50, 100, {}, {}, {}, {}));
    // No built-in concurrency limit: unset (inherit, so unlimited) everywhere but the two
    // unlimited tiers, where every field is 0.
    for (const char *name : {"free", "pro", "anonymous"})
        QVERIFY2(!tiers.value(name).concurrentRequests, name);
    QVERIFY(!d.user.concurrentRequests && !d.key.concurrentRequests);
}

void TestIdentitySeeder::iniOverridesFieldByField()
{
    Sections ini;
    ini["tier.free"] = {{"requests_per_minute", "250"}};
    ini["tier.pro"] = {{"monthly_requests", ""}};  // empty: inherit
    ini["tier.gold"] = {{"requests_per_second", "2.5"}, {"burst", " 10 "}};
    ini["defaults.key"] = {{"requests_per_second", "0.5"}, {"tokens_per_minute", "90000"}};
    ini["tier.team"] = {{"concurrent_requests", "4"}};
    ini["tier.enterprise"] = {{"concurrent_requests", ""}};  // inherit instead of 0
    ini["defaults.user"] = {{"concurrent_requests", " 16 "}};
    QString error;
    const auto seed = IdentitySeeder::fromIni(ini, &error);
    QVERIFY2(seed, qPrintable(error));
    QCOMPARE(seed->tiers.value("free"), limitsOf({}, {}, 250, {}, 50000, {}));
    QCOMPARE(seed->tiers.value("pro"), limitsOf({}, {}, 1000, {}, {}, {}));
    QCOMPARE(seed->tiers.value("gold"), limitsOf(2.5, 10, {}, {}, {}, {}));
    QCOMPARE(seed->tiers.value("team"), limitsOf({}, {}, {}, {}, {}, {}, 4));
    QCOMPARE(seed->tiers.value("enterprise"), limitsOf(0, 0, 0, 0, 0, 0));
    QCOMPARE(seed->tiers.size(), 7);
    QCOMPARE(seed->defaults.key, limitsOf(0.5, 100, {}, 90000, {}, {}));
    QCOMPARE(seed->defaults.user, limitsOf(100, 200, {}, {}, {}, {}, 16));
}

void TestIdentitySeeder::otherSectionsAreIgnored()
{
    Sections ini;
    ini["cost"] = {{"anything", "x"}};
    ini["upstream.openai"] = {{"url", "https://example.com"}};
    QString error;
    const auto seed = IdentitySeeder::fromIni(ini, &error);
    QVERIFY2(seed, qPrintable(error));
    QCOMPARE(seed->tiers, IdentitySeeder::builtInTiers());
}

void TestIdentitySeeder::badIni_data()
{
    QTest::addColumn<QString>("section");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QStringList>("mentions");
    QTest::newRow("letters") << "tier.free"
                             << "requests_per_minute" << QVariant("abc")
                             << QStringList{"[tier.free]", "requests_per_minute", "\"abc\"",
                                            "non-negative integer"};
    QTest::newRow("negative") << "tier.gold"
                              << "burst" << QVariant("-1")
                              << QStringList{"[tier.gold]", "burst", "\"-1\""};
    QTest::newRow("fraction for an integer")
        << "tier.gold"
        << "monthly_tokens" << QVariant("1.5") << QStringList{"monthly_tokens", "\"1.5\""};
    QTest::newRow("unquoted comma (QStringList)")
        << "tier.pro"
        << "monthly_requests" << QVariant(QStringList{"1", "000"})
        << QStringList{"[tier.pro]", "monthly_requests", "\"1,000\""};
    QTest::newRow("rps inf") << "defaults.user"
                             << "requests_per_second" << QVariant("inf")
                             << QStringList{"[defaults.user]", "requests_per_second", "\"inf\"",
                                            "non-negative number"};
    QTest::newRow("rps negative") << "defaults.key"
                                  << "requests_per_second" << QVariant("-0.5")
                                  << QStringList{"[defaults.key]", "\"-0.5\""};
    QTest::newRow("concurrent fraction")
        << "tier.gold"
        << "concurrent_requests" << QVariant("2.5")
        << QStringList{"[tier.gold]", "concurrent_requests", "\"2.5\"", "non-negative integer"};
    QTest::newRow("concurrent negative")
        << "defaults.key"
        << "concurrent_requests" << QVariant("-1")
        << QStringList{"[defaults.key]", "concurrent_requests", "\"-1\""};
    QTest::newRow("unknown key concurrent")
        << "tier.free"
        << "concurrent" << QVariant("4")
        << QStringList{"unknown key \"concurrent\"", "concurrent_requests"};
    QTest::newRow("exponent") << "tier.free"
                              << "requests_per_minute" << QVariant("1e3") << QStringList{"\"1e3\""};
    QTest::newRow("too large") << "tier.free"
                               << "tokens_per_minute" << QVariant("99999999999999999999")
                               << QStringList{"tokens_per_minute"};
    QTest::newRow("unknown key") << "tier.free"
                                 << "rpm" << QVariant("5")
                                 << QStringList{"unknown key \"rpm\"", "[tier.free]",
                                                "requests_per_minute"};
    QTest::newRow("bad tier name")
        << "tier.bad name"
        << "burst" << QVariant("5") << QStringList{"\"bad name\"", "[tier.bad name]"};
    QTest::newRow("empty tier name") << "tier."
                                     << "burst" << QVariant("5") << QStringList{"[tier.]"};
    QTest::newRow("shadow not a boolean")
        << "tier.pro"
        << "shadow" << QVariant("maybe")
        << QStringList{"[tier.pro]", "shadow", "\"maybe\"", "true/false"};
    QTest::newRow("shadow in a model section")
        << "tier.pro.model.gpt-4o"
        << "shadow" << QVariant("true")
        << QStringList{"unknown key \"shadow\"", "[tier.pro.model.gpt-4o]"};
    QTest::newRow("model limit letters")
        << "tier.pro.model.claude-*"
        << "tokens_per_minute" << QVariant("lots")
        << QStringList{"[tier.pro.model.claude-*]", "tokens_per_minute", "\"lots\""};
    QTest::newRow("empty model") << "tier.pro.model."
                                 << "burst" << QVariant("5")
                                 << QStringList{"invalid model \"\"", "[tier.pro.model.]"};
    QTest::newRow("bad tier name of a model")
        << "tier.bad name.model.gpt-4o"
        << "burst" << QVariant("5") << QStringList{"\"bad name\"", "[tier.bad name.model.gpt-4o]"};
    QTest::newRow("unknown key lists shadow")
        << "tier.pro"
        << "shadows" << QVariant("1") << QStringList{"unknown key \"shadows\"", "shadow"};
    QTest::newRow("unknown principal")
        << "defaults.admin"
        << "burst" << QVariant("5") << QStringList{"[defaults.admin]", "[defaults.user]"};
}

void TestIdentitySeeder::badIni()
{
    QFETCH(QString, section);
    QFETCH(QString, key);
    QFETCH(QVariant, value);
    QFETCH(QStringList, mentions);
    Sections ini;
    ini["tier.ok"] = {{"burst", "1"}};
    ini[section] = {{key, value}};
    QString error;
    QVERIFY(!IdentitySeeder::fromIni(ini, &error));
    for (const QString &m : mentions)
        QVERIFY2(error.contains(m), qPrintable(QStringLiteral("%1 not in: %2").arg(m, error)));
    QVERIFY(!error.contains(u'\n'));
    // With the file named.
    QVERIFY(!IdentitySeeder::fromIni(ini, &error, "/etc/sluice.ini"));
    QVERIFY2(error.contains("of /etc/sluice.ini"), qPrintable(error));
}

void TestIdentitySeeder::seedsBuiltInsAtFirstStart()
{
    QString why;
    auto db = m_dbs.fresh(&why, false);
    QVERIFY2(db, qPrintable(why));
    const qint64 revisionBefore = IdentityTestDatabases::revision(*db);
    int inserted = -1;
    QVERIFY2(IdentitySeeder::seed(*db, Sections(), &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 7);
    QCOMPARE(IdentityTestDatabases::revision(*db), revisionBefore + 1);  // one bump per seeding

    AdminService admin(*db, "test");
    const auto tiers = admin.listTiers();
    QVERIFY(tiers.ok());
    QCOMPARE(tiers.value->size(), 5);
    for (const Tier &t : *tiers.value) {
        QCOMPARE(t.limits, IdentitySeeder::builtInTiers().value(t.name));
        QVERIFY(t.createdAt.isValid());
        QVERIFY(qAbs(t.createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    }
    const auto defaults = admin.getDefaults();
    QVERIFY(defaults.ok());
    QCOMPARE(defaults.value->user, IdentitySeeder::builtInDefaults().user);
    QCOMPARE(defaults.value->key, IdentitySeeder::builtInDefaults().key);

    // Audited as the configuration's doing.
    QCOMPARE(IdentityTestDatabases::scalar(
                 *db,
                 "SELECT COUNT(*) FROM audit_log WHERE actor = 'config' AND action = "
                 "'tier.seed'"),
             5);
    QCOMPARE(IdentityTestDatabases::scalar(
                 *db, "SELECT COUNT(*) FROM audit_log WHERE action = 'defaults.seed'"),
             2);

    // Idempotent: a second start adds nothing and tells no cache to reload.
    QVERIFY2(IdentitySeeder::seed(*db, Sections(), &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 0);
    QCOMPARE(IdentityTestDatabases::revision(*db), revisionBefore + 1);
    QCOMPARE(IdentityTestDatabases::scalar(*db, "SELECT COUNT(*) FROM audit_log"), 7);
}

void TestIdentitySeeder::iniOverridesAtFirstStart()
{
    QString why;
    auto db = m_dbs.fresh(&why, false);
    QVERIFY2(db, qPrintable(why));
    Sections ini;
    ini["tier.free"] = {{"requests_per_minute", "250"}};
    ini["tier.gold"] = {{"requests_per_second", "2.5"}, {"monthly_tokens", "1000000"}};
    ini["defaults.user"] = {{"burst", "400"}};
    ini["tier.team"] = {{"concurrent_requests", "4"}, {"requests_per_minute", "600"}};
    ini["defaults.key"] = {{"concurrent_requests", "2"}};
    int inserted = 0;
    QVERIFY2(IdentitySeeder::seed(*db, ini, &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 9);
    AdminService admin(*db, "test");
    QCOMPARE(admin.getTier("free").value->limits, limitsOf({}, {}, 250, {}, 50000, {}));
    QCOMPARE(admin.getTier("gold").value->limits, limitsOf(2.5, {}, {}, {}, {}, 1000000));
    QCOMPARE(admin.getTier("team").value->limits, limitsOf({}, {}, 600, {}, {}, {}, 4));
    QCOMPARE(admin.getTier("pro").value->limits, IdentitySeeder::builtInTiers().value("pro"));
    QCOMPARE(admin.getTier("enterprise").value->limits, limitsOf(0, 0, 0, 0, 0, 0, 0));
    QCOMPARE(admin.getDefaults().value->user, limitsOf(100, 400, {}, {}, {}, {}));
    QCOMPARE(admin.getDefaults().value->key, limitsOf(50, 100, {}, {}, {}, {}, 2));
}

void TestIdentitySeeder::neverOverwritesLater()
{
    QString why;
    auto db = m_dbs.fresh(&why);  // first start with no INI sections
    QVERIFY2(db, qPrintable(why));
    AdminService admin(*db, "operator");
    LimitOverrides edit;
    edit.requestsPerMinute = 999;
    QVERIFY(admin.setTier("free", edit).ok());
    LimitOverrides keyDefaults;
    keyDefaults.burst = 7;
    QVERIFY(admin.setDefaults("key", keyDefaults).ok());
    const qint64 revision = IdentityTestDatabases::revision(*db);

    // A later start with INI sections for the same rows changes nothing...
    Sections ini;
    ini["tier.free"] = {{"requests_per_minute", "250"}};
    ini["defaults.key"] = {{"burst", "1"}};
    int inserted = -1;
    QVERIFY2(IdentitySeeder::seed(*db, ini, &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 0);
    QCOMPARE(admin.getTier("free").value->limits.requestsPerMinute, std::optional<qint64>(999));
    QCOMPARE(admin.getDefaults().value->key.burst, std::optional<qint64>(7));
    QCOMPARE(IdentityTestDatabases::revision(*db), revision);

    // ... but a tier declared later is still added.
    ini["tier.gold"] = {{"requests_per_minute", "5000"}};
    QVERIFY2(IdentitySeeder::seed(*db, ini, &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 1);
    QCOMPARE(admin.getTier("gold").value->limits.requestsPerMinute, std::optional<qint64>(5000));
    QCOMPARE(IdentityTestDatabases::revision(*db), revision + 1);
}

void TestIdentitySeeder::badIniWritesNothing()
{
    QString why;
    auto db = m_dbs.fresh(&why, false);
    QVERIFY2(db, qPrintable(why));
    Sections ini;
    ini["tier.zzz"] = {{"burst", "x"}};  // sorted last: the good sections come first
    QString error;
    QVERIFY(!IdentitySeeder::seed(*db, ini, &error));
    QVERIFY2(error.contains("[tier.zzz]"), qPrintable(error));
    QCOMPARE(IdentityTestDatabases::scalar(*db, "SELECT COUNT(*) FROM tiers"), 0);
    QCOMPARE(IdentityTestDatabases::scalar(*db, "SELECT COUNT(*) FROM principal_defaults"), 0);
}

void TestIdentitySeeder::shadowAndModelSections()
{
    Sections ini;
    ini["tier.pro"] = {{"shadow", "true"}};
    ini["tier.free"] = {{"shadow", "off"}, {"requests_per_minute", "250"}};
    ini["tier.pro.model.gpt-4o"] = {{"tokens_per_minute", "1000"}, {"burst", ""}};
    ini["tier.pro.model.claude-*"] = {{"requests_per_second", "0.5"}};
    ini["tier.pro.model.gpt-4.1"] = {{"concurrent_requests", "2"}};
    // Split at the first ".model.": the model name may hold one too.
    ini["tier.pro.model.x.model.y"] = {{"burst", "1"}};
    ini["tier.team.model.o?-mini"] = {{"monthly_tokens", "0"}};  // declares the tier too
    QString error;
    const auto seed = IdentitySeeder::fromIni(ini, &error);
    QVERIFY2(seed, qPrintable(error));
    QCOMPARE(seed->shadowTiers, QSet<QString>({"pro"}));
    QCOMPARE(seed->tiers.value("pro"), IdentitySeeder::builtInTiers().value("pro"));
    QCOMPARE(seed->tiers.value("free"), limitsOf({}, {}, 250, {}, 50000, {}));
    QVERIFY(seed->tiers.contains("team"));
    QCOMPARE(seed->tiers.value("team"), LimitOverrides());
    const QList<ModelLimit> pro = seed->modelLimits.value("pro");
    QCOMPARE(pro.size(), 4);
    QCOMPARE(pro.at(0), ModelLimit({"claude-*", limitsOf(0.5, {}, {}, {}, {}, {})}));
    QCOMPARE(pro.at(1), ModelLimit({"gpt-4.1", limitsOf({}, {}, {}, {}, {}, {}, 2)}));
    QCOMPARE(pro.at(2), ModelLimit({"gpt-4o", limitsOf({}, {}, {}, 1000, {}, {})}));
    QCOMPARE(pro.at(3), ModelLimit({"x.model.y", limitsOf({}, 1, {}, {}, {}, {})}));
    QCOMPARE(seed->modelLimits.value("team"),
             QList<ModelLimit>({{"o?-mini", limitsOf({}, {}, {}, {}, {}, 0)}}));
    QVERIFY(!seed->modelLimits.contains("free"));
}

// Shadow mode and model limits are part of a tier: written when the seeder inserts the tier,
// never over an existing one (an operator's removal must not come back at the next start).
void TestIdentitySeeder::shadowAndModelsAtFirstStartOnly()
{
    QString why;
    auto db = m_dbs.fresh(&why, false);
    QVERIFY2(db, qPrintable(why));
    Sections ini;
    ini["tier.pro"] = {{"shadow", "yes"}};
    ini["tier.pro.model.gpt-4o"] = {{"tokens_per_minute", "1000"}};
    ini["tier.pro.model.claude-*"] = {{"requests_per_minute", "5"}};
    QVERIFY2(IdentitySeeder::seed(*db, ini, &why), qPrintable(why));
    AdminService admin(*db, "operator");
    Tier pro = *admin.getTier("pro").value;
    QVERIFY(pro.shadow);
    QCOMPARE(pro.modelLimits.size(), 2);
    QCOMPARE(pro.modelLimits.at(1).model, "gpt-4o");
    QCOMPARE(pro.modelLimits.at(1).limits.tokensPerMinute, std::optional<qint64>(1000));
    QVERIFY(!admin.getTier("free").value->shadow);
    QVERIFY(admin.getTier("free").value->modelLimits.isEmpty());
    const QString audit = IdentityTestDatabases::dumpAllTables(*db);
    QVERIFY2(audit.contains("tier.seed") && audit.contains("\"model_limits\""), qPrintable(audit));

    // The operator removes one entry and leaves shadow mode...
    TierPatch patch;
    patch.shadow = false;
    patch.modelLimits.edits = {{"claude-*", true, {}, {}}};
    QVERIFY(admin.setTier("pro", patch).ok());
    const qint64 revision = IdentityTestDatabases::revision(*db);
    // ... and a restart with the same INI brings neither back; a new tier still gets its own.
    ini["tier.gold.model.gpt-*"] = {{"monthly_tokens", "100"}};
    ini["tier.gold"] = {{"shadow", "1"}};
    int inserted = -1;
    QVERIFY2(IdentitySeeder::seed(*db, ini, &why, &inserted), qPrintable(why));
    QCOMPARE(inserted, 1);
    pro = *admin.getTier("pro").value;
    QVERIFY(!pro.shadow);
    QCOMPARE(pro.modelLimits.size(), 1);
    QCOMPARE(pro.modelLimits.at(0).model, "gpt-4o");
    const Tier gold = *admin.getTier("gold").value;
    QVERIFY(gold.shadow);
    QCOMPARE(gold.modelLimits, QList<ModelLimit>({{"gpt-*", limitsOf({}, {}, {}, {}, {}, 100)}}));
    QCOMPARE(IdentityTestDatabases::revision(*db), revision + 1);
}

QTEST_GUILESS_MAIN(TestIdentitySeeder)
#include "tst_identityseeder.moc"
