#include "AdminService.h"
#include "ApiKeyCodec.h"
#include "IdentityJson.h"
#include "IdentityTestDatabases.h"
#include "LimitFields.h"
#include "Timestamp.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace sluice;
using sluice::test::IdentityTestDatabases;
using Kind = AdminError::Kind;

namespace {

const char *kindName(Kind k)
{
    switch (k) {
        case Kind::Invalid:
            return "Invalid";
        case Kind::NotFound:
            return "NotFound";
        case Kind::Conflict:
            return "Conflict";
        case Kind::Internal:
            return "Internal";
    }
    return "?";
}

// Row counts and the revision: equal before and after a refused edit means nothing was written.
struct Footprint
{
    qint64 users = 0;
    qint64 keys = 0;
    qint64 tiers = 0;
    qint64 audit = 0;
    qint64 revision = 0;
    QString dump;
    bool operator==(const Footprint &) const = default;
};

Footprint footprint(DatabaseConnection &db)
{
    Footprint f;
    f.users = IdentityTestDatabases::scalar(db, "SELECT COUNT(*) FROM users");
    f.keys = IdentityTestDatabases::scalar(db, "SELECT COUNT(*) FROM api_keys");
    f.tiers = IdentityTestDatabases::scalar(db, "SELECT COUNT(*) FROM tiers");
    f.audit = IdentityTestDatabases::scalar(db, "SELECT COUNT(*) FROM audit_log");
    f.revision = IdentityTestDatabases::revision(db);
    f.dump = IdentityTestDatabases::dumpAllTables(db);
    return f;
}

struct AuditRow
{
    QString actor;
    QString action;
    QString targetType;
    QString targetId;
    QJsonObject details;
};

AuditRow lastAudit(DatabaseConnection &db, int back = 0)
{
    AuditRow row;
    auto q = db.query(
        "SELECT actor, action, target_type, target_id, details FROM audit_log ORDER "
        "BY id DESC LIMIT 1 OFFSET ?",
        {back});
    if (q && q->next()) {
        row.actor = q->value(0).toString();
        row.action = q->value(1).toString();
        row.targetType = q->value(2).toString();
        row.targetId = q->value(3).toString();
        row.details = QJsonDocument::fromJson(q->value(4).toString().toUtf8()).object();
    }
    return row;
}

}  // namespace

// An AdminResult must have failed with this kind and field, and its message must contain
// `mentions` (the field and the offending value).
#define VERIFY_ERROR(result, expectedKind, expectedField, mentions)                              \
    do {                                                                                         \
        const auto &r_ = (result);                                                               \
        QVERIFY2(!r_.ok() && r_.error, "expected a failure");                                    \
        QVERIFY2(r_.error->kind == (expectedKind),                                               \
                 qPrintable(QStringLiteral("kind %1, expected %2: %3")                           \
                                .arg(kindName(r_.error->kind), kindName(expectedKind),           \
                                     r_.error->message)));                                       \
        QCOMPARE(r_.error->field, QString(expectedField));                                       \
        QVERIFY2(r_.error->message.contains(QString(mentions)),                                  \
                 qPrintable(r_.error->message + QStringLiteral(" lacks ") + QString(mentions))); \
    } while (false)

class TestAdminService : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void httpStatus();

    void createUser_data() { IdentityTestDatabases::backends(); }
    void createUser();
    void createUserErrors_data() { IdentityTestDatabases::backends(); }
    void createUserErrors();
    void getUser_data() { IdentityTestDatabases::backends(); }
    void getUser();
    void listUsers_data() { IdentityTestDatabases::backends(); }
    void listUsers();
    void updateUser_data() { IdentityTestDatabases::backends(); }
    void updateUser();
    void updateUserErrors_data() { IdentityTestDatabases::backends(); }
    void updateUserErrors();
    void disableUserKeepsKeys_data() { IdentityTestDatabases::backends(); }
    void disableUserKeepsKeys();

    void createKey_data() { IdentityTestDatabases::backends(); }
    void createKey();
    void createKeyErrors_data() { IdentityTestDatabases::backends(); }
    void createKeyErrors();
    void createKeyWithCreateUser_data() { IdentityTestDatabases::backends(); }
    void createKeyWithCreateUser();
    void createKeyWithCreateUserRollsBack_data() { IdentityTestDatabases::backends(); }
    void createKeyWithCreateUserRollsBack();
    void getKeyByIdPrefixOrKey_data() { IdentityTestDatabases::backends(); }
    void getKeyByIdPrefixOrKey();
    void listKeys_data() { IdentityTestDatabases::backends(); }
    void listKeys();
    void updateKey_data() { IdentityTestDatabases::backends(); }
    void updateKey();
    void updateKeyErrors_data() { IdentityTestDatabases::backends(); }
    void updateKeyErrors();
    void revokeKey_data() { IdentityTestDatabases::backends(); }
    void revokeKey();

    void tiers_data() { IdentityTestDatabases::backends(); }
    void tiers();
    void tierErrors_data() { IdentityTestDatabases::backends(); }
    void tierErrors();
    void keyCountsByTier_data() { IdentityTestDatabases::backends(); }
    void keyCountsByTier();
    void defaults_data() { IdentityTestDatabases::backends(); }
    void defaults();

    void plaintextKeyIsNeverStored_data() { IdentityTestDatabases::backends(); }
    void plaintextKeyIsNeverStored();

    void jsonShapes();
    void jsonParsers();
    void jsonParserErrors_data();
    void jsonParserErrors();

    void tierShadowAndModelLimits_data() { IdentityTestDatabases::backends(); }
    void tierShadowAndModelLimits();
    void keyShadowAndModelLimits_data() { IdentityTestDatabases::backends(); }
    void keyShadowAndModelLimits();
    void modelLimitErrors_data() { IdentityTestDatabases::backends(); }
    void modelLimitErrors();
    void modelLimitsJson();

private:
    std::unique_ptr<DatabaseConnection> fresh();
    IdentityTestDatabases m_dbs;
};

void TestAdminService::initTestCase()
{
    QString why;
    if (!m_dbs.init(&why))
        QFAIL(qPrintable(why));
}

void TestAdminService::cleanupTestCase()
{
    m_dbs.cleanup();
}

void TestAdminService::init()
{
    // A failed edit logs a warning (Internal) only where a test provokes it.
    QTest::failOnWarning(QRegularExpression("still in use|duplicate connection"));
}

std::unique_ptr<DatabaseConnection> TestAdminService::fresh()
{
    QString why;
    auto db = m_dbs.fresh(&why);
    if (!db)
        qWarning("fresh database: %s", qPrintable(why));
    return db;
}

void TestAdminService::httpStatus()
{
    QCOMPARE((AdminError{Kind::Invalid, {}, {}}.httpStatus()), 400);
    QCOMPARE((AdminError{Kind::NotFound, {}, {}}.httpStatus()), 404);
    QCOMPARE((AdminError{Kind::Conflict, {}, {}}.httpStatus()), 409);
    QCOMPARE((AdminError{Kind::Internal, {}, {}}.httpStatus()), 500);
}

// ---- users ----

void TestAdminService::createUser()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "alice-admin");
    const qint64 r0 = IdentityTestDatabases::revision(*db);

    NewUser in{"alice", "alice@example.com", {}, {}};
    in.limits.requestsPerSecond = 2.5;
    in.limits.monthlyTokens = 0;
    in.limits.concurrentRequests = 3;
    const auto r = admin.createUser(in);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    const User &u = *r.value;
    QVERIFY(u.id > 0);
    QCOMPARE(u.name, "alice");
    QCOMPARE(u.email, "alice@example.com");
    QCOMPARE(u.tier, "free");  // the default tier
    QCOMPARE(u.status, "active");
    QCOMPARE(u.limits.requestsPerSecond, std::optional<double>(2.5));
    QCOMPARE(u.limits.monthlyTokens, std::optional<qint64>(0));
    QCOMPARE(u.limits.concurrentRequests, std::optional<qint64>(3));
    QVERIFY(!u.limits.burst);
    QCOMPARE(admin.getUser("alice").value->limits, in.limits);  // stored as given
    QVERIFY(qAbs(u.createdAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);

    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.actor, "alice-admin");
    QCOMPARE(a.action, "user.create");
    QCOMPARE(a.targetType, "user");
    QCOMPARE(a.targetId, QString::number(u.id));
    QCOMPARE(a.details.value("name").toString(), "alice");
    QCOMPARE(a.details.value("tier").toString(), "free");
    QCOMPARE(a.details.value("requests_per_second").toDouble(), 2.5);
    QCOMPARE(a.details.value("concurrent_requests").toInt(), 3);

    NewUser bob{"bob.b_b-1@x", {}, "pro", {}};
    const auto rb = admin.createUser(bob);
    QVERIFY2(rb.ok(), rb.error ? qPrintable(rb.error->message) : "");
    QCOMPARE(rb.value->tier, "pro");
    QVERIFY(!rb.value->limits.concurrentRequests);  // unset: inherit
    QVERIFY(rb.value->email.isEmpty());
    QVERIFY(rb.value->id > u.id);
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 2);
}

