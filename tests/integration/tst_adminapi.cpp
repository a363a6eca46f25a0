// Integration tests of the admin REST API (/admin/v1): the real sluice binary in a child
// process, on SQLite and on a fresh PostgreSQL database per test, spoken to over HTTP. Covers
// every endpoint and error path, pagination, and that a plaintext key is shown once and then
// never again: not by the API, not in the database, not in the log.

#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "PgTestDatabase.h"
#include "TestFixtures.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QSqlDatabase>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>
#include <memory>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 15000;
constexpr qint64 kMaxBody = 1024 * 1024;  // AdminApi::MaxBodyBytes

QByteArray randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    for (char &c : raw)
        c = char(QRandomGenerator::global()->bounded(256));
    return raw.toHex();
}

// A chat completion the mock upstream answers with usage.
const QByteArray kChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":20})";

QByteArray compact(const QJsonObject &json)
{
    return QJsonDocument(json).toJson(QJsonDocument::Compact);
}

// ---- the admin API as a client sees it -----------------------------------------------------

class AdminClient
{
public:
    quint16 port = 0;
    QByteArray token;

    // Adds the bearer token (unless `headers` has an Authorization) and, with a body, the JSON
    // content type (unless `headers` has a Content-Type).
    HttpReply call(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
                   HttpHeaderList headers = {}) const
    {
        auto has = [&headers](QByteArrayView name) {
            for (const auto &h : headers) {
                if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0)
                    return true;
            }
            return false;
        };
        if (!token.isEmpty() && !has("Authorization"))
            headers.append({QByteArray("Authorization"), "Bearer " + token});
        if (!body.isEmpty() && !has("Content-Type"))
            headers.append({QByteArray("Content-Type"), QByteArray("application/json")});
        return httpRequest(port, method, target, headers, body, 10000);
    }
    HttpReply get(const QByteArray &target) const { return call("GET", target); }
    HttpReply post(const QByteArray &target, const QByteArray &body) const
    {
        return call("POST", target, body);
    }
    HttpReply patch(const QByteArray &target, const QByteArray &body) const
    {
        return call("PATCH", target, body);
    }
    HttpReply put(const QByteArray &target, const QByteArray &body) const
    {
        return call("PUT", target, body);
    }
    HttpReply del(const QByteArray &target) const { return call("DELETE", target); }
};

// Empty when `r` is the admin API's error answer with that status and code, and with `field`
// when given ("" = a null field); otherwise what differs, for QVERIFY2.
QByteArray errorMismatch(const HttpReply &r, int status, const QString &code,
                         const std::optional<QString> &field = std::nullopt)
{
    if (r.status != status)
        return "expected " + QByteArray::number(status) + ", got " + r.describe();
    if (!r.header("Content-Type").startsWith("application/json"))
        return "not JSON: " + r.header("Content-Type");
    const QJsonObject e = r.json().value(QStringLiteral("error")).toObject();
    const QString message = e.value(QStringLiteral("message")).toString();
    if (message.isEmpty() || e.value(QStringLiteral("type")).toString().isEmpty())
        return "no message or type: " + r.describe();
    if (e.value(QStringLiteral("code")).toString() != code)
        return "expected code " + code.toUtf8() + ": " + r.describe();
    if (!e.contains(QStringLiteral("field")))
        return "no field member: " + r.describe();
    if (!field)
        return {};
    const QJsonValue f = e.value(QStringLiteral("field"));
    if (field->isEmpty() ? !f.isNull() : f.toString() != *field)
        return "expected field " + (field->isEmpty() ? QByteArray("null") : field->toUtf8()) +
               ": " + r.describe();
    // A 400 names the field at fault in its message too.
    if (status == 400 && !field->isEmpty() && !message.contains(*field))
        return "the message does not name " + field->toUtf8() + ": " + r.describe();
    return {};
}

#define VERIFY_ERROR(reply, status, ...)                                        \
    do {                                                                        \
        const QByteArray mismatch_ = errorMismatch(reply, status, __VA_ARGS__); \
        QVERIFY2(mismatch_.isEmpty(), mismatch_.constData());                   \
    } while (false)

#define VERIFY_STATUS(reply, expected)                                        \
    do {                                                                      \
        const HttpReply &reply_ = (reply);                                    \
        QVERIFY2(reply_.status == (expected), reply_.describe().constData()); \
    } while (false)

QStringList namesOf(const QJsonArray &rows)
{
    QStringList names;
    for (const QJsonValue &row : rows)
        names << row.toObject().value(QStringLiteral("name")).toString();
    return names;
}

}  // namespace

class TestAdminApi : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void withoutTokenEveryCallIs503_data() { backends(); }
    void withoutTokenEveryCallIs503();
    void authentication_data() { backends(); }
    void authentication();
    void users_data() { backends(); }
    void users();
    void keys_data() { backends(); }
    void keys();
    void tiers_data() { backends(); }
    void tiers();
    void shadowAndModelLimits_data() { backends(); }
    void shadowAndModelLimits();
    void defaults_data() { backends(); }
    void defaults();
    void pagination_data() { backends(); }
    void pagination();
    void malformedRequests_data() { backends(); }
    void malformedRequests();
    void metricsAndAccessLog();
    void monitoring();
    void adminPortInUseExits1();

private:
    static void backends();
    QProcessEnvironment environment(bool withToken) const;
    // The gateway on the data row's backend, with the admin API on a port of its own.
    bool launch(GatewayProcess &gw, AdminClient *admin, bool withToken = true,
                const QStringList &extraArgs = {});
    // Fails the test when a secret shows up in the data dir's files, the PostgreSQL database
    // or the log. Call after the gateway exited (its last log lines and WAL are then written).
    void verifyNowhere(GatewayProcess &gw, const QList<QByteArray> &secrets);
    bool stop(GatewayProcess &gw);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<PgTestDatabase> m_pg;
    QByteArray m_token;
};

void TestAdminApi::initTestCase()
{
    QVERIFY2(QFileInfo(kBinary).isExecutable(), qPrintable(kBinary + " is not executable"));
    QVERIFY2(QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")),
             "the QPSQL driver is missing (libqt6sql6-psql)");
}

void TestAdminApi::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_token = "adm-" + randomHex(24);
}

void TestAdminApi::cleanup()
{
    m_pg.reset();  // drops the database
    m_dir.reset();
}

void TestAdminApi::backends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

QProcessEnvironment TestAdminApi::environment(bool withToken) const
{
    QProcessEnvironment env = GatewayProcess::cleanEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir->path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir->path() + QStringLiteral("/xdg"));
    if (withToken)
        env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(m_token));
    return env;
}

bool TestAdminApi::launch(GatewayProcess &gw, AdminClient *admin, bool withToken,
                          const QStringList &extraArgs)
{
    QStringList args = {QStringLiteral("--headless"),
                        QStringLiteral("--listen"),
                        QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--admin-listen"),
                        QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--data-dir"),
                        m_dir->path() + "/data",
                        QStringLiteral("--workers"),
                        QStringLiteral("2"),
                        QStringLiteral("--log-level"),
                        QStringLiteral("debug"),
                        QStringLiteral("--drain-timeout"),
                        QStringLiteral("5")};
    args << extraArgs;
    const QString backend = QString::fromLatin1(QTest::currentDataTag());
    if (backend == QLatin1String("postgres")) {
        m_pg = PgTestDatabase::createForTest(QStringLiteral("sluice_admin"));
        if (!m_pg)
            return false;
        args << QStringLiteral("--db") << m_pg->url();
    }
    gw.setEnvironment(environment(withToken));
    static const QRegularExpression adminLine(
        QStringLiteral(R"(admin API listening on 127\.0\.0\.1:(\d+))"));
    if (!gw.start(args) || !gw.waitForListening(kStartTimeoutMs) ||
        !gw.waitForLog(adminLine, kStartTimeoutMs) || !gw.waitForStartupComplete(kStartTimeoutMs)) {
        QTest::qFail(gw.why().constData(), __FILE__, __LINE__);
        return false;
    }
    admin->port = quint16(adminLine.match(gw.log()).captured(1).toUInt());
    admin->token = withToken ? m_token : QByteArray();
    return admin->port != 0;
}

