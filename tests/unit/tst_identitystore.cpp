#include "AdminService.h"
#include "ApiKeyCodec.h"
#include "IdentityRows.h"
#include "IdentityStore.h"
#include "IdentityTestDatabases.h"
#include "LimitResolver.h"
#include "Timestamp.h"

#include <QtTest>

using namespace sluice;
using sluice::test::IdentityTestDatabases;

class TestIdentityStore : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void revisionFollowsEdits_data() { IdentityTestDatabases::backends(); }
    void revisionFollowsEdits();
    void loadAllContents_data() { IdentityTestDatabases::backends(); }
    void loadAllContents();
    void revokedKeysAreLeftOut_data() { IdentityTestDatabases::backends(); }
    void revokedKeysAreLeftOut();
    void touchLastUsedBatch_data() { IdentityTestDatabases::backends(); }
    void touchLastUsedBatch();
    void unmigratedDatabaseIsAnError_data() { IdentityTestDatabases::backends(); }
    void unmigratedDatabaseIsAnError();
    void concurrentRequestsMigration_data() { IdentityTestDatabases::backends(); }
    void concurrentRequestsMigration();
    void shadowAndModelLimits_data() { IdentityTestDatabases::backends(); }
    void shadowAndModelLimits();
    void shadowAndModelLimitsMigration_data() { IdentityTestDatabases::backends(); }
    void shadowAndModelLimitsMigration();

private:
    IdentityTestDatabases m_dbs;
};

void TestIdentityStore::initTestCase()
{
    QString why;
    if (!m_dbs.init(&why))
        QFAIL(qPrintable(why));
}

void TestIdentityStore::cleanupTestCase()
{
    m_dbs.cleanup();
}

void TestIdentityStore::revisionFollowsEdits()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    QVERIFY2(db, qPrintable(why));
    IdentityStore store(*db);
    const qint64 r0 = store.revision(&why);
    QVERIFY2(r0 > 0, qPrintable(why));
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"alice", {}, {}, {}}).ok());
    QCOMPARE(store.revision(), r0 + 1);
    QVERIFY(admin.getUser("alice").ok());  // reads do not bump
    QCOMPARE(store.revision(), r0 + 1);
    QVERIFY(admin.disableUser("alice").ok());
    QCOMPARE(store.revision(), r0 + 2);
}