void TestAdminService::createUserErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"taken", {}, {}, {}}).ok());
    const Footprint before = footprint(*db);

    auto user = [](const QString &name, const QString &email = {}, const QString &tier = {}) {
        return NewUser{name, email, tier, {}};
    };
    VERIFY_ERROR(admin.createUser(user("")), Kind::Invalid, "name", "\"\"");
    VERIFY_ERROR(admin.createUser(user("has space")), Kind::Invalid, "name", "\"has space\"");
    VERIFY_ERROR(admin.createUser(user(QString(65, 'a'))), Kind::Invalid, "name", "64");
    VERIFY_ERROR(admin.createUser(user("semi;colon")), Kind::Invalid, "name", "semi;colon");
    VERIFY_ERROR(admin.createUser(user("12345")), Kind::Invalid, "name", "digits");
    VERIFY_ERROR(admin.createUser(user("ok", "not-an-email")), Kind::Invalid, "email",
                 "\"not-an-email\"");
    VERIFY_ERROR(admin.createUser(user("ok", "a b@example.com")), Kind::Invalid, "email",
                 "a b@example.com");
    VERIFY_ERROR(admin.createUser(user("ok", "a@nodot")), Kind::Invalid, "email", "a@nodot");
    VERIFY_ERROR(admin.createUser(user("ok", {}, "gold")), Kind::NotFound, "tier", "\"gold\"");
    VERIFY_ERROR(admin.createUser(user("taken")), Kind::Conflict, "name", "\"taken\"");

    NewUser negative = user("ok");
    negative.limits.burst = -1;
    VERIFY_ERROR(admin.createUser(negative), Kind::Invalid, "burst", "-1");
    NewUser nan = user("ok");
    nan.limits.requestsPerSecond = std::numeric_limits<double>::quiet_NaN();
    VERIFY_ERROR(admin.createUser(nan), Kind::Invalid, "requests_per_second",
                 "non-negative number");
    NewUser negativeRps = user("ok");
    negativeRps.limits.requestsPerSecond = -0.5;
    VERIFY_ERROR(admin.createUser(negativeRps), Kind::Invalid, "requests_per_second", "-0.5");
    NewUser negativeConcurrent = user("ok");
    negativeConcurrent.limits.concurrentRequests = -4;
    VERIFY_ERROR(admin.createUser(negativeConcurrent), Kind::Invalid, "concurrent_requests", "-4");

    QCOMPARE(footprint(*db), before);  // nothing written by any refused edit
    // Names are case-sensitive, and allowed characters pass.
    QVERIFY(admin.createUser(user("Taken")).ok());
    QVERIFY(admin.createUser(user(QString(64, 'z'))).ok());
}

void TestAdminService::getUser()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    const auto created = admin.createUser({"carol", {}, "enterprise", {}});
    QVERIFY(created.ok());
    const auto byName = admin.getUser("carol");
    QVERIFY(byName.ok());
    QCOMPARE(byName.value->id, created.value->id);
    QCOMPARE(byName.value->tier, "enterprise");
    const auto byId = admin.getUser(QString::number(created.value->id));
    QVERIFY(byId.ok());
    QCOMPARE(byId.value->name, "carol");
    VERIFY_ERROR(admin.getUser("nobody"), Kind::NotFound, "user", "\"nobody\"");
    VERIFY_ERROR(admin.getUser("424242"), Kind::NotFound, "user", "424242");
    VERIFY_ERROR(admin.getUser("99999999999999999999999"), Kind::NotFound, "user", "999");
}

void TestAdminService::listUsers()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    for (int i = 0; i < 25; ++i) {
        const QString tier = i % 5 == 0 ? "pro" : "free";
        QVERIFY(admin.createUser({QStringLiteral("user%1").arg(i, 2, 10, QChar('0')), {}, tier, {}})
                    .ok());
    }
    QVERIFY(admin.createUser({"Special_Name", {}, {}, {}}).ok());
    QVERIFY(admin.createUser({"SpecialXName", {}, {}, {}}).ok());
    QVERIFY(admin.disableUser("user03").ok());
    QVERIFY(admin.disableUser("user05").ok());

    // Keyset pagination walks every user once, in id order.
    QStringList seen;
    Page page;
    page.limit = 10;
    int pages = 0;
    for (;;) {
        const auto r = admin.listUsers({}, page);
        QVERIFY(r.ok());
        if (r.value->isEmpty())
            break;
        ++pages;
        QVERIFY(r.value->size() <= 10);
        for (const User &u : *r.value) {
            QVERIFY(u.id > page.afterId);
            seen << u.name;
            page.afterId = u.id;
        }
    }
    QCOMPARE(pages, 3);
    QCOMPARE(seen.size(), 27);
    QCOMPARE(seen.first(), "user00");
    QCOMPARE(seen.last(), "SpecialXName");

    auto names = [&](const UserFilter &f, const Page &p = Page()) {
        const auto r = admin.listUsers(f, p);
        QStringList out;
        if (r.ok()) {
            for (const User &u : *r.value)
                out << u.name;
        }
        return out;
    };
    QCOMPARE(names({"pro", {}, {}}),
             QStringList({"user00", "user05", "user10", "user15", "user20"}));
    QCOMPARE(names({{}, "disabled", {}}), QStringList({"user03", "user05"}));
    QCOMPARE(names({"pro", "disabled", {}}), QStringList({"user05"}));
    QCOMPARE(names({"pro", "active", {}}).size(), 4);
    QCOMPARE(names({{}, {}, "ER1"}),  // case-insensitive on both databases
             QStringList({"user10", "user11", "user12", "user13", "user14", "user15", "user16",
                          "user17", "user18", "user19"}));
    QCOMPARE(names({{}, {}, "l_n"}), QStringList({"Special_Name"}));  // wildcards are literal
    QCOMPARE(names({{}, {}, "%"}), QStringList());
    QCOMPARE(names({"no-such-tier", {}, {}}), QStringList());
    Page two;
    two.limit = 2;
    QCOMPARE(names({}, two), QStringList({"user00", "user01"}));

    Page bad;
    bad.limit = 0;
    VERIFY_ERROR(admin.listUsers({}, bad), Kind::Invalid, "limit", "0");
    bad.limit = 1001;
    VERIFY_ERROR(admin.listUsers({}, bad), Kind::Invalid, "limit", "1001");
    bad.limit = 1000;
    QVERIFY(admin.listUsers({}, bad).ok());
    bad.afterId = -1;
    VERIFY_ERROR(admin.listUsers({}, bad), Kind::Invalid, "after", "-1");
    VERIFY_ERROR(admin.listUsers({{}, "paused", {}}, Page()), Kind::Invalid, "status",
                 "\"paused\"");
}

void TestAdminService::updateUser()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "ops");
    NewUser in{"dave", "dave@example.com", {}, {}};
    in.limits.burst = 5;
    in.limits.requestsPerMinute = 60;
    in.limits.concurrentRequests = 2;
    const auto created = admin.createUser(in);
    QVERIFY(created.ok());
    const qint64 r0 = IdentityTestDatabases::revision(*db);

    UserPatch patch;
    patch.tier = "pro";
    patch.email = "";  // removes the email
    patch.limits.tokensPerMinute = 1000;
    patch.limits.requestsPerMinute = 120;
    patch.limits.concurrentRequests = 6;
    patch.clearLimits = {"burst"};
    const auto r = admin.updateUser("dave", patch);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    QCOMPARE(r.value->tier, "pro");
    QVERIFY(r.value->email.isEmpty());
    QVERIFY(!r.value->limits.burst);
    QCOMPARE(r.value->limits.requestsPerMinute, std::optional<qint64>(120));
    QCOMPARE(r.value->limits.tokensPerMinute, std::optional<qint64>(1000));
    QCOMPARE(r.value->limits.concurrentRequests, std::optional<qint64>(6));
    QCOMPARE(admin.getUser("dave").value->tier, "pro");  // stored
    QCOMPARE(admin.getUser("dave").value->limits, r.value->limits);
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);

    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "user.update");
    QCOMPARE(a.actor, "ops");
    const QJsonObject changes = a.details.value("changes").toObject();
    QCOMPARE(changes.value("tier").toObject().value("from").toString(), "free");
    QCOMPARE(changes.value("tier").toObject().value("to").toString(), "pro");
    QCOMPARE(changes.value("email").toObject().value("from").toString(), "dave@example.com");
    QVERIFY(changes.value("email").toObject().value("to").isNull());
    QCOMPARE(changes.value("burst").toObject().value("from").toInt(), 5);
    QVERIFY(changes.value("burst").toObject().value("to").isNull());
    QCOMPARE(changes.value("requests_per_minute").toObject().value("to").toInt(), 120);
    QCOMPARE(changes.value("concurrent_requests").toObject().value("from").toInt(), 2);
    QCOMPARE(changes.value("concurrent_requests").toObject().value("to").toInt(), 6);
    QVERIFY(!changes.contains("status"));  // only what changed
    QVERIFY(!changes.contains("monthly_tokens"));

    // By id; re-enable after disable.
    UserPatch status;
    status.status = "disabled";
    QCOMPARE(admin.updateUser(QString::number(created.value->id), status).value->status,
             "disabled");
    QCOMPARE(lastAudit(*db).action, "user.disable");
    status.status = "active";
    QCOMPARE(admin.updateUser("dave", status).value->status, "active");
    QCOMPARE(lastAudit(*db).action, "user.enable");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 3);

    // Clearing concurrent_requests: back to inherit, the rest stays.
    UserPatch clear;
    clear.clearLimits = {"concurrent_requests"};
    const auto cleared = admin.updateUser("dave", clear);
    QVERIFY2(cleared.ok(), cleared.error ? qPrintable(cleared.error->message) : "");
    QVERIFY(!cleared.value->limits.concurrentRequests);
    QVERIFY(!admin.getUser("dave").value->limits.concurrentRequests);
    QCOMPARE(cleared.value->limits.requestsPerMinute, std::optional<qint64>(120));
    QVERIFY(lastAudit(*db)
                .details.value("changes")
                .toObject()
                .value("concurrent_requests")
                .toObject()
                .value("to")
                .isNull());
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 4);

    // A patch that changes nothing writes nothing.
    const Footprint before = footprint(*db);
    UserPatch same;
    same.tier = "pro";
    same.limits.requestsPerMinute = 120;
    same.clearLimits = {"burst", "concurrent_requests"};
    QVERIFY(admin.updateUser("dave", same).ok());
    QVERIFY(admin.updateUser("dave", UserPatch()).ok());
    QCOMPARE(footprint(*db), before);

    // A rename keeps the id (and so the keys and usage); the old name is free again.
    NewKey nk;
    nk.userName = "dave";
    QVERIFY(admin.createKey(nk).ok());
    UserPatch rename;
    rename.name = "david";
    rename.email = "david@example.com";
    const auto renamed = admin.updateUser("dave", rename);
    QVERIFY2(renamed.ok(), renamed.error ? qPrintable(renamed.error->message) : "");
    QCOMPARE(renamed.value->id, created.value->id);
    QCOMPARE(renamed.value->name, "david");
    QCOMPARE(admin.getUser("david").value->email, "david@example.com");
    QVERIFY(!admin.getUser("dave").ok());
    const auto keys = admin.listKeys({}, Page{100, 0});
    QVERIFY(keys.ok());
    QCOMPARE(keys.value->size(), 1);
    QCOMPARE(keys.value->first().userName, "david");
    const QJsonObject renameChanges = lastAudit(*db).details.value("changes").toObject();
    QCOMPARE(renameChanges.value("name").toObject().value("from").toString(), "dave");
    QCOMPARE(renameChanges.value("name").toObject().value("to").toString(), "david");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 6);  // the key, then the rename
}