bool TestAdminApi::stop(GatewayProcess &gw)
{
    gw.terminate();
    return gw.waitForExit(10000) && gw.exitedWith(0);
}

void TestAdminApi::verifyNowhere(GatewayProcess &gw, const QList<QByteArray> &secrets)
{
    const QByteArray log = gw.log().toUtf8() + gw.output().toUtf8();
    QVERIFY(!log.isEmpty());
    // SQLite: every file of the data dir, bytes as stored (database, WAL, shared memory).
    QByteArray files;
    int fileCount = 0;
    QDirIterator it(m_dir->path() + "/data", QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile f(it.next());
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
        files += f.readAll();
        ++fileCount;
    }
    const bool sqlite = !m_pg;
    if (sqlite)
        QVERIFY2(fileCount > 0 && files.contains("api_keys"), "no SQLite database found");
    for (const QByteArray &secret : secrets) {
        QVERIFY(!secret.isEmpty());
        QVERIFY2(!log.contains(secret), "a secret is in the log: " + secret);
        QVERIFY2(!files.contains(secret), "a secret is in the data dir: " + secret);
        // The random part alone must not be stored either (e.g. without the "sk-sluice-").
        const QByteArray tail = secret.right(24);
        QVERIFY2(!log.contains(tail) && !files.contains(tail), "part of a secret is stored");
    }
    if (!m_pg)
        return;
    // PostgreSQL: every row of every table, as text.
    PgSession pg(m_pg->qurl());
    QString why;
    const auto tables =
        pg.rows(QStringLiteral("SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"),
                &why);
    QVERIFY2(tables, qPrintable(why));
    QVERIFY2(tables->contains(QStringLiteral("api_keys")), qPrintable(tables->join(u',')));
    for (const QString &table : *tables) {
        for (const QByteArray &secret : secrets) {
            const auto hits = pg.rows(
                QStringLiteral("SELECT COUNT(*) FROM \"%1\" t WHERE t::text LIKE ?").arg(table),
                &why, {QStringLiteral("%") + QString::fromLatin1(secret.right(24)) + u'%'});
            QVERIFY2(hits, qPrintable(why));
            QVERIFY2(hits->value(0) == QLatin1String("0"),
                     qPrintable(QStringLiteral("a secret is in table %1").arg(table)));
        }
    }
}

// ---- token ---------------------------------------------------------------------------------

void TestAdminApi::withoutTokenEveryCallIs503()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin, false));
    QVERIFY2(gw.log().contains(QStringLiteral("no admin token configured")), gw.why());

    // Every route and method, known or not, with or without an Authorization header.
    const QList<QPair<QByteArray, QByteArray>> calls = {
        {"GET", "/admin/v1/users"},     {"POST", "/admin/v1/users"},   {"GET", "/admin/v1/users/1"},
        {"PATCH", "/admin/v1/users/1"}, {"GET", "/admin/v1/keys"},     {"POST", "/admin/v1/keys"},
        {"DELETE", "/admin/v1/keys/1"}, {"GET", "/admin/v1/tiers"},    {"PUT", "/admin/v1/tiers/x"},
        {"GET", "/admin/v1/defaults"},  {"DELETE", "/admin/v1/users"}, {"GET", "/admin/v1/nothing"},
    };
    for (const auto &[method, target] : calls) {
        for (const QByteArray &auth : {QByteArray(), QByteArray("Bearer anything")}) {
            HttpHeaderList headers;
            if (!auth.isEmpty())
                headers.append({QByteArray("Authorization"), auth});
            const HttpReply r = admin.call(method, target, "{}", headers);
            VERIFY_ERROR(r, 503, QStringLiteral("admin_token_not_configured"), QString());
            const QString message = r.json()["error"].toObject()["message"].toString();
            QVERIFY2(message.contains(QStringLiteral("SLUICE_ADMIN_TOKEN")), qPrintable(message));
            QVERIFY2(message.contains(QStringLiteral("admin_token")), qPrintable(message));
        }
    }
    // The data plane is not affected.
    QCOMPARE(httpGet(gw.port(), "/health/live").status, 200);
    QVERIFY2(stop(gw), gw.why());
}

void TestAdminApi::authentication()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    const QList<QPair<const char *, QByteArray>> refused = {
        {"missing_admin_token", QByteArray()},
        {"missing_admin_token", "Bearer"},
        {"missing_admin_token", "Bearer   "},
        {"missing_admin_token", "Basic " + m_token.toBase64()},
        {"missing_admin_token", m_token},
        {"invalid_admin_token", "Bearer wrong"},
        {"invalid_admin_token", "Bearer " + m_token + "x"},
        {"invalid_admin_token", "Bearer " + m_token.chopped(1)},
        {"invalid_admin_token", "Bearer " + m_token.toUpper()},
    };
    for (const auto &[code, auth] : refused) {
        for (const QByteArray &target :
             {QByteArray("/admin/v1/users"), QByteArray("/admin/v1/x")}) {
            HttpHeaderList headers;
            headers.append({QByteArray("Authorization"), auth});
            const HttpReply r = admin.call("GET", target, {}, headers);
            VERIFY_ERROR(r, 401, QLatin1String(code));
            QVERIFY2(r.header("WWW-Authenticate").startsWith("Bearer"), r.describe());
            QVERIFY(!r.body.contains(m_token));
        }
    }
    VERIFY_STATUS(admin.get("/admin/v1/users"), 200);
    // The scheme is case-insensitive; surrounding blanks are not part of the token.
    VERIFY_STATUS(
        admin.call("GET", "/admin/v1/users", {}, {{"Authorization", "bearer " + m_token}}), 200);
    VERIFY_STATUS(
        admin.call("GET", "/admin/v1/users", {}, {{"Authorization", "BEARER  " + m_token + " "}}),
        200);
    // The data plane does not take the admin token as an API key, and has no admin routes.
    QVERIFY(
        httpGet(gw.port(), "/admin/v1/users", {{"Authorization", "Bearer " + m_token}}).status ==
        404);

    QVERIFY2(stop(gw), gw.why());
    verifyNowhere(gw, {m_token});
}

// ---- users ---------------------------------------------------------------------------------