void TestIdentityStore::loadAllContents()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    QVERIFY2(db, qPrintable(why));
    AdminService admin(*db, "test");
    NewUser alice{"alice", "alice@example.com", "pro", {}};
    alice.limits.requestsPerMinute = 10;
    alice.limits.concurrentRequests = 3;
    QVERIFY(admin.createUser(alice).ok());
    QVERIFY(admin.createUser({"bob", {}, {}, {}}).ok());
    QVERIFY(admin.disableUser("bob").ok());

    NewKey k1;
    k1.userName = "alice";
    k1.name = "laptop";
    k1.tier = "partner";
    k1.limits.requestsPerSecond = 0.5;
    k1.limits.monthlyTokens = 0;
    k1.limits.concurrentRequests = 0;
    k1.models = {"gpt-4*", "claude-*"};
    k1.expiresAt = QDateTime::currentDateTimeUtc().addDays(30);
    const auto c1 = admin.createKey(k1);
    QVERIFY(c1.ok());
    NewKey k2;
    k2.userName = "bob";
    const auto c2 = admin.createKey(k2);
    QVERIFY(c2.ok());

    LimitOverrides userDefaults;
    userDefaults.tokensPerMinute = 1234;
    userDefaults.concurrentRequests = 6;
    QVERIFY(admin.setDefaults("user", userDefaults).ok());

    IdentityStore store(*db);
    const auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->revision, store.revision());
    QCOMPARE(data->tiers.size(), 5);
    QCOMPARE(data->tiers.at(0).name, "anonymous");  // ordered by name
    QCOMPARE(data->defaults.user.tokensPerMinute, std::optional<qint64>(1234));
    QCOMPARE(data->defaults.user.requestsPerSecond, std::optional<double>(100));
    QCOMPARE(data->defaults.key.requestsPerSecond, std::optional<double>(50));
    QCOMPARE(data->defaults.key.burst, std::optional<qint64>(100));
    QCOMPARE(data->defaults.user.concurrentRequests, std::optional<qint64>(6));
    QVERIFY(!data->defaults.key.concurrentRequests);

    // Disabled users are there: authentication needs them to refuse their keys.
    QCOMPARE(data->users.size(), 2);
    const User &a = data->users.at(0);
    QCOMPARE(a.name, "alice");
    QCOMPARE(a.email, "alice@example.com");
    QCOMPARE(a.tier, "pro");
    QCOMPARE(a.status, "active");
    QCOMPARE(a.limits.requestsPerMinute, std::optional<qint64>(10));
    QCOMPARE(a.limits.concurrentRequests, std::optional<qint64>(3));
    QVERIFY(!a.limits.burst);
    QCOMPARE(data->users.at(1).status, "disabled");

    QCOMPARE(data->keys.size(), 2);
    const ApiKey &key = data->keys.at(0);
    QCOMPARE(key.id, c1.value->key.id);
    QCOMPARE(key.userId, a.id);
    QCOMPARE(key.userName, "alice");
    QCOMPARE(key.name, "laptop");
    QCOMPARE(key.prefix, ApiKeyCodec::displayPrefix(c1.value->plaintext));
    QCOMPARE(key.hash, ApiKeyCodec::hash(c1.value->plaintext.toLatin1()));
    QCOMPARE(key.hash.size(), 32);
    QCOMPARE(key.tier, "partner");
    QCOMPARE(key.limits.requestsPerSecond, std::optional<double>(0.5));
    QCOMPARE(key.limits.monthlyTokens, std::optional<qint64>(0));
    QCOMPARE(key.limits.concurrentRequests, std::optional<qint64>(0));
    QVERIFY(!key.limits.burst);
    QCOMPARE(key.models, QStringList({"gpt-4*", "claude-*"}));
    QCOMPARE(key.status, "active");
    QCOMPARE(key.expiresAt.toSecsSinceEpoch(), k1.expiresAt.toSecsSinceEpoch());
    QCOMPARE(key.expiresAt.timeSpec(), Qt::UTC);
    QVERIFY(!key.lastUsedAt.isValid());
    QVERIFY(qAbs(key.createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    const ApiKey &other = data->keys.at(1);
    QCOMPARE(other.userName, "bob");
    QVERIFY(other.tier.isEmpty());
    QVERIFY(other.models.isEmpty());
    QVERIFY(!other.expiresAt.isValid());
    QVERIFY(!other.limits.concurrentRequests);
}

void TestIdentityStore::revokedKeysAreLeftOut()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    QVERIFY2(db, qPrintable(why));
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "carol";
    nk.createUser = true;
    const auto keep = admin.createKey(nk);
    const auto drop = admin.createKey(nk);
    QVERIFY(keep.ok() && drop.ok());
    // An expired key stays in: authentication refuses it with its own reason.
    QVERIFY(db->exec(
        "UPDATE api_keys SET expires_at = ? WHERE id = ?",
        {Timestamp::toText(QDateTime::currentDateTimeUtc().addDays(-1)), keep.value->key.id}));
    QVERIFY(admin.revokeKey(QString::number(drop.value->key.id)).ok());
    IdentityStore store(*db);
    const auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->keys.size(), 1);
    QCOMPARE(data->keys.at(0).id, keep.value->key.id);
    QVERIFY(data->keys.at(0).expiresAt < QDateTime::currentDateTimeUtc());
}