void TestAdminService::updateUserErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"erin", "erin@example.com", {}, {}}).ok());
    const Footprint before = footprint(*db);

    UserPatch p;
    VERIFY_ERROR(admin.updateUser("nobody", p), Kind::NotFound, "user", "\"nobody\"");

    // The unknown tier is refused and the email in the same patch is not written either.
    p.email = "new@example.com";
    p.tier = "gold";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::NotFound, "tier", "\"gold\"");
    p = UserPatch();
    p.tier = "";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "tier", "tier");
    p = UserPatch();
    p.status = "paused";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "status", "\"paused\"");
    p = UserPatch();
    p.email = "nope";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "email", "\"nope\"");
    p = UserPatch();
    p.limits.monthlyRequests = -5;
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "monthly_requests", "-5");
    p = UserPatch();
    p.limits.concurrentRequests = 1;
    p.clearLimits = {"concurrent_requests"};
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "concurrent_requests", "both");
    p = UserPatch();
    p.limits.burst = 5;
    p.clearLimits = {"burst"};
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "burst", "both");
    p = UserPatch();
    p.clearLimits = {"rpm"};
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "rpm", "\"rpm\"");
    // Names follow a new user's rules and stay unique; the email of the same patch waits.
    QVERIFY(admin.createUser({"frank", "", {}, {}}).ok());
    const Footprint withFrank = footprint(*db);
    p = UserPatch();
    p.name = "";
    p.email = "new@example.com";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "name", "name");
    p.name = "has space";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "name", "\"has space\"");
    p.name = "123";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Invalid, "name", "\"123\"");
    p.name = "frank";
    VERIFY_ERROR(admin.updateUser("erin", p), Kind::Conflict, "name", "\"frank\"");
    QCOMPARE(footprint(*db), withFrank);
    QVERIFY(admin.getUser("erin").ok());
    p = UserPatch();

    QCOMPARE(admin.getUser("erin").value->email, "erin@example.com");
}

void TestAdminService::disableUserKeepsKeys()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "frank";
    nk.createUser = true;
    const auto key = admin.createKey(nk);
    QVERIFY(key.ok());
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    const auto r = admin.disableUser("frank");
    QVERIFY(r.ok());
    QCOMPARE(r.value->status, "disabled");
    QCOMPARE(admin.getKey(QString::number(key.value->key.id)).value->status, "active");
    QCOMPARE(lastAudit(*db).action, "user.disable");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    // Idempotent.
    QVERIFY(admin.disableUser("frank").ok());
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    VERIFY_ERROR(admin.disableUser("ghost"), Kind::NotFound, "user", "ghost");
}

// ---- keys ----

void TestAdminService::createKey()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "keymaster");
    QVERIFY(admin.createUser({"gina", {}, "pro", {}}).ok());
    const qint64 r0 = IdentityTestDatabases::revision(*db);

    NewKey nk;
    nk.userName = "gina";
    nk.name = "ci-runner";
    nk.tier = "partner";
    nk.limits.requestsPerSecond = 0.5;
    nk.limits.tokensPerMinute = 20000;
    nk.limits.concurrentRequests = 2;
    nk.models = {"gpt-4o*", "claude-3-*"};
    nk.expiresAt = QDateTime::currentDateTimeUtc().addDays(7);
    const auto r = admin.createKey(nk);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    const CreatedKey &c = *r.value;
    QVERIFY(ApiKeyCodec::looksValid(c.plaintext.toLatin1()));
    QCOMPARE(c.key.prefix, ApiKeyCodec::displayPrefix(c.plaintext));
    QCOMPARE(c.key.hash, ApiKeyCodec::hash(c.plaintext.toLatin1()));
    QCOMPARE(c.key.userName, "gina");
    QCOMPARE(c.key.userId, admin.getUser("gina").value->id);
    QCOMPARE(c.key.name, "ci-runner");
    QCOMPARE(c.key.tier, "partner");
    QCOMPARE(c.key.limits.requestsPerSecond, std::optional<double>(0.5));
    QCOMPARE(c.key.limits.tokensPerMinute, std::optional<qint64>(20000));
    QCOMPARE(c.key.limits.concurrentRequests, std::optional<qint64>(2));
    QVERIFY(!c.key.limits.burst);
    QCOMPARE(c.key.models, QStringList({"gpt-4o*", "claude-3-*"}));
    QCOMPARE(c.key.status, "active");
    QCOMPARE(Timestamp::toText(c.key.expiresAt), Timestamp::toText(nk.expiresAt));
    QVERIFY(!c.key.lastUsedAt.isValid());
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);

    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "key.create");
    QCOMPARE(a.actor, "keymaster");
    QCOMPARE(a.targetId, QString::number(c.key.id));
    QCOMPARE(a.details.value("prefix").toString(), c.key.prefix);
    QCOMPARE(a.details.value("user").toString(), "gina");
    QCOMPARE(a.details.value("tier").toString(), "partner");
    QCOMPARE(a.details.value("models").toArray().size(), 2);
    QCOMPARE(a.details.value("concurrent_requests").toInt(), 2);
    QVERIFY(!a.details.contains("hash"));

    // Minimal key: the user's tier, every model, never expires; by user id too.
    NewKey minimal;
    minimal.userName = QString::number(c.key.userId);
    const auto m = admin.createKey(minimal);
    QVERIFY2(m.ok(), m.error ? qPrintable(m.error->message) : "");
    QVERIFY(m.value->key.tier.isEmpty());
    QVERIFY(m.value->key.models.isEmpty());
    QVERIFY(!m.value->key.expiresAt.isValid());
    QVERIFY(m.value->key.name.isEmpty());
    QVERIFY(m.value->key.limits.isEmpty());
    QVERIFY(m.value->plaintext != c.plaintext);
    // A disabled user's keys can still be made (authentication refuses them while disabled).
    QVERIFY(admin.disableUser("gina").ok());
    QVERIFY(admin.createKey(minimal).ok());
}

void TestAdminService::createKeyErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"hank", {}, {}, {}}).ok());
    const Footprint before = footprint(*db);

    auto base = [] {
        NewKey k;
        k.userName = "hank";
        return k;
    };
    NewKey k = base();
    k.userName.clear();
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "user", "required");
    k = base();
    k.userName = "nobody";
    VERIFY_ERROR(admin.createKey(k), Kind::NotFound, "user", "\"nobody\"");
    k = base();
    k.tier = "gold";
    VERIFY_ERROR(admin.createKey(k), Kind::NotFound, "tier", "\"gold\"");
    k = base();
    k.name = "my laptop";
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "name", "\"my laptop\"");
    k = base();
    k.models = {"gpt-4", ""};
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "models", "\"\"");
    k = base();
    k.models = {"gpt 4"};
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "models", "\"gpt 4\"");
    k = base();
    k.expiresAt = QDateTime::currentDateTimeUtc().addSecs(-60);
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "expires_at", "future");
    k = base();
    k.limits.requestsPerMinute = -100;
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "requests_per_minute", "-100");
    k = base();
    k.limits.concurrentRequests = -1;
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "concurrent_requests", "-1");
    k = base();
    k.userName = "bad name";
    k.createUser = true;
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "user", "\"bad name\"");
    // createUser where the key part is refused: no user either.
    k = base();
    k.userName = "newbie";
    k.createUser = true;
    k.tier = "gold";
    VERIFY_ERROR(admin.createKey(k), Kind::NotFound, "tier", "\"gold\"");
    k.tier.clear();
    k.models = {"a b"};
    VERIFY_ERROR(admin.createKey(k), Kind::Invalid, "models", "\"a b\"");

    QCOMPARE(footprint(*db), before);
    VERIFY_ERROR(admin.getUser("newbie"), Kind::NotFound, "user", "newbie");
}

void TestAdminService::createKeyWithCreateUser()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    NewKey k;
    k.userName = "ivan";
    k.createUser = true;
    k.tier = "pro";  // the key's tier; the new user is on free
    const auto r = admin.createKey(k);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    const auto u = admin.getUser("ivan");
    QVERIFY(u.ok());
    QCOMPARE(u.value->tier, "free");
    QCOMPARE(r.value->key.userId, u.value->id);
    QCOMPARE(lastAudit(*db).action, "key.create");
    QCOMPARE(lastAudit(*db, 1).action, "user.create");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);  // one edit, one bump

    // With an existing user, createUser just uses it.
    const auto again = admin.createKey(k);
    QVERIFY(again.ok());
    QCOMPARE(again.value->key.userId, u.value->id);
    QCOMPARE(IdentityTestDatabases::scalar(*db, "SELECT COUNT(*) FROM users"), 1);
}

void TestAdminService::createKeyWithCreateUserRollsBack()
{
    // A failure after the user row was written (here: the key table is gone) must take the
    // user with it.
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(db->exec("ALTER TABLE api_keys RENAME TO api_keys_away"));
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    NewKey k;
    k.userName = "judy";
    k.createUser = true;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("identity edit failed"));
    const auto r = admin.createKey(k);
    QVERIFY(!r.ok());
    QCOMPARE(r.error->kind, Kind::Internal);
    QCOMPARE(r.error->httpStatus(), 500);
    QVERIFY(db->exec("ALTER TABLE api_keys_away RENAME TO api_keys"));
    VERIFY_ERROR(admin.getUser("judy"), Kind::NotFound, "user", "judy");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0);
    QCOMPARE(IdentityTestDatabases::scalar(*db,
                                           "SELECT COUNT(*) FROM audit_log WHERE action = "
                                           "'user.create'"),
             0);
    // The connection is usable afterwards (the transaction was rolled back).
    QVERIFY(admin.createKey(k).ok());
}