void TestAdminApi::users()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    HttpReply r = admin.post("/admin/v1/users", R"({"name":"alice","email":"alice@example.com"})");
    VERIFY_STATUS(r, 201);
    QJsonObject alice = r.json();
    const qint64 id = alice["id"].toInteger();
    QVERIFY(id > 0);
    QCOMPARE(r.header("Location"), "/admin/v1/users/" + QByteArray::number(id));
    QCOMPARE(r.header("Cache-Control"), QByteArray("no-store"));
    QCOMPARE(alice["name"].toString(), QStringLiteral("alice"));
    QCOMPARE(alice["email"].toString(), QStringLiteral("alice@example.com"));
    QCOMPARE(alice["tier"].toString(), QStringLiteral("free"));  // the default tier
    QCOMPARE(alice["status"].toString(), QStringLiteral("active"));
    QVERIFY(alice["created_at"].toString().endsWith(u'Z'));
    for (const char *limit :
         {"requests_per_second", "burst", "requests_per_minute", "tokens_per_minute",
          "monthly_requests", "monthly_tokens", "concurrent_requests"})
        QVERIFY2(alice.contains(QLatin1String(limit)) && alice[QLatin1String(limit)].isNull(),
                 limit);

    // By id and by name.
    r = admin.get("/admin/v1/users/" + QByteArray::number(id));
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json(), alice);
    r = admin.get("/admin/v1/users/alice");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json(), alice);
    VERIFY_ERROR(admin.get("/admin/v1/users/nobody"), 404, QStringLiteral("not_found"),
                 QStringLiteral("user"));
    VERIFY_ERROR(admin.get("/admin/v1/users/999999"), 404, QStringLiteral("not_found"),
                 QStringLiteral("user"));

    // Creation errors, each naming its field; none of them creates anything.
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"alice"})"), 409,
                 QStringLiteral("conflict"), QStringLiteral("name"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"email":"x@example.com"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bad name!"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","email":"not-an-email"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("email"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","tier":"nope"})"), 404,
                 QStringLiteral("not_found"), QStringLiteral("tier"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","tier":7})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("tier"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","requests_per_minute":-1})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("requests_per_minute"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","burst":"10"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("burst"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","concurrent_requests":-1})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","concurrent_requests":0.5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.post("/admin/v1/users", R"({"name":"bob","rpm":10})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("rpm"));
    VERIFY_ERROR(admin.get("/admin/v1/users/bob"), 404, QStringLiteral("not_found"),
                 QStringLiteral("user"));

    r = admin.post(
        "/admin/v1/users",
        R"({"name":"bob","tier":"pro","requests_per_second":2.5,"burst":5,"concurrent_requests":3})");
    VERIFY_STATUS(r, 201);
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("pro"));
    QCOMPARE(r.json()["requests_per_second"].toDouble(), 2.5);
    QCOMPARE(r.json()["burst"].toInteger(), 5);
    QCOMPARE(r.json()["concurrent_requests"].toInteger(), 3);
    QCOMPARE(admin.get("/admin/v1/users/bob").json()["concurrent_requests"].toInteger(), 3);
    QVERIFY(r.json()["email"].isNull());

    // PATCH: set, clear with null, leave the rest.
    r = admin.patch("/admin/v1/users/alice",
                    R"({"tier":"pro","requests_per_minute":500,"concurrent_requests":2})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("pro"));
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 500);
    QCOMPARE(r.json()["concurrent_requests"].toInteger(), 2);
    QCOMPARE(admin.get("/admin/v1/users/alice").json()["concurrent_requests"].toInteger(), 2);
    QCOMPARE(r.json()["email"].toString(), QStringLiteral("alice@example.com"));
    r = admin.patch("/admin/v1/users/" + QByteArray::number(id),
                    R"({"requests_per_minute":null,"email":null,"concurrent_requests":null})");
    VERIFY_STATUS(r, 200);
    QVERIFY(r.json()["requests_per_minute"].isNull());
    QVERIFY(r.json()["concurrent_requests"].isNull());
    QVERIFY(admin.get("/admin/v1/users/alice").json()["concurrent_requests"].isNull());
    QVERIFY(r.json()["email"].isNull());
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("pro"));

    // No partial writes: a valid email with an unknown tier changes nothing.
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"email":"a@example.com","tier":"no"})"),
                 404, QStringLiteral("not_found"), QStringLiteral("tier"));
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"email":"a@example.com","burst":-3})"),
                 400, QStringLiteral("invalid_value"), QStringLiteral("burst"));
    QVERIFY(admin.get("/admin/v1/users/alice").json()["email"].isNull());
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"status":"gone"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("status"));
    // Renaming: the same rules as a new user's name, never onto another user's; the id (and
    // with it keys, usage and limits) stays.
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"name":"bob"})"), 409,
                 QStringLiteral("conflict"), QStringLiteral("name"));
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"name":"has space"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    VERIFY_ERROR(admin.patch("/admin/v1/users/alice", R"({"name":""})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    const qint64 aliceId = admin.get("/admin/v1/users/alice").json()["id"].toInteger();
    r = admin.patch("/admin/v1/users/alice", R"({"name":"alice2"})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["id"].toInteger(), aliceId);
    VERIFY_ERROR(admin.get("/admin/v1/users/alice"), 404, QStringLiteral("not_found"),
                 QStringLiteral("user"));
    VERIFY_STATUS(admin.patch("/admin/v1/users/alice2", R"({"name":"alice"})"), 200);
    VERIFY_ERROR(admin.patch("/admin/v1/users/nobody", R"({"tier":"pro"})"), 404,
                 QStringLiteral("not_found"), QStringLiteral("user"));

    // Disable with PATCH status.
    r = admin.patch("/admin/v1/users/alice", R"({"status":"disabled"})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["status"].toString(), QStringLiteral("disabled"));

    // Lists and filters.
    r = admin.get("/admin/v1/users");
    VERIFY_STATUS(r, 200);
    QCOMPARE(namesOf(r.json()["data"].toArray()), (QStringList{"alice", "bob"}));
    QVERIFY(r.json().contains(QStringLiteral("next_after")));
    QVERIFY(r.json()["next_after"].isNull());
    QCOMPARE(namesOf(admin.get("/admin/v1/users?status=disabled").json()["data"].toArray()),
             QStringList{"alice"});
    QCOMPARE(namesOf(admin.get("/admin/v1/users?status=active").json()["data"].toArray()),
             QStringList{"bob"});
    QCOMPARE(namesOf(admin.get("/admin/v1/users?tier=pro&name=bo").json()["data"].toArray()),
             QStringList{"bob"});
    QCOMPARE(admin.get("/admin/v1/users?tier=free").json()["data"].toArray().size(), 0);
    VERIFY_ERROR(admin.get("/admin/v1/users?status=gone"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("status"));
    VERIFY_ERROR(admin.get("/admin/v1/users?sort=name"), 400, QStringLiteral("unknown_parameter"),
                 QStringLiteral("sort"));

    QVERIFY2(stop(gw), gw.why());
}

// ---- keys ----------------------------------------------------------------------------------

void TestAdminApi::keys()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));
    QList<QByteArray> plaintexts;
    static const QRegularExpression keyShape(QStringLiteral("^sk-sluice-[0-9A-Za-z]{32,}$"));

    VERIFY_STATUS(admin.post("/admin/v1/users", R"({"name":"alice"})"), 201);

    HttpReply r = admin.post(
        "/admin/v1/keys",
        R"({"user":"alice","name":"ci","models":["gpt-4o*"],"expires_at":"2099-12-31"})");
    VERIFY_STATUS(r, 201);
    QJsonObject key = r.json();
    const QByteArray plaintext = key["key"].toString().toLatin1();
    plaintexts << plaintext;
    QVERIFY2(keyShape.match(QString::fromLatin1(plaintext)).hasMatch(), plaintext);
    const qint64 id = key["id"].toInteger();
    const QByteArray idText = QByteArray::number(id);
    const QByteArray prefix = key["prefix"].toString().toLatin1();
    QVERIFY2(plaintext.startsWith(prefix) && prefix.size() < plaintext.size() / 2, prefix);
    QCOMPARE(r.header("Location"), "/admin/v1/keys/" + idText);
    QCOMPARE(r.header("Cache-Control"), QByteArray("no-store"));
    QCOMPARE(key["user"].toString(), QStringLiteral("alice"));
    QCOMPARE(key["name"].toString(), QStringLiteral("ci"));
    QCOMPARE(key["status"].toString(), QStringLiteral("active"));
    QVERIFY(key["tier"].isNull());
    QCOMPARE(key["models"].toArray(), QJsonArray({QStringLiteral("gpt-4o*")}));
    QVERIFY(key["expires_at"].toString().startsWith(QStringLiteral("2099-12-31T00:00:00")));
    QVERIFY(key["last_used_at"].isNull());
    QVERIFY(key.contains(QStringLiteral("concurrent_requests")));
    QVERIFY(key["concurrent_requests"].isNull());
    QVERIFY(!key.contains(QStringLiteral("hash")));

    // Never again: not by id, not by prefix, not in a list.
    auto noPlaintext = [&](const HttpReply &reply) {
        return reply.status == 200 && !reply.body.contains(plaintext) &&
               !reply.body.contains(plaintext.right(24)) && !reply.body.contains("\"key\"") &&
               !reply.body.contains("hash");
    };
    r = admin.get("/admin/v1/keys/" + idText);
    QVERIFY2(noPlaintext(r), r.describe());
    key.remove(QStringLiteral("key"));
    QCOMPARE(r.json(), key);
    r = admin.get("/admin/v1/keys/" + prefix);
    QVERIFY2(noPlaintext(r), r.describe());
    QCOMPARE(r.json()["id"].toInteger(), id);
    r = admin.get("/admin/v1/keys");
    QVERIFY2(noPlaintext(r), r.describe());
    QCOMPARE(r.json()["data"].toArray().size(), 1);
    QCOMPARE(r.json()["data"].toArray().first().toObject(), key);

    // Creation errors.
    VERIFY_ERROR(admin.post("/admin/v1/keys", "{}"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("user"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"nobody"})"), 404,
                 QStringLiteral("not_found"), QStringLiteral("user"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","models":"gpt-4o"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("models"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","expires_at":"soon"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("expires_at"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","expires_at":"2001-01-01"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("expires_at"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","tier":"nope"})"), 404,
                 QStringLiteral("not_found"), QStringLiteral("tier"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","monthly_tokens":1.5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("monthly_tokens"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","concurrent_requests":"2"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.post("/admin/v1/keys", R"({"user":"alice","create_user":"yes"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("create_user"));
    QCOMPARE(admin.get("/admin/v1/keys").json()["data"].toArray().size(), 1);

    // create_user makes the user; a numeric user is an id.
    r = admin.post("/admin/v1/keys", R"({"user":"carol","create_user":true,"tier":"pro"})");
    VERIFY_STATUS(r, 201);
    plaintexts << r.json()["key"].toString().toLatin1();
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("pro"));
    const qint64 carolId = r.json()["user_id"].toInteger();
    VERIFY_STATUS(admin.get("/admin/v1/users/carol"), 200);
    r = admin.post("/admin/v1/keys", "{\"user\":" + QByteArray::number(carolId) + "}");
    VERIFY_STATUS(r, 201);
    plaintexts << r.json()["key"].toString().toLatin1();
    QCOMPARE(r.json()["user"].toString(), QStringLiteral("carol"));
    QVERIFY(plaintexts[1] != plaintexts[2]);

    // PATCH: name, tier, limits, models; null clears.
    r = admin.patch("/admin/v1/keys/" + idText,
                    R"({"name":"ci-2","tier":"pro","requests_per_second":2.5,"models":["a","b*"],
                        "concurrent_requests":0})");
    VERIFY_STATUS(r, 200);
    QVERIFY2(noPlaintext(r), r.describe());
    QCOMPARE(r.json()["name"].toString(), QStringLiteral("ci-2"));
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("pro"));
    QCOMPARE(r.json()["requests_per_second"].toDouble(), 2.5);
    QCOMPARE(r.json()["concurrent_requests"].toInteger(-1), 0);  // 0 = unlimited, not null
    QVERIFY(!r.json()["concurrent_requests"].isNull());
    QCOMPARE(admin.get("/admin/v1/keys/" + idText).json()["concurrent_requests"].toInteger(-1), 0);
    QCOMPARE(r.json()["models"].toArray().size(), 2);
    r = admin.patch("/admin/v1/keys/" + idText,
                    R"({"tier":null,"requests_per_second":null,"models":null,"expires_at":null,
                        "concurrent_requests":null})");
    VERIFY_STATUS(r, 200);
    QVERIFY(r.json()["tier"].isNull());
    QVERIFY(r.json()["requests_per_second"].isNull());
    QVERIFY(r.json()["concurrent_requests"].isNull());
    QCOMPARE(r.json()["models"].toArray().size(), 0);
    QVERIFY(r.json()["expires_at"].isNull());
    QCOMPARE(r.json()["name"].toString(), QStringLiteral("ci-2"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/" + idText, R"({"requests_per_second":"fast"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("requests_per_second"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/" + idText, R"({"concurrent_requests":-3})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/" + idText, R"({"name":"x","tier":"nope"})"), 404,
                 QStringLiteral("not_found"), QStringLiteral("tier"));
    QCOMPARE(admin.get("/admin/v1/keys/" + idText).json()["name"].toString(),
             QStringLiteral("ci-2"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/" + idText, R"({"user":"carol"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("user"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/999999", R"({"name":"x"})"), 404,
                 QStringLiteral("not_found"));

    // Filters.
    QCOMPARE(admin.get("/admin/v1/keys?user=carol").json()["data"].toArray().size(), 2);
    QCOMPARE(admin.get("/admin/v1/keys?user=" + QByteArray::number(carolId))
                 .json()["data"]
                 .toArray()
                 .size(),
             2);
    QCOMPARE(admin.get("/admin/v1/keys?user=alice").json()["data"].toArray().size(), 1);
    // The tier filter matches the effective tier: the key's own, else its user's.
    QCOMPARE(admin.get("/admin/v1/keys?tier=pro").json()["data"].toArray().size(), 1);
    QCOMPARE(admin.get("/admin/v1/keys?tier=free").json()["data"].toArray().size(), 2);

    // DELETE revokes, answers the revoked key, and is idempotent.
    r = admin.del("/admin/v1/keys/" + idText);
    VERIFY_STATUS(r, 200);
    QVERIFY2(noPlaintext(r), r.describe());
    QCOMPARE(r.json()["status"].toString(), QStringLiteral("revoked"));
    QCOMPARE(r.json()["id"].toInteger(), id);
    r = admin.del("/admin/v1/keys/" + prefix);
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["status"].toString(), QStringLiteral("revoked"));
    QCOMPARE(admin.get("/admin/v1/keys/" + idText).json()["status"].toString(),
             QStringLiteral("revoked"));
    VERIFY_ERROR(admin.patch("/admin/v1/keys/" + idText, R"({"name":"again"})"), 409,
                 QStringLiteral("conflict"));
    VERIFY_ERROR(admin.del("/admin/v1/keys/999999"), 404, QStringLiteral("not_found"));
    VERIFY_ERROR(admin.del("/admin/v1/keys/sk-sluice-zzzz"), 404, QStringLiteral("not_found"));
    QCOMPARE(admin.get("/admin/v1/keys?status=revoked").json()["data"].toArray().size(), 1);
    QCOMPARE(admin.get("/admin/v1/keys?status=active").json()["data"].toArray().size(), 2);
    VERIFY_ERROR(admin.get("/admin/v1/keys?status=expired"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("status"));

    // The revoked key does not authenticate on the data plane (within the cache's second).
    HttpReply data;
    for (int i = 0; i < 40; ++i) {
        data = httpGet(gw.port(), "/v1/models", {{"Authorization", "Bearer " + plaintext}});
        if (data.status == 401)
            break;
        QTest::qWait(50);
    }
    QCOMPARE(data.status, 401);

    QVERIFY2(stop(gw), gw.why());
    plaintexts << m_token;
    verifyNowhere(gw, plaintexts);
}

// ---- shadow mode and per-model limits --------------------------------------------------------

void TestAdminApi::shadowAndModelLimits()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    HttpReply r = admin.get("/admin/v1/tiers/pro");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["shadow"], QJsonValue(false));
    QCOMPARE(r.json()["model_limits"], QJsonValue(QJsonObject()));

    // PATCH sets shadow mode and model entries; a later PATCH edits one field of one entry.
    r = admin.patch("/admin/v1/tiers/pro", R"({"shadow":true,"model_limits":{
        "gpt-4o":{"tokens_per_minute":1000,"burst":5},"claude-*":{"requests_per_minute":60}}})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["shadow"], QJsonValue(true));
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 1000);  // the tier's own untouched
    QCOMPARE(r.json()["model_limits"][QStringLiteral("gpt-4o")][QStringLiteral("tokens_per_minute")]
                 .toInteger(),
             1000);
    QCOMPARE(
        r.json()["model_limits"][QStringLiteral("claude-*")][QStringLiteral("requests_per_minute")]
            .toInteger(),
        60);
    QVERIFY(r.json()["model_limits"][QStringLiteral("claude-*")][QStringLiteral("burst")].isNull());
    r = admin.patch("/admin/v1/tiers/pro",
                    R"({"model_limits":{"gpt-4o":{"burst":null},"claude-*":null}})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["shadow"], QJsonValue(true));
    QCOMPARE(r.json()["model_limits"].toObject().keys(), QStringList({"gpt-4o"}));
    QVERIFY(r.json()["model_limits"][QStringLiteral("gpt-4o")][QStringLiteral("burst")].isNull());
    QCOMPARE(r.json()["model_limits"][QStringLiteral("gpt-4o")][QStringLiteral("tokens_per_minute")]
                 .toInteger(),
             1000);
    QCOMPARE(admin.get("/admin/v1/tiers/pro").json()["model_limits"], r.json()["model_limits"]);

    // A tier sent back whole keeps them; a PUT without them clears them and leaves shadow mode.
    QJsonObject pro = admin.get("/admin/v1/tiers/pro").json();
    r = admin.put("/admin/v1/tiers/pro", compact(pro));
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["model_limits"], pro["model_limits"]);
    QCOMPARE(r.json()["shadow"], QJsonValue(true));
    r = admin.put("/admin/v1/tiers/pro", R"({"requests_per_minute":1000})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["shadow"], QJsonValue(false));
    QCOMPARE(r.json()["model_limits"], QJsonValue(QJsonObject()));

    // Keys: shadow true/false/null (the tier's) and their own model entries.
    r = admin.post("/admin/v1/keys", R"({"user":"erin","create_user":true,"shadow":true,
        "model_limits":{"gpt-4o-mini":{"requests_per_second":0.5}}})");
    VERIFY_STATUS(r, 201);
    const QByteArray path = "/admin/v1/keys/" + QByteArray::number(r.json()["id"].toInteger());
    QCOMPARE(r.json()["shadow"], QJsonValue(true));
    QCOMPARE(r.json()["model_limits"][QStringLiteral("gpt-4o-mini")]
                     [QStringLiteral("requests_per_second")]
                         .toDouble(),
             0.5);
    r = admin.patch(path, R"({"shadow":null,"model_limits":{"gpt-4o-mini":null,"o?":{}}})");
    VERIFY_STATUS(r, 200);
    QVERIFY(r.json()["shadow"].isNull());
    QCOMPARE(r.json()["model_limits"].toObject().keys(), QStringList({"o?"}));
    r = admin.get(path);
    QVERIFY(r.json()["shadow"].isNull());
    QCOMPARE(r.json()["model_limits"].toObject().keys(), QStringList({"o?"}));

    // Errors: 400 naming the field, nothing written.
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/pro", R"({"shadow":"yes"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("shadow"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/pro", R"({"model_limits":{"gpt 4o":{"burst":1}}})"),
                 400, QStringLiteral("invalid_value"), QStringLiteral("model_limits"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/pro", R"({"model_limits":{"x":{"burst":-1}}})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("model_limits"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/pro", R"({"model_limits":[]})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("model_limits"));
    VERIFY_ERROR(admin.patch(path, R"({"model_limits":{"x":{"tpm":1}}})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("model_limits"));
    VERIFY_ERROR(admin.patch(path, R"({"shadow":1})"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("shadow"));
    QCOMPARE(admin.get("/admin/v1/tiers/pro").json()["model_limits"], QJsonValue(QJsonObject()));
    QCOMPARE(admin.get(path).json()["model_limits"].toObject().keys(), QStringList({"o?"}));
}

// ---- tiers ---------------------------------------------------------------------------------

void TestAdminApi::tiers()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    HttpReply r = admin.get("/admin/v1/tiers");
    VERIFY_STATUS(r, 200);
    const QStringList names = namesOf(r.json()["data"].toArray());
    for (const char *tier : {"free", "pro", "enterprise", "partner", "anonymous"})
        QVERIFY2(names.contains(QLatin1String(tier)), qPrintable(names.join(u',')));
    r = admin.get("/admin/v1/tiers/free");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 100);
    QCOMPARE(r.json()["monthly_requests"].toInteger(), 50000);
    QVERIFY(r.json().contains(QStringLiteral("concurrent_requests")));
    QVERIFY(r.json()["concurrent_requests"].isNull());
    QCOMPARE(admin.get("/admin/v1/tiers/enterprise").json()["concurrent_requests"].toInteger(-1),
             0);
    VERIFY_ERROR(admin.get("/admin/v1/tiers/nope"), 404, QStringLiteral("not_found"));

    // PUT creates, PATCH changes what it names, null clears, PUT replaces the whole set.
    r = admin.put("/admin/v1/tiers/team", R"({"requests_per_minute":600,"burst":50})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["name"].toString(), QStringLiteral("team"));
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 600);
    QCOMPARE(r.json()["burst"].toInteger(), 50);
    QVERIFY(r.json()["tokens_per_minute"].isNull());
    r = admin.patch("/admin/v1/tiers/team",
                    R"({"tokens_per_minute":100000,"burst":null,"concurrent_requests":4})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 600);
    QCOMPARE(r.json()["tokens_per_minute"].toInteger(), 100000);
    QVERIFY(r.json()["burst"].isNull());
    QCOMPARE(r.json()["concurrent_requests"].toInteger(), 4);
    r = admin.put("/admin/v1/tiers/team", R"({"requests_per_minute":700})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 700);
    QVERIFY(r.json()["tokens_per_minute"].isNull());
    QVERIFY(r.json()["concurrent_requests"].isNull());  // PUT replaces the whole set
    // A tier as GET shows it can be sent back whole.
    QJsonObject team = admin.get("/admin/v1/tiers/team").json();
    team[QStringLiteral("monthly_tokens")] = 0;  // 0 = unlimited
    team[QStringLiteral("concurrent_requests")] = 9;
    r = admin.put("/admin/v1/tiers/team", compact(team));
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["monthly_tokens"].toInteger(), 0);
    QCOMPARE(r.json()["concurrent_requests"].toInteger(), 9);
    QVERIFY(!r.json()["monthly_tokens"].isNull());
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 700);
    r = admin.patch("/admin/v1/tiers/pro", R"({"requests_per_second":1.5})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["requests_per_second"].toDouble(), 1.5);
    QCOMPARE(r.json()["requests_per_minute"].toInteger(), 1000);

    // Errors name their field and write nothing.
    VERIFY_ERROR(admin.put("/admin/v1/tiers/team", R"({"name":"other"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"requests_per_second":-1})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("requests_per_second"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"burst":1.5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("burst"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"monthly_requests":"lots"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("monthly_requests"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"concurrent_requests":1.5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"concurrent":1})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent"));
    VERIFY_ERROR(admin.patch("/admin/v1/tiers/team", R"({"rpm":5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("rpm"));
    VERIFY_ERROR(admin.put("/admin/v1/tiers/bad%20name", R"({"burst":1})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("name"));
    QCOMPARE(admin.get("/admin/v1/tiers/team").json()["requests_per_minute"].toInteger(), 700);
    QCOMPARE(admin.get("/admin/v1/tiers/team").json()["concurrent_requests"].toInteger(), 9);
    VERIFY_ERROR(admin.get("/admin/v1/tiers/bad%20name"), 404, QStringLiteral("not_found"));

    // The new tier is usable at once.
    r = admin.post("/admin/v1/users", R"({"name":"dora","tier":"team"})");
    VERIFY_STATUS(r, 201);
    QCOMPARE(r.json()["tier"].toString(), QStringLiteral("team"));
    QVERIFY(namesOf(admin.get("/admin/v1/tiers").json()["data"].toArray())
                .contains(QStringLiteral("team")));

    QVERIFY2(stop(gw), gw.why());
}

// ---- per-principal defaults ----------------------------------------------------------------

void TestAdminApi::defaults()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    HttpReply r = admin.get("/admin/v1/defaults");
    VERIFY_STATUS(r, 200);
    const QJsonObject user = r.json()["user"].toObject();
    const QJsonObject key = r.json()["key"].toObject();
    QCOMPARE(user["requests_per_second"].toDouble(), 100.0);
    QCOMPARE(user["burst"].toInteger(), 200);
    QCOMPARE(key["requests_per_second"].toDouble(), 50.0);
    QCOMPARE(key["burst"].toInteger(), 100);
    for (const QJsonObject &d : {user, key}) {
        QVERIFY(d.contains(QStringLiteral("concurrent_requests")));
        QVERIFY(d["concurrent_requests"].isNull());  // no built-in concurrency limit
    }
    r = admin.get("/admin/v1/defaults/user");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json(), user);

    r = admin.patch("/admin/v1/defaults/key",
                    R"({"requests_per_second":10,"concurrent_requests":4})");
    VERIFY_STATUS(r, 200);
    QCOMPARE(r.json()["requests_per_second"].toDouble(), 10.0);
    QCOMPARE(r.json()["burst"].toInteger(), 100);
    QCOMPARE(r.json()["concurrent_requests"].toInteger(), 4);
    QCOMPARE(admin.get("/admin/v1/defaults/key").json()["concurrent_requests"].toInteger(), 4);
    r = admin.put("/admin/v1/defaults/key", R"({"burst":20})");
    VERIFY_STATUS(r, 200);
    QVERIFY(r.json()["requests_per_second"].isNull());
    QVERIFY(r.json()["concurrent_requests"].isNull());
    QCOMPARE(r.json()["burst"].toInteger(), 20);
    QCOMPARE(admin.get("/admin/v1/defaults").json()["key"].toObject(), r.json());
    QCOMPARE(admin.get("/admin/v1/defaults").json()["user"].toObject(), user);

    VERIFY_ERROR(admin.patch("/admin/v1/defaults/user", R"({"burst":-5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("burst"));
    VERIFY_ERROR(admin.patch("/admin/v1/defaults/user", R"({"concurrent_requests":-5})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("concurrent_requests"));
    VERIFY_ERROR(admin.patch("/admin/v1/defaults/user", R"({"tier":"pro"})"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("tier"));
    VERIFY_ERROR(admin.get("/admin/v1/defaults/team"), 404, QStringLiteral("not_found"));
    VERIFY_ERROR(admin.put("/admin/v1/defaults/admin", R"({"burst":1})"), 404,
                 QStringLiteral("not_found"));
    QCOMPARE(admin.get("/admin/v1/defaults/user").json(), user);

    QVERIFY2(stop(gw), gw.why());
}

// ---- pagination ----------------------------------------------------------------------------

void TestAdminApi::pagination()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    QStringList created;
    for (int i = 1; i <= 5; ++i) {
        const QString name = QStringLiteral("user%1").arg(i);
        VERIFY_STATUS(admin.post("/admin/v1/users", compact({{QStringLiteral("name"), name}})),
                      201);
        VERIFY_STATUS(admin.post("/admin/v1/keys", compact({{QStringLiteral("user"), name}})), 201);
        created << name;
    }

    for (const QByteArray &collection : {QByteArray("users"), QByteArray("keys")}) {
        QList<qint64> ids;
        QByteArray target = "/admin/v1/" + collection + "?limit=2";
        int pages = 0;
        for (;;) {
            const HttpReply r = admin.get(target);
            VERIFY_STATUS(r, 200);
            const QJsonArray data = r.json()["data"].toArray();
            QVERIFY(data.size() <= 2);
            for (const QJsonValue &row : data)
                ids << row.toObject()["id"].toInteger();
            ++pages;
            const QJsonValue next = r.json()["next_after"];
            if (next.isNull())
                break;
            QCOMPARE(next.toInteger(), ids.last());
            target = "/admin/v1/" + collection +
                     "?limit=2&after=" + QByteArray::number(next.toInteger());
            QVERIFY(pages < 10);
        }
        QCOMPARE(ids.size(), 5);
        QCOMPARE(pages, 3);  // 2 + 2 + 1
        for (int i = 1; i < ids.size(); ++i)
            QVERIFY(ids[i] > ids[i - 1]);
        // A full last page is followed by an empty one.
        const HttpReply last =
            admin.get("/admin/v1/" + collection + "?limit=1&after=" + QByteArray::number(ids[3]));
        QCOMPARE(last.json()["next_after"].toInteger(), ids[4]);
        const HttpReply empty =
            admin.get("/admin/v1/" + collection + "?after=" + QByteArray::number(ids[4]));
        QCOMPARE(empty.json()["data"].toArray().size(), 0);
        QVERIFY(empty.json()["next_after"].isNull());

        for (const char *bad :
             {"limit=0", "limit=1001", "limit=abc", "limit=", "limit=1e3", "limit=99999999999"})
            VERIFY_ERROR(admin.get("/admin/v1/" + collection + "?" + bad), 400,
                         QStringLiteral("invalid_value"), QStringLiteral("limit"));
        for (const char *bad : {"after=-1", "after=x"})
            VERIFY_ERROR(admin.get("/admin/v1/" + collection + "?" + bad), 400,
                         QStringLiteral("invalid_value"), QStringLiteral("after"));
        VERIFY_ERROR(admin.get("/admin/v1/" + collection + "?offset=2"), 400,
                     QStringLiteral("unknown_parameter"), QStringLiteral("offset"));
        VERIFY_STATUS(admin.get("/admin/v1/" + collection + "?limit=1000"), 200);
    }
    QCOMPARE(namesOf(admin.get("/admin/v1/users?name=user3").json()["data"].toArray()),
             QStringList{"user3"});
    QVERIFY2(stop(gw), gw.why());
}

// ---- HTTP-level errors ---------------------------------------------------------------------

void TestAdminApi::malformedRequests()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    // Bodies that are not a JSON object.
    for (const QByteArray &body :
         {QByteArray("{"), QByteArray("[]"), QByteArray("\"alice\""),
          QByteArray("{\"name\":\"x\"} trailing"), QByteArray("   "), QByteArray("\xff\xfe")}) {
        VERIFY_ERROR(admin.post("/admin/v1/users", body), 400, QStringLiteral("invalid_json"));
        VERIFY_ERROR(admin.patch("/admin/v1/tiers/pro", body), 400, QStringLiteral("invalid_json"));
    }
    VERIFY_ERROR(admin.call("POST", "/admin/v1/users"), 400, QStringLiteral("invalid_json"));
    // Content types: JSON (with parameters) passes, anything else is 415; none is accepted.
    VERIFY_ERROR(admin.call("POST", "/admin/v1/users", R"({"name":"x1"})",
                            {{"Content-Type", "application/x-www-form-urlencoded"}}),
                 415, QStringLiteral("unsupported_media_type"));
    VERIFY_ERROR(
        admin.call("POST", "/admin/v1/users", R"({"name":"x1"})", {{"Content-Type", "text/plain"}}),
        415, QStringLiteral("unsupported_media_type"));
    VERIFY_STATUS(admin.call("POST", "/admin/v1/users", R"({"name":"x1"})",
                             {{"Content-Type", "application/json; charset=utf-8"}}),
                  201);
    {
        HttpConnection c;
        QVERIFY(c.connectTo(QStringLiteral("127.0.0.1"), admin.port));
        const QByteArray body = R"({"name":"x2"})";
        c.sendRaw("POST /admin/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + m_token +
                  "\r\nContent-Length: " + QByteArray::number(body.size()) +
                  "\r\nConnection: close\r\n\r\n" + body);
        VERIFY_STATUS(c.readReply(), 201);
    }

    // Oversized bodies are refused by the server (413) before the token is even looked at:
    // announced by Content-Length, and sent in chunks.
    for (const bool withToken : {true, false}) {
        HttpConnection c;
        QVERIFY(c.connectTo(QStringLiteral("127.0.0.1"), admin.port));
        c.sendRaw("POST /admin/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                  (withToken ? "Authorization: Bearer " + m_token + "\r\n" : QByteArray()) +
                  "Content-Length: " + QByteArray::number(kMaxBody + 1) + "\r\n\r\n");
        const HttpReply r = c.readReply();
        QVERIFY2(r.status == 413, r.describe());
        QCOMPARE(r.json()["error"].toObject()["code"].toString(),
                 QStringLiteral("request_too_large"));
    }
    {
        HttpConnection c;
        QVERIFY(c.connectTo(QStringLiteral("127.0.0.1"), admin.port));
        c.sendRaw("PATCH /admin/v1/tiers/pro HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  m_token + "\r\nTransfer-Encoding: chunked\r\n\r\n");
        const QByteArray chunk(256 * 1024, ' ');
        for (int i = 0; i < 5 && c.socket().state() == QAbstractSocket::ConnectedState; ++i)
            c.sendRaw(QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n");
        const HttpReply r = c.readReply();
        QVERIFY2(r.status == 413, r.describe());
    }
    // Just under the limit is read and then judged as JSON.
    {
        QByteArray big = R"({"name":"x3","email":")";
        big += QByteArray(kMaxBody - big.size() - 2, 'a') + "\"}";
        QCOMPARE(big.size(), kMaxBody);
        VERIFY_ERROR(admin.post("/admin/v1/users", big), 400, QStringLiteral("invalid_value"),
                     QStringLiteral("email"));
    }

    // Unknown paths (404) and methods (405 with Allow), after the token check.
    for (const QByteArray &target :
         {QByteArray("/admin/v1/nothing"), QByteArray("/admin/v1/users/"),
          QByteArray("/admin/v1/users/alice/keys"), QByteArray("/admin/v2/users"),
          QByteArray("/admin/v1/keys/1/x"), QByteArray("/admin/v1/usersx")})
        VERIFY_ERROR(admin.get(target), 404, QStringLiteral("not_found"));
    VERIFY_ERROR(admin.call("GET", "/admin/v1/nothing", {}, {{"Authorization", "Bearer no"}}), 401,
                 QStringLiteral("invalid_admin_token"));
    struct Wrong
    {
        const char *method;
        const char *target;
        const char *allow;
    };
    for (const Wrong &w : {Wrong{"DELETE", "/admin/v1/users", "GET, HEAD, POST"},
                           Wrong{"PUT", "/admin/v1/users/1", "GET, HEAD, PATCH"},
                           Wrong{"POST", "/admin/v1/users/1", "GET, HEAD, PATCH"},
                           Wrong{"PATCH", "/admin/v1/keys", "GET, HEAD, POST"},
                           Wrong{"PUT", "/admin/v1/keys/1", "GET, HEAD, PATCH, DELETE"},
                           Wrong{"POST", "/admin/v1/tiers", "GET, HEAD"},
                           Wrong{"DELETE", "/admin/v1/tiers/pro", "GET, HEAD, PUT, PATCH"},
                           Wrong{"POST", "/admin/v1/defaults", "GET, HEAD"}}) {
        const HttpReply r = admin.call(w.method, w.target, "{}");
        VERIFY_ERROR(r, 405, QStringLiteral("method_not_allowed"));
        QCOMPARE(r.header("Allow"), QByteArray(w.allow));
    }
    const HttpReply unauthorized405 =
        admin.call("DELETE", "/admin/v1/users", {}, {{"Authorization", "Bearer no"}});
    QCOMPARE(unauthorized405.status, 401);

    // HEAD answers like GET without a body.
    const HttpReply head = admin.call("HEAD", "/admin/v1/tiers");
    QCOMPARE(head.status, 200);
    QVERIFY(head.body.isEmpty());
    QVERIFY(head.header("Content-Length").toInt() > 0);
    // Query strings on item routes.
    VERIFY_ERROR(admin.get("/admin/v1/tiers/pro?x=1"), 400, QStringLiteral("unknown_parameter"),
                 QStringLiteral("x"));
    // Keep-alive: several calls on one connection.
    {
        HttpConnection c;
        QVERIFY(c.connectTo(QStringLiteral("127.0.0.1"), admin.port));
        for (int i = 0; i < 3; ++i) {
            c.sendRaw("GET /admin/v1/tiers/free HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      m_token + "\r\n\r\n");
            VERIFY_STATUS(c.readReply(), 200);
        }
    }
    QVERIFY2(stop(gw), gw.why());
}

// ---- observability -------------------------------------------------------------------------

void TestAdminApi::metricsAndAccessLog()
{
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin));

    VERIFY_STATUS(admin.post("/admin/v1/users", R"({"name":"alice"})"), 201);
    VERIFY_STATUS(admin.get("/admin/v1/users/alice"), 200);
    VERIFY_STATUS(admin.get("/admin/v1/users/1"), 200);
    VERIFY_STATUS(admin.get("/admin/v1/tiers/free"), 200);
    QCOMPARE(admin.get("/admin/v1/nothing").status, 404);
    QCOMPARE(admin.call("GET", "/admin/v1/users", {}, {{"Authorization", "Bearer no"}}).status,
             401);

    const HttpReply metrics = httpGet(gw.port(), "/metrics");
    QCOMPARE(metrics.status, 200);
    for (
        const QByteArray &sample :
        {QByteArray(
             R"(gateway_requests_total{route="/admin/v1/users",method="POST",code="201"} 1)"),
         QByteArray(
             R"(gateway_requests_total{route="/admin/v1/users/{id}",method="GET",code="200"} 2)"),
         QByteArray(
             R"(gateway_requests_total{route="/admin/v1/tiers/{name}",method="GET",code="200"} 1)"),
         QByteArray(R"(gateway_requests_total{route="/admin/v1/users",method="GET",code="401"} 1)"),
         QByteArray(R"(gateway_requests_total{route="none",method="GET",code="404"} 1)")})
        QVERIFY2(metrics.body.contains(sample), sample + "\n" + metrics.body.left(3000));
    // Raw ids and names never become labels.
    QVERIFY(!metrics.body.contains("route=\"/admin/v1/users/alice\""));

    // Access lines are written in batches every 50 ms: wait for the last one.
    QVERIFY2(gw.waitForLog(QRegularExpression(QStringLiteral("GET /admin/v1/users 401"))),
             gw.why());
    const QString log = gw.log();
    QVERIFY2(log.contains(QStringLiteral("POST /admin/v1/users 201")), qPrintable(log.right(2000)));
    QVERIFY2(log.contains(QStringLiteral("GET /admin/v1/users/alice 200")),
             qPrintable(log.right(2000)));
    QVERIFY(!log.contains(QString::fromLatin1(m_token)));
    QVERIFY2(stop(gw), gw.why());
}

void TestAdminApi::monitoring()
{
    // /v1 traffic through the gateway to the mock upstream, then the dashboard's routes.
    MockUpstream mock;
    QVERIFY2(mock.start(), mock.why().constData());
    const QString ini = m_dir->filePath(QStringLiteral("gateway.ini"));
    QFile file(ini);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("[upstream.openai]\nkind = openai\nbase_url = %1\nmodels = gpt-*\n")
                   .arg(mock.openAiBaseUrl())
                   .toUtf8());
    file.close();
    GatewayProcess gw(kBinary);
    AdminClient admin;
    QVERIFY(launch(gw, &admin, true, {QStringLiteral("--config"), ini}));

    const HttpReply created = admin.post("/admin/v1/keys", R"({"user":"mon","create_user":true})");
    VERIFY_STATUS(created, 201);
    const QByteArray key = created.json()["key"].toString().toUtf8();
    const qint64 keyId = created.json()["id"].toInteger();
    auto chat = [&gw](const QByteArray &bearer) {
        return httpRequest(
            gw.port(), "POST", "/v1/chat/completions",
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + bearer}}, kChat);
    };
    // The key reaches the key cache within about half a second.
    QTRY_COMPARE_WITH_TIMEOUT(chat(key).status, 200, 5000);
    QList<QByteArray> ids;
    for (int i = 0; i < 3; ++i) {
        const HttpReply r = chat(key);
        VERIFY_STATUS(r, 200);
        ids << r.header("X-Request-Id");
        QVERIFY(!ids.last().isEmpty());
    }
    QCOMPARE(chat("sk-sluice-not-a-real-key-at-all-0000000000000000").status, 401);

    // The admin token guards them all.
    for (const QByteArray &target :
         {QByteArray("/admin/v1/series"), QByteArray("/admin/v1/traffic"),
          QByteArray("/admin/v1/overview"), QByteArray("/admin/v1/health")}) {
        QCOMPARE(admin.call("GET", target, {}, {{"Authorization", "Bearer wrong"}}).status, 401);
    }
    QCOMPARE(
        admin.call("POST", "/admin/v1/health/check", {}, {{"Authorization", "Bearer no"}}).status,
        401);

    // Traffic: newest first, our request ids with the key that sent them.
    const HttpReply traffic = admin.get("/admin/v1/traffic?limit=10");
    VERIFY_STATUS(traffic, 200);
    const QJsonArray entries = traffic.json()["data"].toArray();
    QVERIFY2(entries.size() >= 5, traffic.body);
    const QJsonObject newest = entries.at(0).toObject();
    QCOMPARE(newest["status"].toInt(), 401);
    QVERIFY(newest["key_id"].isNull());
    QList<QByteArray> seen;
    for (const QJsonValue &v : entries) {
        const QJsonObject e = v.toObject();
        QCOMPARE(e["route"].toString(), QStringLiteral("/v1/chat/completions"));
        if (e["status"].toInt() == 200) {
            QCOMPARE(e["key_id"].toInteger(), keyId);
            QCOMPARE(e["method"].toString(), QStringLiteral("POST"));
            QVERIFY(e["duration_ms"].toDouble() > 0);
            QVERIFY(e["at"].toString().endsWith(u'Z'));
            seen << e["request_id"].toString().toUtf8();
        }
    }
    for (const QByteArray &id : ids)
        QVERIFY2(seen.contains(id), id + " not in " + traffic.body);
    QCOMPARE(admin.get("/admin/v1/traffic?limit=1").json()["data"].toArray().size(), 1);

    // Series: the sampler reads the metrics once a second.
    double requests = 0, tokens = 0, p95 = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const QJsonObject series = admin.get("/admin/v1/series?seconds=60").json();
            requests = tokens = p95 = 0;
            for (const QJsonValue &v : series["points"].toArray()) {
                const QJsonObject p = v.toObject();
                requests += p["requests_per_second"].toDouble();
                tokens = qMax(tokens, p["tokens_per_minute"].toDouble());
                p95 = qMax(p95, p["latency_p95_seconds"].toDouble());
            }
            return requests >= 5 && tokens > 0;
        }(),
        5000);
    QVERIFY(p95 > 0);
    const QJsonObject series = admin.get("/admin/v1/series").json();
    QCOMPARE(series["interval_seconds"].toInt(), 1);
    QVERIFY(!series["points"].toArray().isEmpty());

    // Overview and health.
    const HttpReply overview = admin.get("/admin/v1/overview");
    VERIFY_STATUS(overview, 200);
    const QJsonObject o = overview.json();
    QCOMPARE(o["active_keys"].toInt(), 1);
    QVERIFY2(o["requests_today"].toDouble() >= 5, overview.body);
    QVERIFY2(o["tokens_today"].toDouble() > 0, overview.body);
    QCOMPARE(o["listen"].toString(), QStringLiteral("127.0.0.1:%1").arg(gw.port()));
    QCOMPARE(o["admin_listen"].toString(), QStringLiteral("127.0.0.1:%1").arg(admin.port));
    QVERIFY(QStringList({"healthy", "degraded", "unhealthy"}).contains(o["health"].toString()));
    QVERIFY(o["uptime_seconds"].toDouble() > 0);
    QVERIFY(!o["version"].toString().isEmpty());

    const HttpReply health = admin.get("/admin/v1/health");
    VERIFY_STATUS(health, 200);
    const QJsonArray components = health.json()["components"].toArray();
    QVERIFY2(components.size() >= 4, health.body);  // database, disk, memory, upstream:openai
    const QString before = health.json()["timestamp"].toString();
    const HttpReply checked = admin.call("POST", "/admin/v1/health/check");
    VERIFY_STATUS(checked, 200);
    QVERIFY2(checked.json()["timestamp"].toString() > before, checked.body);
    QCOMPARE(admin.get("/admin/v1/health/check").status, 405);

    // Parameters out of range.
    VERIFY_ERROR(admin.get("/admin/v1/series?seconds=0"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("seconds"));
    VERIFY_ERROR(admin.get("/admin/v1/series?seconds=3601"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("seconds"));
    VERIFY_ERROR(admin.get("/admin/v1/traffic?limit=501"), 400, QStringLiteral("invalid_value"),
                 QStringLiteral("limit"));
    VERIFY_ERROR(admin.get("/admin/v1/overview?x=1"), 400, QStringLiteral("unknown_parameter"),
                 QStringLiteral("x"));

    // Pausing serving: /v1 answers 503 in its API's shape (authenticated or not), the readiness
    // probe fails so balancers move traffic away, liveness and the admin API keep working;
    // resuming serves again.
    HttpReply serving = admin.get("/admin/v1/serving");
    VERIFY_STATUS(serving, 200);
    QCOMPARE(serving.json()["paused"].toBool(), false);
    serving = admin.put("/admin/v1/serving", "{\"paused\":true}");
    VERIFY_STATUS(serving, 200);
    QCOMPARE(serving.json()["paused"].toBool(), true);
    HttpReply paused = chat(key);
    QCOMPARE(paused.status, 503);
    QCOMPARE(paused.json()["error"].toObject()["code"].toString(),
             QStringLiteral("gateway_paused"));
    QCOMPARE(paused.header("Retry-After"), QByteArray("5"));
    QCOMPARE(chat("sk-sluice-not-a-key").status, 503);
    QCOMPARE(httpGet(gw.port(), "/health/ready").status, 503);
    QCOMPARE(httpGet(gw.port(), "/health/ready").json()["status"].toString(),
             QStringLiteral("paused"));
    QCOMPARE(httpGet(gw.port(), "/health/live").status, 200);
    QCOMPARE(admin.get("/admin/v1/overview").json()["paused"].toBool(), true);
    QVERIFY(gw.waitForLog(QRegularExpression(QStringLiteral("serving paused"))));
    VERIFY_ERROR(admin.put("/admin/v1/serving", "{\"paused\":\"yes\"}"), 400,
                 QStringLiteral("invalid_value"), QStringLiteral("paused"));
    VERIFY_STATUS(admin.put("/admin/v1/serving", "{\"paused\":false}"), 200);
    VERIFY_STATUS(chat(key), 200);
    QCOMPARE(httpGet(gw.port(), "/health/ready").status, 200);
    QVERIFY2(stop(gw), gw.why());
}

void TestAdminApi::adminPortInUseExits1()
{
    QTcpServer blocker;
    QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
    const QString address = QStringLiteral("127.0.0.1:%1").arg(blocker.serverPort());
    GatewayProcess gw(kBinary);
    gw.setEnvironment(environment(true));
    QVERIFY2(gw.start({QStringLiteral("--headless"), QStringLiteral("--listen"),
                       QStringLiteral("127.0.0.1:0"), QStringLiteral("--admin-listen"), address,
                       QStringLiteral("--data-dir"), m_dir->path() + "/data"}),
             gw.why());
    QVERIFY2(gw.waitForExit(15000), gw.why());
    QVERIFY2(gw.exitedWith(1), gw.why());
    QVERIFY2(gw.log().contains(
                 QStringLiteral("cannot start: cannot listen on %1 (admin API)").arg(address)),
             gw.why());
    QVERIFY(blocker.isListening());
}

QTEST_GUILESS_MAIN(TestAdminApi)
#include "tst_adminapi.moc"