void TestIdentityStore::touchLastUsedBatch()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    QVERIFY2(db, qPrintable(why));
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "dave";
    nk.createUser = true;
    QList<qint64> ids;
    for (int i = 0; i < 3; ++i) {
        const auto c = admin.createKey(nk);
        QVERIFY(c.ok());
        ids << c.value->key.id;
    }
    IdentityStore store(*db);
    const qint64 revision = store.revision();
    const QDateTime t0 = QDateTime::fromString("2030-01-02T03:04:05.678Z", Qt::ISODateWithMs);
    QHash<qint64, QDateTime> batch = {{ids[0], t0}, {ids[1], t0.addSecs(60)}, {999999, t0}};
    QVERIFY2(store.touchLastUsed(batch, &why), qPrintable(why));
    QVERIFY2(store.touchLastUsed({}, &why), qPrintable(why));  // empty batch: nothing to do

    auto lastUsed = [&](qint64 id) {
        const auto k = admin.getKey(QString::number(id));
        return k.ok() ? k.value->lastUsedAt : QDateTime();
    };
    QCOMPARE(lastUsed(ids[0]), t0);
    QCOMPARE(lastUsed(ids[1]), t0.addSecs(60));
    QVERIFY(!lastUsed(ids[2]).isValid());

    // Only forward: an older flush (another gateway, out of order) does not move it back.
    QVERIFY2(store.touchLastUsed({{ids[0], t0.addSecs(-3600)}, {ids[2], t0.addMSecs(1)}}, &why),
             qPrintable(why));
    QCOMPARE(lastUsed(ids[0]), t0);
    QCOMPARE(lastUsed(ids[2]), t0.addMSecs(1));
    QVERIFY2(store.touchLastUsed({{ids[0], t0.addMSecs(1)}}, &why), qPrintable(why));
    QCOMPARE(lastUsed(ids[0]), t0.addMSecs(1));

    // Usage is not an identity edit: no cache reload, no audit row.
    QCOMPARE(store.revision(), revision);

    // Appears in the snapshot too.
    const auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->keys.at(1).lastUsedAt, t0.addSecs(60));
}

void TestIdentityStore::unmigratedDatabaseIsAnError()
{
    DatabaseConnection db(m_dbs.freshUrl(), "identity");
    QString why;
    QVERIFY2(db.open(&why), qPrintable(why));
    IdentityStore store(db);
    QCOMPARE(store.revision(&why), -1);
    QVERIFY(!why.isEmpty());
    why.clear();
    QVERIFY(!store.loadAll(&why));
    QVERIFY(!why.isEmpty());
}