void TestAdminService::getKeyByIdPrefixOrKey()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "kate";
    nk.createUser = true;
    const auto c = admin.createKey(nk);
    const auto other = admin.createKey(nk);
    QVERIFY(c.ok() && other.ok());
    const ApiKey &key = c.value->key;

    QCOMPARE(admin.getKey(QString::number(key.id)).value->id, key.id);
    const auto byPrefix = admin.getKey(key.prefix);
    QVERIFY2(byPrefix.ok(), byPrefix.error ? qPrintable(byPrefix.error->message) : "");
    QCOMPARE(byPrefix.value->id, key.id);
    QCOMPARE(byPrefix.value->userName, "kate");
    const auto byKey = admin.getKey(c.value->plaintext);  // a leaked key, pasted whole
    QVERIFY(byKey.ok());
    QCOMPARE(byKey.value->id, key.id);

    VERIFY_ERROR(admin.getKey("987654"), Kind::NotFound, "key", "987654");
    VERIFY_ERROR(admin.getKey("sk-sluice-zzzz"), Kind::NotFound, "key", "sk-sluice-zzzz");
    VERIFY_ERROR(admin.getKey("laptop"), Kind::NotFound, "key", "\"laptop\"");
    VERIFY_ERROR(admin.getKey("sk-sluice-"), Kind::NotFound, "key", "sk-sluice-");

    // An unknown whole key is never echoed, only its display prefix.
    const QString unknown = ApiKeyCodec::generate();
    const auto r = admin.getKey(unknown);
    VERIFY_ERROR(r, Kind::NotFound, "key", ApiKeyCodec::displayPrefix(unknown));
    QVERIFY(!r.error->message.contains(unknown.mid(14)));

    // Two keys with the same display prefix: ambiguous.
    QVERIFY(
        db->exec("UPDATE api_keys SET prefix = ? WHERE id = ?", {key.prefix, other.value->key.id}));
    VERIFY_ERROR(admin.getKey(key.prefix), Kind::Conflict, "key", key.prefix);
    VERIFY_ERROR(admin.revokeKey(key.prefix), Kind::Conflict, "key", key.prefix);
    QCOMPARE(admin.getKey(QString::number(other.value->key.id)).value->status, "active");
}

void TestAdminService::listKeys()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"lena", {}, "pro", {}}).ok());
    QVERIFY(admin.createUser({"mike", {}, {}, {}}).ok());
    QList<qint64> ids;
    for (int i = 0; i < 12; ++i) {
        NewKey k;
        k.userName = i % 2 ? "mike" : "lena";
        k.tier = i % 3 == 0 ? "partner" : "";
        const auto c = admin.createKey(k);
        QVERIFY(c.ok());
        ids << c.value->key.id;
    }
    QVERIFY(admin.revokeKey(QString::number(ids[1])).ok());
    QVERIFY(admin.revokeKey(QString::number(ids[2])).ok());

    auto idsOf = [&](const KeyFilter &f, const Page &p = Page()) {
        const auto r = admin.listKeys(f, p);
        QList<qint64> out;
        if (r.ok()) {
            for (const ApiKey &k : *r.value)
                out << k.id;
        }
        return out;
    };
    QCOMPARE(idsOf({}), ids);  // revoked ones are listed too
    Page page;
    page.limit = 5;
    QCOMPARE(idsOf({}, page), ids.mid(0, 5));
    page.afterId = ids[4];
    QCOMPARE(idsOf({}, page), ids.mid(5, 5));
    page.afterId = ids[9];
    QCOMPARE(idsOf({}, page), ids.mid(10));
    page.afterId = ids[11];
    QCOMPARE(idsOf({}, page), QList<qint64>());

    QCOMPARE(idsOf({"mike", {}, {}}),
             QList<qint64>({ids[1], ids[3], ids[5], ids[7], ids[9], ids[11]}));
    const qint64 mikeId = admin.getUser("mike").value->id;
    QCOMPARE(idsOf({QString::number(mikeId), {}, {}}).size(), 6);
    QCOMPARE(idsOf({{}, {}, "revoked"}), QList<qint64>({ids[1], ids[2]}));
    QCOMPARE(idsOf({"mike", {}, "active"}).size(), 5);
    // Effective tier: the key's own, else the user's.
    QCOMPARE(idsOf({{}, "partner", {}}), QList<qint64>({ids[0], ids[3], ids[6], ids[9]}));
    QCOMPARE(idsOf({{}, "pro", {}}), QList<qint64>({ids[2], ids[4], ids[8], ids[10]}));
    QCOMPARE(idsOf({{}, "free", {}}), QList<qint64>({ids[1], ids[5], ids[7], ids[11]}));
    QCOMPARE(idsOf({"nobody", {}, {}}), QList<qint64>());

    VERIFY_ERROR(admin.listKeys({{}, {}, "expired"}, Page()), Kind::Invalid, "status",
                 "\"expired\"");
    Page bad;
    bad.limit = 5000;
    VERIFY_ERROR(admin.listKeys({}, bad), Kind::Invalid, "limit", "5000");
}

void TestAdminService::updateKey()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "nina";
    nk.createUser = true;
    nk.name = "old";
    nk.limits.burst = 10;
    nk.limits.concurrentRequests = 5;
    nk.models = {"gpt-*"};
    const auto c = admin.createKey(nk);
    QVERIFY(c.ok());
    const ApiKey &key = c.value->key;
    const qint64 r0 = IdentityTestDatabases::revision(*db);

    KeyPatch p;
    p.name = "new";
    p.tier = "enterprise";
    p.models = QStringList{"claude-*", "gpt-4o"};
    p.expiresAt = QDateTime::currentDateTimeUtc().addDays(1);
    p.limits.requestsPerSecond = 7.25;
    p.limits.concurrentRequests = 0;  // unlimited, not inherit
    p.clearLimits = {"burst"};
    const auto r = admin.updateKey(key.prefix, p);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    QCOMPARE(r.value->name, "new");
    QCOMPARE(r.value->tier, "enterprise");
    QCOMPARE(r.value->models, QStringList({"claude-*", "gpt-4o"}));
    QCOMPARE(Timestamp::toText(r.value->expiresAt), Timestamp::toText(*p.expiresAt));
    QCOMPARE(r.value->limits.requestsPerSecond, std::optional<double>(7.25));
    QCOMPARE(r.value->limits.concurrentRequests, std::optional<qint64>(0));
    QCOMPARE(admin.getKey(key.prefix).value->limits.concurrentRequests, std::optional<qint64>(0));
    QVERIFY(!r.value->limits.burst);
    QCOMPARE(r.value->hash, key.hash);  // the key material stays
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "key.update");
    QCOMPARE(a.details.value("prefix").toString(), key.prefix);
    const QJsonObject changes = a.details.value("changes").toObject();
    QCOMPARE(changes.value("name").toObject().value("from").toString(), "old");
    QVERIFY(changes.value("tier").toObject().value("from").isNull());
    QCOMPARE(changes.value("tier").toObject().value("to").toString(), "enterprise");
    QCOMPARE(changes.value("requests_per_second").toObject().value("to").toDouble(), 7.25);
    QCOMPARE(changes.value("concurrent_requests").toObject().value("from").toInt(), 5);
    QCOMPARE(changes.value("concurrent_requests").toObject().value("to").toInt(), 0);
    QVERIFY(!changes.value("concurrent_requests").toObject().value("to").isNull());

    // Back to the user's tier, every model, never expires, no name.
    KeyPatch back;
    back.tier = "";
    back.models = QStringList();
    back.expiresAt = QDateTime();
    back.name = "";
    back.clearLimits = {"concurrent_requests"};
    const auto b = admin.updateKey(QString::number(key.id), back);
    QVERIFY2(b.ok(), b.error ? qPrintable(b.error->message) : "");
    QVERIFY(b.value->tier.isEmpty());
    QVERIFY(b.value->models.isEmpty());
    QVERIFY(!b.value->expiresAt.isValid());
    QVERIFY(b.value->name.isEmpty());
    QVERIFY(!b.value->limits.concurrentRequests);
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 2);

    // Nothing to change: nothing written.
    const Footprint before = footprint(*db);
    QVERIFY(admin.updateKey(QString::number(key.id), back).ok());
    QCOMPARE(footprint(*db), before);
}

void TestAdminService::updateKeyErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "olga";
    nk.createUser = true;
    nk.name = "keep";
    const auto c = admin.createKey(nk);
    const auto gone = admin.createKey(nk);
    QVERIFY(c.ok() && gone.ok());
    QVERIFY(admin.revokeKey(QString::number(gone.value->key.id)).ok());
    const QString id = QString::number(c.value->key.id);
    const Footprint before = footprint(*db);

    KeyPatch p;
    p.name = "changed";
    p.tier = "gold";
    VERIFY_ERROR(admin.updateKey(id, p), Kind::NotFound, "tier", "\"gold\"");
    p = KeyPatch();
    p.name = "white space";
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "name", "\"white space\"");
    p = KeyPatch();
    p.models = QStringList{"ok", "not ok"};
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "models", "\"not ok\"");
    p = KeyPatch();
    p.expiresAt = QDateTime::currentDateTimeUtc().addDays(-1);
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "expires_at", "future");
    p = KeyPatch();
    p.limits.monthlyTokens = -1;
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "monthly_tokens", "-1");
    p = KeyPatch();
    p.limits.concurrentRequests = -2;
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "concurrent_requests", "-2");
    p = KeyPatch();
    p.clearLimits = {"nope"};
    VERIFY_ERROR(admin.updateKey(id, p), Kind::Invalid, "nope", "\"nope\"");
    p = KeyPatch();
    p.name = "x";
    VERIFY_ERROR(admin.updateKey("777777", p), Kind::NotFound, "key", "777777");
    VERIFY_ERROR(admin.updateKey(QString::number(gone.value->key.id), p), Kind::Conflict, "key",
                 "revoked");

    QCOMPARE(footprint(*db), before);
    QCOMPARE(admin.getKey(id).value->name, "keep");
}

void TestAdminService::revokeKey()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "sec");
    NewKey nk;
    nk.userName = "paul";
    nk.createUser = true;
    const auto c = admin.createKey(nk);
    QVERIFY(c.ok());
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    const auto r = admin.revokeKey(c.value->key.prefix);
    QVERIFY(r.ok());
    QCOMPARE(r.value->status, "revoked");
    QCOMPARE(admin.getKey(QString::number(c.value->key.id)).value->status, "revoked");
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "key.revoke");
    QCOMPARE(a.actor, "sec");
    QCOMPARE(a.targetType, "key");
    QCOMPARE(a.targetId, QString::number(c.value->key.id));
    QCOMPARE(a.details.value("prefix").toString(), c.value->key.prefix);

    // Idempotent: the same answer, no second audit row or bump.
    const Footprint before = footprint(*db);
    const auto again = admin.revokeKey(QString::number(c.value->key.id));
    QVERIFY(again.ok());
    QCOMPARE(again.value->status, "revoked");
    QCOMPARE(footprint(*db), before);
    // By the whole key, too.
    const auto other = admin.createKey(nk);
    QVERIFY(admin.revokeKey(other.value->plaintext).ok());
    QCOMPARE(admin.getKey(QString::number(other.value->key.id)).value->status, "revoked");
    VERIFY_ERROR(admin.revokeKey("55555"), Kind::NotFound, "key", "55555");
}

// ---- tiers and defaults ----

void TestAdminService::tiers()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    const auto list = admin.listTiers();
    QVERIFY(list.ok());
    QStringList names;
    for (const Tier &t : *list.value)
        names << t.name;
    QCOMPARE(names, QStringList({"anonymous", "enterprise", "free", "partner", "pro"}));
    const auto free = admin.getTier("free");
    QVERIFY(free.ok());
    QCOMPARE(free.value->limits.requestsPerMinute, std::optional<qint64>(100));
    QCOMPARE(free.value->limits.monthlyRequests, std::optional<qint64>(50000));
    QVERIFY(!free.value->limits.concurrentRequests);  // no built-in concurrency limit
    QCOMPARE(admin.getTier("enterprise").value->limits.concurrentRequests,
             std::optional<qint64>(0));  // unlimited, like every field of enterprise
    VERIFY_ERROR(admin.getTier("gold"), Kind::NotFound, "tier", "\"gold\"");

    // setTier creates...
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    LimitOverrides gold;
    gold.requestsPerMinute = 5000;
    gold.requestsPerSecond = 12.5;
    gold.concurrentRequests = 8;
    const auto created = admin.setTier("gold", gold);
    QVERIFY2(created.ok(), created.error ? qPrintable(created.error->message) : "");
    QCOMPARE(created.value->limits, gold);
    QVERIFY(created.value->createdAt.isValid());
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "tier.set");
    QCOMPARE(a.targetId, "gold");
    QVERIFY(a.details.value("created").toBool());
    QCOMPARE(a.details.value("requests_per_minute").toInt(), 5000);
    QCOMPARE(a.details.value("concurrent_requests").toInt(), 8);

    // ... and edits: set fields written, cleared ones inherit, others untouched.
    LimitOverrides edit;
    edit.monthlyTokens = 1000000;
    const auto edited = admin.setTier("gold", edit, {"requests_per_second"});
    QVERIFY(edited.ok());
    QCOMPARE(edited.value->limits.requestsPerMinute, std::optional<qint64>(5000));
    QCOMPARE(edited.value->limits.monthlyTokens, std::optional<qint64>(1000000));
    QCOMPARE(edited.value->limits.concurrentRequests, std::optional<qint64>(8));  // untouched
    QVERIFY(!edited.value->limits.requestsPerSecond);
    QVERIFY(edited.value->updatedAt >= edited.value->createdAt);
    QCOMPARE(edited.value->createdAt, created.value->createdAt);
    a = lastAudit(*db);
    QCOMPARE(a.details.value("changes")
                 .toObject()
                 .value("requests_per_second")
                 .toObject()
                 .value("from")
                 .toDouble(),
             12.5);
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 2);

    // concurrent_requests edited and cleared like the others.
    LimitOverrides concurrent;
    concurrent.concurrentRequests = 2;
    QCOMPARE(admin.setTier("gold", concurrent).value->limits.concurrentRequests,
             std::optional<qint64>(2));
    const auto noConcurrent = admin.setTier("gold", {}, {"concurrent_requests"});
    QVERIFY(noConcurrent.ok());
    QVERIFY(!noConcurrent.value->limits.concurrentRequests);
    QVERIFY(!admin.getTier("gold").value->limits.concurrentRequests);
    QCOMPARE(noConcurrent.value->limits.monthlyTokens, std::optional<qint64>(1000000));
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 4);

    // Users and keys can use it now.
    QVERIFY(admin.createUser({"quinn", {}, "gold", {}}).ok());
    // No change: no write.
    const Footprint before = footprint(*db);
    QVERIFY(admin.setTier("gold", edit).ok());
    QCOMPARE(footprint(*db), before);
}

void TestAdminService::tierErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    const Footprint before = footprint(*db);
    VERIFY_ERROR(admin.setTier("", LimitOverrides()), Kind::Invalid, "name", "\"\"");
    VERIFY_ERROR(admin.setTier("two words", LimitOverrides()), Kind::Invalid, "name",
                 "\"two words\"");
    LimitOverrides negative;
    negative.tokensPerMinute = -3;
    VERIFY_ERROR(admin.setTier("gold", negative), Kind::Invalid, "tokens_per_minute", "-3");
    LimitOverrides negativeConcurrent;
    negativeConcurrent.concurrentRequests = -1;
    VERIFY_ERROR(admin.setTier("gold", negativeConcurrent), Kind::Invalid, "concurrent_requests",
                 "-1");
    VERIFY_ERROR(admin.setTier("free", {}, {"tpm"}), Kind::Invalid, "tpm", "\"tpm\"");
    LimitOverrides both;
    both.burst = 1;
    VERIFY_ERROR(admin.setTier("free", both, {"burst"}), Kind::Invalid, "burst", "both");
    QCOMPARE(footprint(*db), before);
}

void TestAdminService::keyCountsByTier()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"rita", {}, "pro", {}}).ok());
    auto make = [&](const QString &tier) {
        NewKey k;
        k.userName = "rita";
        k.tier = tier;
        return admin.createKey(k);
    };
    QVERIFY(make("").ok());         // pro, by the user
    QVERIFY(make("").ok());         // pro
    QVERIFY(make("partner").ok());  // partner, its own
    const auto revoked = make("free");
    QVERIFY(revoked.ok());
    QVERIFY(admin.revokeKey(QString::number(revoked.value->key.id)).ok());  // not counted
    const auto counts = admin.keyCountsByTier();
    QVERIFY(counts.ok());
    const QList<QPair<QString, qint64>> expected = {
        {"anonymous", 0}, {"enterprise", 0}, {"free", 0}, {"partner", 1}, {"pro", 2}};
    QCOMPARE(*counts.value, expected);
    // Moving the user moves its inheriting keys.
    UserPatch p;
    p.tier = "enterprise";
    QVERIFY(admin.updateUser("rita", p).ok());
    const QList<QPair<QString, qint64>> moved = {
        {"anonymous", 0}, {"enterprise", 2}, {"free", 0}, {"partner", 1}, {"pro", 0}};
    QCOMPARE(*admin.keyCountsByTier().value, moved);
}

void TestAdminService::defaults()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    const auto d = admin.getDefaults();
    QVERIFY(d.ok());
    QCOMPARE(d.value->user.requestsPerSecond, std::optional<double>(100));
    QCOMPARE(d.value->user.burst, std::optional<qint64>(200));
    QCOMPARE(d.value->key.requestsPerSecond, std::optional<double>(50));
    QCOMPARE(d.value->key.burst, std::optional<qint64>(100));
    QVERIFY(!d.value->user.concurrentRequests);  // built in: unset, so unlimited
    QVERIFY(!d.value->key.concurrentRequests);

    const qint64 r0 = IdentityTestDatabases::revision(*db);
    LimitOverrides set;
    set.requestsPerSecond = 0.75;
    set.monthlyTokens = 10;
    set.concurrentRequests = 4;
    const auto r = admin.setDefaults("key", set, {"burst"});
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    QCOMPARE(r.value->key.requestsPerSecond, std::optional<double>(0.75));
    QCOMPARE(r.value->key.monthlyTokens, std::optional<qint64>(10));
    QCOMPARE(r.value->key.concurrentRequests, std::optional<qint64>(4));
    QCOMPARE(admin.getDefaults().value->key.concurrentRequests, std::optional<qint64>(4));
    QVERIFY(!r.value->key.burst);
    QCOMPARE(r.value->user, d.value->user);  // the other principal is untouched
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    const AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "defaults.set");
    QCOMPARE(a.targetId, "key");
    QCOMPARE(a.details.value("changes").toObject().value("burst").toObject().value("from").toInt(),
             100);

    const Footprint before = footprint(*db);
    VERIFY_ERROR(admin.setDefaults("admin", set), Kind::Invalid, "principal", "\"admin\"");
    LimitOverrides negative;
    negative.burst = -1;
    VERIFY_ERROR(admin.setDefaults("user", negative), Kind::Invalid, "burst", "-1");
    LimitOverrides negativeConcurrent;
    negativeConcurrent.concurrentRequests = -1;
    VERIFY_ERROR(admin.setDefaults("user", negativeConcurrent), Kind::Invalid,
                 "concurrent_requests", "-1");
    QVERIFY(admin.setDefaults("key", set).ok());  // no change, no write
    QCOMPARE(footprint(*db), before);
}

// ---- key material ----