// A database the previous release made (identity schema v2, without concurrent_requests) with
// rows in every limit table: migrating adds the column, every existing row reads NULL (inherit)
// and keeps its other limits, and the new field is then written and read like the others.
void TestIdentityStore::concurrentRequestsMigration()
{
    QString why;
    DatabaseConnection db(m_dbs.freshUrl(), "identity");
    QVERIFY2(db.open(&why), qPrintable(why));
    const QList<Migration> all = Schema::identityMigrations();
    QList<Migration> v2;
    for (const Migration &m : all) {
        if (m.version <= 2)
            v2 << m;
    }
    QCOMPARE(v2.size(), 2);
    QVERIFY2(Migrator::migrate(db, Schema::identityComponent(), v2, &why), qPrintable(why));
    QCOMPARE(Migrator::currentVersion(db, Schema::identityComponent()), 2);

    // Rows as the v2 code wrote them: the six limit columns only.
    const QString now = Timestamp::toText(Timestamp::now());
    const QString six = QStringLiteral(
        "requests_per_second, burst, requests_per_minute, tokens_per_minute, monthly_requests, "
        "monthly_tokens");
    const QString plaintext = QStringLiteral("sk-sluice-") + QString(40, u'x');
    const QList<QPair<QString, QVariantList>> rows = {
        {QStringLiteral("INSERT INTO tiers (name, %1, created_at, updated_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?)"),
         {"free", QVariant(), QVariant(), 100, QVariant(), 50000, QVariant(), now, now}},
        {QStringLiteral("INSERT INTO tiers (name, %1, created_at, updated_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?)"),
         {"enterprise", 0.0, 0, 0, 0, 0, 0, now, now}},
        {QStringLiteral("INSERT INTO principal_defaults (principal, %1, updated_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?)"),
         {"user", 100.0, 200, QVariant(), QVariant(), QVariant(), QVariant(), now}},
        {QStringLiteral("INSERT INTO principal_defaults (principal, %1, updated_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?)"),
         {"key", 50.0, 100, QVariant(), QVariant(), QVariant(), QVariant(), now}},
        {QStringLiteral("INSERT INTO users (name, email, tier, status, %1, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
         {"old", QVariant(), "free", "active", QVariant(), QVariant(), 10, QVariant(), QVariant(),
          0, now, now}},
        {QStringLiteral("INSERT INTO api_keys (user_id, name, prefix, hash, tier, %1, models, "
                        "status, created_at, updated_at) VALUES "
                        "((SELECT id FROM users WHERE name = 'old'), ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                        "?, ?, ?, ?, ?)"),
         {"laptop", ApiKeyCodec::displayPrefix(plaintext),
          IdentityRows::hashText(ApiKeyCodec::hash(plaintext.toLatin1())), "enterprise", 2.5,
          QVariant(), QVariant(), QVariant(), 777, QVariant(), "[]", "active", now, now}},
    };
    for (const auto &[sql, values] : rows)
        QVERIFY2(db.exec(sql.arg(six), values, &why), qPrintable(why));

    // The upgrade: only the new migration runs, and a second run does nothing.
    int applied = -1;
    QVERIFY2(Migrator::migrate(db, Schema::identityComponent(), all, &why, &applied),
             qPrintable(why));
    QCOMPARE(applied, all.size() - 2);
    QCOMPARE(Migrator::currentVersion(db, Schema::identityComponent()), all.constLast().version);
    QVERIFY2(Migrator::migrate(db, Schema::identityComponent(), all, &why, &applied),
             qPrintable(why));
    QCOMPARE(applied, 0);
    for (const char *table : {"tiers", "principal_defaults", "users", "api_keys"}) {
        QCOMPARE(IdentityTestDatabases::scalar(
                     db, QStringLiteral("SELECT COUNT(*) FROM %1 WHERE concurrent_requests IS "
                                        "NOT NULL")
                             .arg(QLatin1String(table))),
                 0);
    }

    // Existing rows: NULL = inherit, the other limits as they were.
    IdentityStore store(db);
    auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->tiers.size(), 2);
    for (const Tier &t : data->tiers)
        QVERIFY2(!t.limits.concurrentRequests, qPrintable(t.name));
    QCOMPARE(data->tiers.at(0).name, "enterprise");
    QCOMPARE(data->tiers.at(0).limits.requestsPerSecond, std::optional<double>(0));
    QCOMPARE(data->tiers.at(1).limits.monthlyRequests, std::optional<qint64>(50000));
    QVERIFY(!data->defaults.user.concurrentRequests && !data->defaults.key.concurrentRequests);
    QCOMPARE(data->defaults.user.burst, std::optional<qint64>(200));
    QCOMPARE(data->defaults.key.requestsPerSecond, std::optional<double>(50));
    QCOMPARE(data->users.size(), 1);
    const User user = data->users.at(0);
    QVERIFY(!user.limits.concurrentRequests);
    QCOMPARE(user.limits.requestsPerMinute, std::optional<qint64>(10));
    QCOMPARE(user.limits.monthlyTokens, std::optional<qint64>(0));
    QVERIFY(user.createdAt.isValid());
    QCOMPARE(data->keys.size(), 1);
    const ApiKey key = data->keys.at(0);
    QVERIFY(!key.limits.concurrentRequests);
    QCOMPARE(key.limits.requestsPerSecond, std::optional<double>(2.5));
    QCOMPARE(key.limits.monthlyRequests, std::optional<qint64>(777));
    QCOMPARE(key.hash, ApiKeyCodec::hash(plaintext.toLatin1()));
    QCOMPARE(key.status, "active");
    QVERIFY(key.models.isEmpty());
    QVERIFY(key.createdAt.isValid());
    LimitResolver::Tiers tiers;
    for (const Tier &t : data->tiers)
        tiers.insert(t.name, t);
    QCOMPARE(LimitResolver::forKey(key, user, tiers, data->defaults).concurrentRequests, 0);
    QCOMPARE(LimitResolver::forUser(user, tiers, data->defaults).concurrentRequests, 0);

    // Seeding after the upgrade adds missing rows only, with the new field.
    IdentitySeeder::IniSections ini;
    ini["tier.team"] = {{"concurrent_requests", "4"}};
    ini["tier.free"] = {{"concurrent_requests", "1"}};  // exists: left alone
    QVERIFY2(IdentitySeeder::seed(db, ini, &why), qPrintable(why));
    AdminService admin(db, "test");
    QCOMPARE(admin.getTier("team").value->limits.concurrentRequests, std::optional<qint64>(4));
    QVERIFY(!admin.getTier("free").value->limits.concurrentRequests);

    // And the field is edited on the old rows like the others.
    LimitOverrides tierEdit;
    tierEdit.concurrentRequests = 8;
    QVERIFY(admin.setTier("free", tierEdit).ok());
    UserPatch userEdit;
    userEdit.limits.concurrentRequests = 3;
    QVERIFY(admin.updateUser("old", userEdit).ok());
    KeyPatch keyEdit;
    keyEdit.limits.concurrentRequests = 1;
    QVERIFY(admin.updateKey(QString::number(key.id), keyEdit).ok());
    LimitOverrides defaultsEdit;
    defaultsEdit.concurrentRequests = 2;
    QVERIFY(admin.setDefaults("key", defaultsEdit).ok());
    data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->users.at(0).limits.concurrentRequests, std::optional<qint64>(3));
    QCOMPARE(data->users.at(0).limits.requestsPerMinute, std::optional<qint64>(10));
    QCOMPARE(data->keys.at(0).limits.concurrentRequests, std::optional<qint64>(1));
    QCOMPARE(data->keys.at(0).limits.monthlyRequests, std::optional<qint64>(777));
    QCOMPARE(data->defaults.key.concurrentRequests, std::optional<qint64>(2));
    QCOMPARE(data->defaults.key.burst, std::optional<qint64>(100));
    QCOMPARE(admin.getTier("free").value->limits.concurrentRequests, std::optional<qint64>(8));
    QCOMPARE(admin.getTier("free").value->limits.requestsPerMinute, std::optional<qint64>(100));
}