void TestAdminService::plaintextKeyIsNeverStored()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QStringList plaintexts;
    NewKey nk;
    nk.userName = "sam";
    nk.createUser = true;
    nk.name = "laptop";
    nk.models = {"gpt-*"};
    for (int i = 0; i < 3; ++i) {
        const auto c = admin.createKey(nk);
        QVERIFY(c.ok());
        plaintexts << c.value->plaintext;
    }
    // Edits and revocations of those keys (by whole key) must not store it either.
    KeyPatch p;
    p.name = "renamed";
    QVERIFY(admin.updateKey(plaintexts[0], p).ok());
    QVERIFY(admin.revokeKey(plaintexts[1]).ok());

    const QString dump = IdentityTestDatabases::dumpAllTables(*db);
    QVERIFY2(dump.contains("[api_keys]") && dump.contains("[audit_log]"), qPrintable(dump));
    // The audit log's section only: up to the next table's "[name]" line.
    const qsizetype auditAt = dump.indexOf("[audit_log]");
    const qsizetype afterAudit = dump.indexOf("\n[", auditAt + 1);
    const QString audit = dump.mid(auditAt, afterAudit < 0 ? -1 : afterAudit - auditAt);
    for (const QString &key : std::as_const(plaintexts)) {
        QVERIFY2(!dump.contains(key), "plaintext key found in a table");
        QVERIFY(!dump.contains(key.mid(10)));  // not even its random part
        // The hash is in api_keys (that is how keys are found) but not in the audit log.
        const QString hashHex = QString::fromLatin1(ApiKeyCodec::hash(key.toLatin1()).toHex());
        QVERIFY(dump.contains(hashHex));
        QVERIFY2(!audit.contains(hashHex), "key hash found in the audit log");
    }
    if (db->isSqlite()) {
        // The file itself (and its WAL) too.
        db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
        for (const QString &path : {db->url().path, db->url().path + "-wal"}) {
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly))
                continue;
            const QByteArray bytes = f.readAll();
            for (const QString &key : std::as_const(plaintexts))
                QVERIFY2(!bytes.contains(key.toLatin1()), qPrintable(path));
        }
    }
}

// ---- JSON ----

void TestAdminService::jsonShapes()
{
    User u;
    u.id = 7;
    u.name = "tina";
    u.tier = "pro";
    u.limits.requestsPerSecond = 1.5;
    u.createdAt = QDateTime::fromString("2025-01-02T03:04:05.006Z", Qt::ISODateWithMs);
    const QJsonObject uj = IdentityJson::toJson(u);
    QCOMPARE(uj.value("id").toInteger(), 7);
    QCOMPARE(uj.value("name").toString(), "tina");
    QVERIFY(uj.value("email").isNull());
    QCOMPARE(uj.value("tier").toString(), "pro");
    QCOMPARE(uj.value("status").toString(), "active");
    QCOMPARE(uj.value("requests_per_second").toDouble(), 1.5);
    QVERIFY(uj.value("burst").isNull());
    QVERIFY(uj.contains("monthly_tokens"));
    QVERIFY(uj.contains("concurrent_requests"));
    QVERIFY(uj.value("concurrent_requests").isNull());  // inherit
    QCOMPARE(uj.value("created_at").toString(), "2025-01-02T03:04:05.006Z");

    ApiKey k;
    k.id = 3;
    k.userId = 7;
    k.userName = "tina";
    k.prefix = "sk-sluice-AbCd";
    k.hash = QByteArray(32, 'x');
    k.limits.monthlyRequests = 0;
    k.limits.concurrentRequests = 0;
    k.models = {"gpt-*"};
    const QJsonObject kj = IdentityJson::toJson(k, "pro");
    QCOMPARE(kj.value("prefix").toString(), "sk-sluice-AbCd");
    QCOMPARE(kj.value("user").toString(), "tina");
    QCOMPARE(kj.value("user_id").toInteger(), 7);
    QVERIFY(kj.value("tier").isNull());
    QCOMPARE(kj.value("effective_tier").toString(), "pro");
    QCOMPARE(kj.value("monthly_requests").toInteger(), 0);
    QVERIFY(kj.value("monthly_requests").isDouble());  // 0 (unlimited) is not null (inherit)
    QCOMPARE(kj.value("concurrent_requests").toInteger(), 0);
    QVERIFY(kj.value("concurrent_requests").isDouble());
    QCOMPARE(kj.value("models").toArray().size(), 1);
    QVERIFY(kj.value("last_used_at").isNull());
    QVERIFY(kj.value("expires_at").isNull());
    QVERIFY(!kj.contains("hash"));
    QVERIFY(!kj.contains("key"));
    QVERIFY(!QJsonDocument(kj).toJson().contains("xxxx"));
    QVERIFY(!IdentityJson::toJson(k).contains("effective_tier"));
    const QJsonObject created = IdentityJson::toJson(CreatedKey{k, "sk-sluice-secret"});
    QCOMPARE(created.value("key").toString(), "sk-sluice-secret");

    Tier t;
    t.name = "free";
    t.limits.requestsPerMinute = 100;
    const QJsonObject tj = IdentityJson::toJson(t);
    QCOMPARE(tj.value("name").toString(), "free");
    QCOMPARE(tj.value("requests_per_minute").toInteger(), 100);
    QVERIFY(tj.value("requests_per_second").isNull());
    t.limits.concurrentRequests = 4;
    QCOMPARE(IdentityJson::toJson(t).value("concurrent_requests").toInteger(), 4);

    EffectiveLimits effective;
    effective.requestsPerSecond = 2;
    effective.concurrentRequests = 3;
    const QJsonObject ej = IdentityJson::toJson(effective);
    QCOMPARE(ej.keys(),
             QStringList({"burst", "concurrent_requests", "monthly_requests", "monthly_tokens",
                          "requests_per_minute", "requests_per_second", "tokens_per_minute"}));
    QCOMPARE(ej.value("concurrent_requests").toInteger(), 3);
    QCOMPARE(ej.value("requests_per_second").toDouble(), 2.0);

    PrincipalDefaults d;
    d.user.burst = 200;
    const QJsonObject dj = IdentityJson::toJson(d);
    QCOMPARE(dj.value("user").toObject().value("burst").toInteger(), 200);
    QVERIFY(dj.value("key").toObject().value("burst").isNull());
    QVERIFY(dj.value("key").toObject().contains("concurrent_requests"));
}

void TestAdminService::jsonParsers()
{
    AdminError e;
    auto obj = [](const char *json) { return QJsonDocument::fromJson(json).object(); };

    const auto nu = IdentityJson::newUserFromJson(
        obj(R"({"name":"uma","email":"u@x.io","tier":"pro","burst":5,"requests_per_second":0.5,
                "monthly_tokens":null,"concurrent_requests":3})"),
        &e);
    QVERIFY2(nu, qPrintable(e.message));
    QCOMPARE(nu->name, "uma");
    QCOMPARE(nu->email, "u@x.io");
    QCOMPARE(nu->tier, "pro");
    QCOMPARE(nu->limits.burst, std::optional<qint64>(5));
    QCOMPARE(nu->limits.requestsPerSecond, std::optional<double>(0.5));
    QVERIFY(!nu->limits.monthlyTokens);
    QCOMPARE(nu->limits.concurrentRequests, std::optional<qint64>(3));

    const auto up = IdentityJson::userPatchFromJson(
        obj(R"({"email":null,"status":"disabled","burst":null,"requests_per_minute":60})"), &e);
    QVERIFY2(up, qPrintable(e.message));
    QCOMPARE(up->email, std::optional<QString>(""));
    QCOMPARE(up->status, std::optional<QString>("disabled"));
    QVERIFY(!up->tier);
    QCOMPARE(up->clearLimits, QStringList({"burst"}));
    QCOMPARE(up->limits.requestsPerMinute, std::optional<qint64>(60));
    const auto empty = IdentityJson::userPatchFromJson({}, &e);
    QVERIFY(empty && !empty->email && !empty->tier && !empty->status && empty->limits.isEmpty());

    const auto nk = IdentityJson::newKeyFromJson(
        obj(R"({"user":"vic","create_user":true,"name":"ci","tier":null,"models":["a*","b"],
                "expires_at":"2031-02-03T04:05:06Z","tokens_per_minute":1000})"),
        &e);
    QVERIFY2(nk, qPrintable(e.message));
    QCOMPARE(nk->userName, "vic");
    QVERIFY(nk->createUser);
    QCOMPARE(nk->name, "ci");
    QVERIFY(nk->tier.isEmpty());
    QCOMPARE(nk->models, QStringList({"a*", "b"}));
    QCOMPARE(nk->expiresAt, QDateTime::fromString("2031-02-03T04:05:06Z", Qt::ISODate));
    QCOMPARE(nk->limits.tokensPerMinute, std::optional<qint64>(1000));
    const auto byId =
        IdentityJson::newKeyFromJson(obj(R"({"user":42,"expires_at":"2031-02-03"})"), &e);
    QVERIFY2(byId, qPrintable(e.message));
    QCOMPARE(byId->userName, "42");
    QCOMPARE(Timestamp::toText(byId->expiresAt), "2031-02-03T00:00:00.000Z");

    const auto kp = IdentityJson::keyPatchFromJson(
        obj(R"({"tier":null,"models":null,"expires_at":null,"name":"n","burst":null})"), &e);
    QVERIFY2(kp, qPrintable(e.message));
    QCOMPARE(kp->tier, std::optional<QString>(""));
    QCOMPARE(kp->models, std::optional<QStringList>(QStringList()));
    QVERIFY(kp->expiresAt && !kp->expiresAt->isValid());
    QCOMPARE(kp->name, std::optional<QString>("n"));
    QCOMPARE(kp->clearLimits, QStringList({"burst"}));
    const auto kp2 =
        IdentityJson::keyPatchFromJson(obj(R"({"expires_at":"2031-01-01T12:00:00+02:00"})"), &e);
    QVERIFY(kp2);
    QCOMPARE(Timestamp::toText(*kp2->expiresAt), "2031-01-01T10:00:00.000Z");

    const auto lp = IdentityJson::limitsPatchFromJson(
        obj(R"({"name":"free","requests_per_minute":100,"monthly_requests":null})"), &e,
        {"name", "created_at", "updated_at"});
    QVERIFY2(lp, qPrintable(e.message));
    QCOMPARE(lp->limits.requestsPerMinute, std::optional<qint64>(100));
    QCOMPARE(lp->clearLimits, QStringList({"monthly_requests"}));
    const auto lpc =
        IdentityJson::limitsPatchFromJson(obj(R"({"concurrent_requests":null,"burst":2})"), &e);
    QVERIFY2(lpc, qPrintable(e.message));
    QCOMPARE(lpc->clearLimits, QStringList({"concurrent_requests"}));
    QCOMPARE(lpc->limits.burst, std::optional<qint64>(2));
    const auto kpc = IdentityJson::keyPatchFromJson(obj(R"({"concurrent_requests":0})"), &e);
    QVERIFY2(kpc, qPrintable(e.message));
    QCOMPARE(kpc->limits.concurrentRequests, std::optional<qint64>(0));
    QVERIFY(kpc->clearLimits.isEmpty());

    // Round trip: a user's JSON read back as a new user.
    User u;
    u.name = "wes";
    u.limits.tokensPerMinute = 9;
    u.limits.concurrentRequests = 5;
    QJsonObject back = IdentityJson::toJson(u);
    for (const char *readOnly : {"id", "status", "created_at"})
        back.remove(readOnly);
    const auto again = IdentityJson::newUserFromJson(back, &e);
    QVERIFY2(again, qPrintable(e.message));
    QCOMPARE(again->limits, u.limits);
}

void TestAdminService::jsonParserErrors_data()
{
    QTest::addColumn<QString>("parser");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("shadow string") << "tierpatch" << QByteArray(R"({"shadow":"yes"})") << "shadow"
                                   << "shadow must be true or false, got \"yes\"";
    QTest::newRow("tier shadow null") << "tierpatch" << QByteArray(R"({"shadow":null})") << "shadow"
                                      << "shadow must be true or false, got null";
    QTest::newRow("key shadow number") << "keypatch" << QByteArray(R"({"shadow":1})") << "shadow"
                                       << "shadow must be true, false or null, got 1";
    QTest::newRow("model_limits array")
        << "tierpatch" << QByteArray(R"({"model_limits":["gpt-4o"]})") << "model_limits"
        << "model_limits must be an object of model names or globs to limits, got an array";
    QTest::newRow("model entry number")
        << "keypatch" << QByteArray(R"({"model_limits":{"gpt-4o":5}})") << "model_limits"
        << "model_limits of \"gpt-4o\" must be an object of limits or null, got 5";
    QTest::newRow("model entry null on create")
        << "key" << QByteArray(R"({"user":"a","model_limits":{"gpt-4o":null}})") << "model_limits"
        << "model_limits of \"gpt-4o\" must be an object of limits, got null";
    QTest::newRow("model entry bad value")
        << "tierpatch" << QByteArray(R"({"model_limits":{"claude-*":{"burst":-1}}})")
        << "model_limits"
        << "model_limits of \"claude-*\": burst must be a non-negative integer, got -1";
    QTest::newRow("model entry unknown field")
        << "tierpatch" << QByteArray(R"({"model_limits":{"gpt-4o":{"tpm":5}}})") << "model_limits"
        << "unknown field \"tpm\"";
    QTest::newRow("rpm string")
        << "user" << QByteArray(R"({"name":"a","requests_per_minute":"abc"})")
        << "requests_per_minute"
        << "requests_per_minute must be a non-negative integer, got \"abc\"";
    QTest::newRow("rpm fraction") << "user"
                                  << QByteArray(R"({"name":"a","requests_per_minute":1.5})")
                                  << "requests_per_minute"
                                  << "got 1.5";
    QTest::newRow("burst negative") << "userpatch" << QByteArray(R"({"burst":-2})") << "burst"
                                    << "non-negative integer, got -2";
    QTest::newRow("rps negative") << "limits" << QByteArray(R"({"requests_per_second":-0.1})")
                                  << "requests_per_second"
                                  << "non-negative number, got -0.1";
    QTest::newRow("rps bool") << "keypatch" << QByteArray(R"({"requests_per_second":true})")
                              << "requests_per_second"
                              << "got true";
    QTest::newRow("concurrent fraction")
        << "limits" << QByteArray(R"({"concurrent_requests":2.5})") << "concurrent_requests"
        << "concurrent_requests must be a non-negative integer, got 2.5";
    QTest::newRow("concurrent negative")
        << "keypatch" << QByteArray(R"({"concurrent_requests":-1})") << "concurrent_requests"
        << "got -1";
    QTest::newRow("concurrent string")
        << "user" << QByteArray(R"({"name":"a","concurrent_requests":"4"})")
        << "concurrent_requests"
        << "got \"4\"";
    QTest::newRow("huge") << "key" << QByteArray(R"({"user":"a","monthly_tokens":1e300})")
                          << "monthly_tokens"
                          << "monthly_tokens";
    QTest::newRow("name missing") << "user" << QByteArray(R"({"email":"a@b.c"})") << "name"
                                  << "name is required";
    QTest::newRow("name number") << "user" << QByteArray(R"({"name":5})") << "name"
                                 << "name must be a string, got 5";
    QTest::newRow("unknown field") << "user" << QByteArray(R"({"name":"a","rpm":5})") << "rpm"
                                   << "unknown field \"rpm\"";
    QTest::newRow("status null") << "userpatch" << QByteArray(R"({"status":null})") << "status"
                                 << "got null";
    QTest::newRow("tier array") << "userpatch" << QByteArray(R"({"tier":["pro"]})") << "tier"
                                << "got an array";
    QTest::newRow("user missing") << "key" << QByteArray(R"({"name":"k"})") << "user"
                                  << "user is required";
    QTest::newRow("user negative id") << "key" << QByteArray(R"({"user":-1})") << "user"
                                      << "got -1";
    QTest::newRow("create_user string")
        << "key" << QByteArray(R"({"user":"a","create_user":"yes"})") << "create_user"
        << "true or false, got \"yes\"";
    QTest::newRow("models string")
        << "key" << QByteArray(R"({"user":"a","models":"gpt-4"})") << "models"
        << "array of strings, got \"gpt-4\"";
    QTest::newRow("models number inside")
        << "keypatch" << QByteArray(R"({"models":["a",1]})") << "models"
        << "got 1 in it";
    QTest::newRow("expires garbage")
        << "key" << QByteArray(R"({"user":"a","expires_at":"soon"})") << "expires_at"
        << "got \"soon\"";
    QTest::newRow("expires number")
        << "keypatch" << QByteArray(R"({"expires_at":123})") << "expires_at"
        << "got 123";
    QTest::newRow("limits unknown") << "limits" << QByteArray(R"({"name":"x"})") << "name"
                                    << "unknown field \"name\"";
    QTest::newRow("key hash field") << "keypatch" << QByteArray(R"({"hash":"00"})") << "hash"
                                    << "unknown field";
}

void TestAdminService::jsonParserErrors()
{
    QFETCH(QString, parser);
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    QFETCH(QString, mentions);
    const QJsonObject obj = QJsonDocument::fromJson(json).object();
    QVERIFY(!obj.isEmpty());
    AdminError e;
    bool parsed = true;
    if (parser == "user")
        parsed = IdentityJson::newUserFromJson(obj, &e).has_value();
    else if (parser == "userpatch")
        parsed = IdentityJson::userPatchFromJson(obj, &e).has_value();
    else if (parser == "key")
        parsed = IdentityJson::newKeyFromJson(obj, &e).has_value();
    else if (parser == "keypatch")
        parsed = IdentityJson::keyPatchFromJson(obj, &e).has_value();
    else if (parser == "tierpatch")
        parsed = IdentityJson::tierPatchFromJson(obj, &e).has_value();
    else
        parsed = IdentityJson::limitsPatchFromJson(obj, &e).has_value();
    QVERIFY(!parsed);
    QCOMPARE(e.kind, Kind::Invalid);
    QCOMPARE(e.httpStatus(), 400);
    QCOMPARE(e.field, field);
    QVERIFY2(e.message.contains(mentions), qPrintable(e.message));
}

namespace {

ModelLimitEdit modelEdit(const QString &model, const QString &field, const QVariant &value,
                         const QStringList &clear = {})
{
    ModelLimitEdit edit{model, false, {}, clear};
    LimitFields::setValue(edit.limits, field, value);
    return edit;
}

}  // namespace

void TestAdminService::tierShadowAndModelLimits()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(!admin.getTier("pro").value->shadow);  // built-ins enforce
    const qint64 r0 = IdentityTestDatabases::revision(*db);

    // A new tier with shadow mode and two model entries.
    TierPatch create;
    create.limits.requestsPerMinute = 100;
    create.shadow = true;
    create.modelLimits.edits = {modelEdit("gpt-4o", "tokens_per_minute", 1000),
                                modelEdit("claude-*", "requests_per_second", 0.5)};
    auto r = admin.setTier("trial", create);
    QVERIFY2(r.ok(), r.error ? qPrintable(r.error->message) : "");
    QVERIFY(r.value->shadow);
    QCOMPARE(r.value->limits.requestsPerMinute, std::optional<qint64>(100));
    QCOMPARE(r.value->modelLimits.size(), 2);
    QCOMPARE(r.value->modelLimits.at(0).model, "claude-*");
    QCOMPARE(r.value->modelLimits.at(1).limits.tokensPerMinute, std::optional<qint64>(1000));
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "tier.set");
    QVERIFY(a.details.value("shadow").toBool());
    QCOMPARE(a.details.value("model_limits")
                 .toObject()
                 .value("gpt-4o")
                 .toObject()
                 .value("tokens_per_minute")
                 .toInt(),
             1000);

    // Patch: one field set, one cleared, one entry added, one removed; shadow left alone.
    TierPatch edit;
    edit.modelLimits.edits = {modelEdit("gpt-4o", "burst", 5, {"tokens_per_minute"}),
                              {"claude-*", true, {}, {}},
                              modelEdit("o?-mini", "monthly_tokens", 0)};
    r = admin.setTier("trial", edit);
    QVERIFY(r.ok());
    QVERIFY(r.value->shadow);
    QCOMPARE(r.value->modelLimits.size(), 2);
    QCOMPARE(r.value->modelLimits.at(0).model, "gpt-4o");
    QCOMPARE(r.value->modelLimits.at(0).limits.burst, std::optional<qint64>(5));
    QVERIFY(!r.value->modelLimits.at(0).limits.tokensPerMinute);
    QCOMPARE(r.value->modelLimits.at(1).model, "o?-mini");
    QCOMPARE(r.value->modelLimits.at(1).limits.monthlyTokens, std::optional<qint64>(0));
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 2);
    a = lastAudit(*db);
    const QJsonObject change =
        a.details.value("changes").toObject().value("model_limits").toObject();
    QVERIFY(change.value("from").toObject().contains("claude-*"));
    QVERIFY(!change.value("to").toObject().contains("claude-*"));
    QVERIFY(!a.details.value("changes").toObject().contains("shadow"));

    // Nothing changes: no write, no bump (removing a missing entry, shadow as it is).
    TierPatch same;
    same.shadow = true;
    same.modelLimits.edits = {{"not-there", true, {}, {}}};
    QVERIFY(admin.setTier("trial", same).ok());
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 2);

    // Shadow off; replace drops every entry not named.
    TierPatch replace;
    replace.shadow = false;
    replace.modelLimits.replace = true;
    replace.modelLimits.edits = {modelEdit("gpt-4.1", "requests_per_minute", 7)};
    r = admin.setTier("trial", replace);
    QVERIFY(r.ok());
    QVERIFY(!r.value->shadow);
    QCOMPARE(r.value->modelLimits.size(), 1);
    QCOMPARE(r.value->modelLimits.at(0).model, "gpt-4.1");
    a = lastAudit(*db);
    QCOMPARE(a.details.value("changes").toObject().value("shadow").toObject().value("to"),
             QJsonValue(false));
    QCOMPARE(IdentityTestDatabases::scalar(
                 *db, "SELECT COUNT(*) FROM model_limits WHERE owner_kind = 'tier' AND owner = ?",
                 {"trial"}),
             1);
    // The list has them too.
    const auto tiers = admin.listTiers();
    QVERIFY(tiers.ok());
    for (const Tier &t : *tiers.value) {
        if (t.name == QLatin1String("trial"))
            QCOMPARE(t.modelLimits, r.value->modelLimits);
    }
}