// Shadow flags and per-model limits reach the gateway's snapshot data, and every edit of them
// bumps the revision (so gateways reload them within a second).
void TestIdentityStore::shadowAndModelLimits()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    QVERIFY2(db, qPrintable(why));
    AdminService admin(*db, "test");
    IdentityStore store(*db);

    TierPatch pro;
    pro.shadow = true;
    ModelLimitEdit gpt{"gpt-4o", false, {}, {}};
    gpt.limits.tokensPerMinute = 1000;
    ModelLimitEdit claude{"claude-*", false, {}, {}};
    claude.limits.requestsPerSecond = 1.5;
    claude.limits.concurrentRequests = 2;
    pro.modelLimits.edits = {gpt, claude};
    qint64 revision = store.revision();
    QVERIFY(admin.setTier("pro", pro).ok());
    QCOMPARE(store.revision(), ++revision);

    QVERIFY(admin.createUser({"alice", {}, "pro", {}}).ok());
    NewKey k;
    k.userName = "alice";
    k.shadow = false;
    LimitOverrides own;
    own.tokensPerMinute = 100;
    k.modelLimits = {{"gpt-4o", own}, {"gpt-4.1", own}};
    const auto created = admin.createKey(k);
    QVERIFY(created.ok());
    NewKey plain;
    plain.userName = "alice";
    QVERIFY(admin.createKey(plain).ok());
    revision = store.revision();

    auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    LimitResolver::Tiers tiers;
    for (const Tier &t : data->tiers)
        tiers.insert(t.name, t);
    QVERIFY(tiers.value("pro").shadow);
    QVERIFY(!tiers.value("free").shadow);
    QCOMPARE(tiers.value("pro").modelLimits.size(), 2);
    QCOMPARE(tiers.value("pro").modelLimits.at(0).model, "claude-*");  // ordered by model
    QCOMPARE(tiers.value("pro").modelLimits.at(0).limits.requestsPerSecond,
             std::optional<double>(1.5));
    QCOMPARE(tiers.value("pro").modelLimits.at(1).limits.tokensPerMinute,
             std::optional<qint64>(1000));
    QVERIFY(tiers.value("free").modelLimits.isEmpty());
    QCOMPARE(data->keys.size(), 2);
    const ApiKey &key = data->keys.at(0);
    const ApiKey &other = data->keys.at(1);
    QCOMPARE(key.shadow, std::optional<bool>(false));
    QCOMPARE(key.modelLimits.size(), 2);
    QVERIFY(!other.shadow.has_value());
    QVERIFY(other.modelLimits.isEmpty());
    const User &alice = data->users.at(0);
    QVERIFY(!LimitResolver::shadowForKey(key, alice, tiers));
    QVERIFY(LimitResolver::shadowForKey(other, alice, tiers));
    const auto resolved = LimitResolver::modelLimitsForKey(key, alice, tiers);
    QCOMPARE(resolved.size(), 3);
    QCOMPARE(resolved.at(0).model, "gpt-4.1");
    QCOMPARE(resolved.at(1).model, "gpt-4o");
    QCOMPARE(resolved.at(1).limits.tokensPerMinute, 100);
    QCOMPARE(resolved.at(2).model, "claude-*");

    // Key edits: back to the tier's shadow mode, one entry removed.
    KeyPatch patch;
    patch.shadow.emplace(std::nullopt);
    patch.modelLimits.edits = {{"gpt-4.1", true, {}, {}}};
    QVERIFY(admin.updateKey(QString::number(key.id), patch).ok());
    QCOMPARE(store.revision(), ++revision);
    data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QVERIFY(!data->keys.at(0).shadow.has_value());
    QCOMPARE(data->keys.at(0).modelLimits.size(), 1);
    QCOMPARE(data->keys.at(0).modelLimits.at(0).model, "gpt-4o");
}

// A database of identity schema v3 (before shadow mode and per-model limits): existing tiers
// read as not in shadow mode, keys as following their tier, and no model has limits.
void TestIdentityStore::shadowAndModelLimitsMigration()
{
    QString why;
    DatabaseConnection db(m_dbs.freshUrl(), "identity");
    QVERIFY2(db.open(&why), qPrintable(why));
    const QList<Migration> all = Schema::identityMigrations();
    QList<Migration> v3;
    for (const Migration &m : all) {
        if (m.version <= 3)
            v3 << m;
    }
    QVERIFY2(Migrator::migrate(db, Schema::identityComponent(), v3, &why), qPrintable(why));
    const QString now = Timestamp::toText(Timestamp::now());
    const QString plaintext = QStringLiteral("sk-sluice-") + QString(40, u'y');
    QVERIFY2(db.exec("INSERT INTO tiers (name, requests_per_minute, created_at, updated_at) "
                     "VALUES ('free', 100, ?, ?)",
                     {now, now}, &why),
             qPrintable(why));
    QVERIFY2(db.exec("INSERT INTO users (name, tier, status, created_at, updated_at) VALUES "
                     "('old', 'free', 'active', ?, ?)",
                     {now, now}, &why),
             qPrintable(why));
    QVERIFY2(db.exec("INSERT INTO api_keys (user_id, prefix, hash, status, created_at, "
                     "updated_at) VALUES ((SELECT id FROM users WHERE name = 'old'), ?, ?, "
                     "'active', ?, ?)",
                     {ApiKeyCodec::displayPrefix(plaintext),
                      IdentityRows::hashText(ApiKeyCodec::hash(plaintext.toLatin1())), now, now},
                     &why),
             qPrintable(why));

    int applied = -1;
    QVERIFY2(Migrator::migrate(db, Schema::identityComponent(), all, &why, &applied),
             qPrintable(why));
    QCOMPARE(applied, all.size() - 3);
    IdentityStore store(db);
    const auto data = store.loadAll(&why);
    QVERIFY2(data, qPrintable(why));
    QCOMPARE(data->tiers.size(), 1);
    QVERIFY(!data->tiers.at(0).shadow);
    QVERIFY(data->tiers.at(0).modelLimits.isEmpty());
    QCOMPARE(data->tiers.at(0).limits.requestsPerMinute, std::optional<qint64>(100));
    QCOMPARE(data->keys.size(), 1);
    QVERIFY(!data->keys.at(0).shadow.has_value());
    QVERIFY(data->keys.at(0).modelLimits.isEmpty());

    // The old tier takes the new settings like any other.
    AdminService admin(db, "test");
    TierPatch patch;
    patch.shadow = true;
    patch.modelLimits.edits = {{"gpt-4o", false, {}, {}}};
    const auto tier = admin.setTier("free", patch);
    QVERIFY(tier.ok());
    QVERIFY(tier.value->shadow);
    QCOMPARE(tier.value->modelLimits.size(), 1);
    QCOMPARE(tier.value->limits.requestsPerMinute, std::optional<qint64>(100));
}

QTEST_GUILESS_MAIN(TestIdentityStore)
#include "tst_identitystore.moc"