void TestAdminService::keyShadowAndModelLimits()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    NewKey nk;
    nk.userName = "alice";
    nk.createUser = true;
    nk.shadow = true;
    LimitOverrides gpt;
    gpt.tokensPerMinute = 500;
    nk.modelLimits = {{"gpt-4o", gpt}};
    const auto created = admin.createKey(nk);
    QVERIFY2(created.ok(), created.error ? qPrintable(created.error->message) : "");
    const ApiKey &key = created.value->key;
    QCOMPARE(key.shadow, std::optional<bool>(true));
    QCOMPARE(key.modelLimits, QList<ModelLimit>({{"gpt-4o", gpt}}));
    AuditRow a = lastAudit(*db);
    QCOMPARE(a.action, "key.create");
    QVERIFY(a.details.value("shadow").toBool());
    QVERIFY(a.details.value("model_limits").toObject().contains("gpt-4o"));
    const QString id = QString::number(key.id);
    QCOMPARE(admin.getKey(id).value->modelLimits, key.modelLimits);

    // Back to the tier's shadow mode; one entry edited, one added.
    const qint64 r0 = IdentityTestDatabases::revision(*db);
    KeyPatch patch;
    patch.shadow.emplace(std::nullopt);
    patch.modelLimits.edits = {modelEdit("gpt-4o", "concurrent_requests", 1),
                               modelEdit("claude-*", "tokens_per_minute", 50)};
    auto r = admin.updateKey(id, patch);
    QVERIFY(r.ok());
    QVERIFY(!r.value->shadow.has_value());
    QCOMPARE(r.value->modelLimits.size(), 2);
    QCOMPARE(r.value->modelLimits.at(1).model, "gpt-4o");
    QCOMPARE(r.value->modelLimits.at(1).limits.tokensPerMinute, std::optional<qint64>(500));
    QCOMPARE(r.value->modelLimits.at(1).limits.concurrentRequests, std::optional<qint64>(1));
    QCOMPARE(IdentityTestDatabases::revision(*db), r0 + 1);
    a = lastAudit(*db);
    QCOMPARE(a.action, "key.update");
    QCOMPARE(a.details.value("changes").toObject().value("shadow").toObject(),
             QJsonObject({{"from", true}, {"to", QJsonValue::Null}}));

    // Explicitly off; the entries removed.
    KeyPatch off;
    off.shadow.emplace(false);
    off.modelLimits.edits = {{"gpt-4o", true, {}, {}}, {"claude-*", true, {}, {}}};
    r = admin.updateKey(id, off);
    QVERIFY(r.ok());
    QCOMPARE(r.value->shadow, std::optional<bool>(false));
    QVERIFY(r.value->modelLimits.isEmpty());
    QCOMPARE(IdentityTestDatabases::scalar(*db, "SELECT COUNT(*) FROM model_limits"), 0);
    const auto listed = admin.listKeys({}, {});
    QVERIFY(listed.ok());
    QCOMPARE(listed.value->first().shadow, std::optional<bool>(false));
}

void TestAdminService::modelLimitErrors()
{
    auto db = fresh();
    QVERIFY(db);
    AdminService admin(*db, "test");
    QVERIFY(admin.createUser({"alice", {}, {}, {}}).ok());
    const Footprint before = footprint(*db);

    TierPatch spaced;
    spaced.modelLimits.edits = {modelEdit("gpt 4o", "burst", 1)};
    VERIFY_ERROR(admin.setTier("pro", spaced), Kind::Invalid, "model_limits", "\"gpt 4o\"");
    TierPatch empty;
    empty.modelLimits.edits = {modelEdit("", "burst", 1)};
    VERIFY_ERROR(admin.setTier("pro", empty), Kind::Invalid, "model_limits", "model_limits");
    TierPatch twice;
    twice.modelLimits.edits = {modelEdit("a", "burst", 1), modelEdit("a", "burst", 2)};
    VERIFY_ERROR(admin.setTier("pro", twice), Kind::Invalid, "model_limits", "\"a\" twice");
    TierPatch negative;
    negative.modelLimits.edits = {modelEdit("gpt-4o", "tokens_per_minute", -5)};
    VERIFY_ERROR(admin.setTier("pro", negative), Kind::Invalid, "model_limits",
                 "model_limits of \"gpt-4o\": tokens_per_minute must be a non-negative integer");
    TierPatch removeAndSet;
    removeAndSet.modelLimits.edits = {modelEdit("gpt-4o", "burst", 1)};
    removeAndSet.modelLimits.edits.first().remove = true;
    VERIFY_ERROR(admin.setTier("pro", removeAndSet), Kind::Invalid, "model_limits",
                 "both removed and given limits");
    TierPatch tooMany;
    for (int i = 0; i < 101; ++i)
        tooMany.modelLimits.edits.append(modelEdit(QStringLiteral("m%1").arg(i), "burst", 1));
    VERIFY_ERROR(admin.setTier("pro", tooMany), Kind::Invalid, "model_limits", "at most 100");
    NewKey nk;
    nk.userName = "alice";
    nk.modelLimits = {{"bad model", {}}};
    VERIFY_ERROR(admin.createKey(nk), Kind::Invalid, "model_limits", "\"bad model\"");
    QCOMPARE(footprint(*db), before);
}

void TestAdminService::modelLimitsJson()
{
    Tier t;
    t.name = "pro";
    t.shadow = true;
    LimitOverrides gpt;
    gpt.tokensPerMinute = 1000;
    t.modelLimits = {{"gpt-4o", gpt}};
    const QJsonObject tier = IdentityJson::toJson(t);
    QCOMPARE(tier.value("shadow"), QJsonValue(true));
    const QJsonObject entry = tier.value("model_limits").toObject().value("gpt-4o").toObject();
    QCOMPARE(entry.value("tokens_per_minute").toInt(), 1000);
    QVERIFY(entry.contains("burst") && entry.value("burst").isNull());
    ApiKey k;
    QVERIFY(IdentityJson::toJson(k).value("shadow").isNull());  // inherit
    QCOMPARE(IdentityJson::toJson(k).value("model_limits"), QJsonValue(QJsonObject()));
    k.shadow = false;
    QCOMPARE(IdentityJson::toJson(k).value("shadow"), QJsonValue(false));

    // A tier patch: fields set and cleared per model, null removes; resource members ignored.
    AdminError e;
    const auto patch = IdentityJson::tierPatchFromJson(
        QJsonDocument::fromJson(R"({"name":"pro","shadow":false,"model_limits":{
            "gpt-4o":{"tokens_per_minute":5,"burst":null},"claude-*":null}})")
            .object(),
        &e, {"name"});
    QVERIFY2(patch, qPrintable(e.message));
    QCOMPARE(patch->shadow, std::optional<bool>(false));
    QCOMPARE(patch->modelLimits.edits.size(), 2);
    const ModelLimitEdit &claude = patch->modelLimits.edits.at(0);  // object keys are sorted
    QCOMPARE(claude.model, "claude-*");
    QVERIFY(claude.remove);
    const ModelLimitEdit &g = patch->modelLimits.edits.at(1);
    QCOMPARE(g.limits.tokensPerMinute, std::optional<qint64>(5));
    QCOMPARE(g.clearLimits, QStringList({"burst"}));
    // A key patch: shadow null = the tier's; absent = unchanged.
    auto keyPatch = IdentityJson::keyPatchFromJson(QJsonObject{{"shadow", QJsonValue::Null}}, &e);
    QVERIFY(keyPatch && keyPatch->shadow && !keyPatch->shadow->has_value());
    keyPatch = IdentityJson::keyPatchFromJson(QJsonObject{{"name", "x"}}, &e);
    QVERIFY(keyPatch && !keyPatch->shadow && keyPatch->modelLimits.isEmpty());
    const auto newKey = IdentityJson::newKeyFromJson(
        QJsonDocument::fromJson(
            R"({"user":"a","shadow":true,"model_limits":{"gpt-4o":{"burst":2,"rpm":null}}})")
            .object(),
        &e);
    QVERIFY(!newKey);  // "rpm" is not a limit field
    QVERIFY2(e.message.contains("unknown field \"rpm\""), qPrintable(e.message));
}

QTEST_GUILESS_MAIN(TestAdminService)
#include "tst_adminservice.moc"
