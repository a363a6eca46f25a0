// The dashboard's view models over a fake source: the list models pass
// QAbstractItemModelTester, snapshots become the rows the pages show (effective limits as the
// gateway resolves them), refreshes keep rows in place, edits become the admin edits the
// service validates, and the Dashboard polls and routes answers to the right model.
#include "Dashboard.h"
#include "DashboardSettings.h"
#include "FakeDashboardSource.h"
#include "Formatter.h"
#include "LimitJson.h"
#include "Snippets.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLineSeries>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace sluice;
using namespace sluice::test;

namespace {

QJsonObject limits(std::initializer_list<std::pair<const char *, QJsonValue>> set)
{
    QJsonObject o;
    for (const char *name :
         {"requests_per_second", "burst", "requests_per_minute", "tokens_per_minute",
          "monthly_requests", "monthly_tokens", "concurrent_requests"})
        o.insert(QLatin1String(name), QJsonValue(QJsonValue::Null));
    for (const auto &[name, value] : set)
        o.insert(QLatin1String(name), value);
    return o;
}

QJsonObject with(QJsonObject base, const QJsonObject &more)
{
    for (auto it = more.begin(); it != more.end(); ++it)
        base.insert(it.key(), it.value());
    return base;
}

// alice (free) with two keys, one on "pro" with its own rpm; bob (disabled, pro) with one;
// carol without a key.
KeysSnapshot snapshot()
{
    KeysSnapshot s;
    s.tiers = {with(limits({{"requests_per_minute", 100}, {"burst", 20}}),
                    {{"name", "free"}, {"shadow", false}}),
               with(limits({{"requests_per_minute", 1000}, {"tokens_per_minute", 50000}}),
                    {{"name", "pro"},
                     {"shadow", true},
                     {"model_limits", QJsonObject{{"gpt-4o", limits({})}}}})};
    s.defaults = {{"user", limits({{"requests_per_second", 100}})},
                  {"key", limits({{"requests_per_second", 50}, {"burst", 100}})}};
    s.users = {
        with(limits({}), {{"id", 1}, {"name", "alice"}, {"tier", "free"}, {"status", "active"}}),
        with(limits({}), {{"id", 2}, {"name", "bob"}, {"tier", "pro"}, {"status", "disabled"}}),
        with(limits({{"monthly_requests", 5}}),
             {{"id", 3}, {"name", "carol"}, {"tier", "free"}, {"status", "active"}})};
    s.keys = {with(limits({}), {{"id", 10},
                                {"user_id", 1},
                                {"user", "alice"},
                                {"name", "laptop"},
                                {"prefix", "sk-sluice-AAAA"},
                                {"tier", QJsonValue::Null},
                                {"status", "active"},
                                {"last_used_at", "2026-01-02T03:04:05.000Z"}}),
              with(limits({{"requests_per_minute", 7}}), {{"id", 11},
                                                          {"user_id", 1},
                                                          {"user", "alice"},
                                                          {"name", "ci"},
                                                          {"prefix", "sk-sluice-BBBB"},
                                                          {"tier", "pro"},
                                                          {"status", "revoked"},
                                                          {"last_used_at", QJsonValue::Null}}),
              with(limits({}), {{"id", 12},
                                {"user_id", 2},
                                {"user", "bob"},
                                {"name", ""},
                                {"prefix", "sk-sluice-CCCC"},
                                {"tier", QJsonValue::Null},
                                {"status", "active"},
                                {"last_used_at", QJsonValue::Null}})};
    s.keyCounts = {{"free", 1}, {"pro", 2}};
    s.monthRequests = {{10, 42}};
    s.monthTokens = {{10, 4200}};
    return s;
}

SeriesPoint point(qint64 atMs, double rps)
{
    SeriesPoint p;
    p.atMs = atMs;
    p.requestsPerSecond = rps;
    p.latencyP95Seconds = rps / 100;
    return p;
}

TrafficEntry entry(qint64 atMs, const char *id, int status = 200)
{
    TrafficEntry e;
    e.atMs = atMs;
    e.requestId = id;
    e.method = "POST";
    e.path = "/v1/chat/completions";
    e.status = status;
    e.seconds = 0.25;
    e.userId = "1";
    e.keyId = "10";
    return e;
}

QJsonObject healthReport(const char *db, const char *disk)
{
    return {{"status", QLatin1String(db) == QLatin1String("healthy") ? "healthy" : "unhealthy"},
            {"timestamp", "2026-01-02T03:04:05.000Z"},
            {"components", QJsonArray{QJsonObject{{"name", "database"},
                                                  {"type", "database"},
                                                  {"status", db},
                                                  {"critical", true},
                                                  {"message", "ok"},
                                                  {"latency_ms", 1.5},
                                                  {"checked_at", "2026-01-02T03:04:05.000Z"}},
                                      QJsonObject{{"name", "disk"},
                                                  {"type", "disk"},
                                                  {"status", disk},
                                                  {"critical", false},
                                                  {"message", "12 GB free"},
                                                  {"latency_ms", 0.1},
                                                  {"checked_at", "2026-01-02T03:04:05.000Z"}}}}};
}

}  // namespace

class TestDashboardModels : public QObject
{
    Q_OBJECT

    QTemporaryDir m_settingsDir;

private slots:
    // Settings go to a directory of the test's own, never the user's configuration.
    void initTestCase()
    {
        QVERIFY(m_settingsDir.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
    }

    void overviewHeadlineAndSeries()
    {
        OverviewModel m;
        QSignalSpy changed(&m, &OverviewModel::overviewChanged);
        m.setOverview({{"version", "0.1.0"},
                       {"listen", "127.0.0.1:8081"},
                       {"requests_today", 1234},
                       {"tokens_today", 99},
                       {"active_keys", 3},
                       {"uptime_seconds", 61},
                       {"health", "healthy"}});
        QCOMPARE(changed.count(), 1);
        QCOMPARE(m.requestsToday(), 1234.0);
        QCOMPARE(m.listen(), QStringLiteral("127.0.0.1:8081"));
        QCOMPARE(m.health(), QStringLiteral("healthy"));
        m.setOverview({{"health", QJsonObject{{"status", "degraded"}}}});
        QCOMPARE(m.health(), QStringLiteral("degraded"));

        QVERIFY(!m.hasTraffic());
        QSignalSpy points(&m, &OverviewModel::pointsChanged);
        m.reset({point(1000, 0), point(2000, 0)});
        QVERIFY(!m.hasTraffic());
        // Overlapping batches add only the newer points.
        m.merge({point(2000, 9), point(3000, 2), point(4000, 4)});
        QCOMPARE(m.pointCount(), 4);
        QCOMPARE(m.valueAt(1, "requests"), 0.0);
        QCOMPARE(m.latest("requests"), 4.0);
        QCOMPARE(m.maximum("requests"), 4.0);
        QCOMPARE(m.maximum("p95"), 0.04);
        QCOMPARE(m.maximum("p95_ms"), 40.0);  // what the latency chart plots
        QVERIFY(m.hasTraffic());
        m.merge({point(4000, 1)});
        QCOMPARE(points.count(), 2);  // nothing new: no signal

        // Only the range is kept: 5 minutes back from the newest point.
        m.merge({point(1000 + 5 * 60'000, 1)});
        QCOMPARE(m.pointCount(), 4);
        QCOMPARE(m.rangeEndMs() - m.rangeStartMs(), 5 * 60'000.0);
        m.setRangeMinutes(16);
        QCOMPARE(m.rangeMinutes(), 60);

        QLineSeries series;
        m.fill(&series, "requests");
        QCOMPARE(series.count(), m.pointCount());
        QCOMPARE(series.at(series.count() - 1), QPointF(1000 + 5 * 60'000, 1));
    }

    void keysModelRows()
    {
        KeysModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(!m.loaded());
        m.setSnapshot(snapshot());
        QVERIFY(m.loaded());
        QCOMPARE(m.rowCount(), 4);        // three keys and carol
        QCOMPARE(m.activeKeyCount(), 1);  // bob's key is active but his user is disabled
        QCOMPARE(m.tierNames(), QStringList({"free", "pro"}));

        // alice's keys newest first, then bob, then carol.
        const QVariantMap ci = m.get(0);
        QCOMPARE(ci.value("prefix").toString(), QStringLiteral("sk-sluice-BBBB"));
        QCOMPARE(ci.value("tier").toString(), QStringLiteral("pro"));
        QCOMPARE(ci.value("status").toString(), QStringLiteral("revoked"));
        const QVariantMap ciLimits = ci.value("effective").toMap();
        QCOMPARE(ciLimits.value("requests_per_minute").toDouble(), 7.0);    // its own
        QCOMPARE(ciLimits.value("tokens_per_minute").toDouble(), 50000.0);  // pro's
        QCOMPARE(ciLimits.value("requests_per_second").toDouble(), 50.0);   // key default
        QCOMPARE(ciLimits.value("monthly_tokens").toDouble(), 0.0);         // unlimited
        QCOMPARE(ci.value("overrides").toMap(), QVariantMap({{"requests_per_minute", 7.0}}));

        const QVariantMap laptop = m.get(1);
        QCOMPARE(laptop.value("tier").toString(), QStringLiteral("free"));
        QCOMPARE(laptop.value("ownTier").toString(), QString());
        QCOMPARE(laptop.value("effective").toMap().value("burst").toDouble(), 20.0);
        QCOMPARE(laptop.value("monthRequests").toLongLong(), 42);
        QCOMPARE(laptop.value("monthTokens").toLongLong(), 4200);
        QCOMPARE(m.get(2).value("status").toString(), QStringLiteral("user disabled"));
        const QVariantMap carol = m.get(3);
        QCOMPARE(carol.value("keyId").toLongLong(), 0);
        QCOMPARE(carol.value("status").toString(), QStringLiteral("no key"));
        QCOMPARE(carol.value("userOverrides").toMap(), QVariantMap({{"monthly_requests", 5.0}}));
        QCOMPARE(m.rowOfPrefix("sk-sluice-CCCC"), 2);
        QCOMPARE(m.keyLabels().value(12), QStringLiteral("sk-sluice-CCCC"));
        QCOMPARE(m.userNames().value(3), QStringLiteral("carol"));

        // A refresh with one changed value keeps the rows: dataChanged, no reset.
        QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        KeysSnapshot s = snapshot();
        s.monthRequests[10] = 43;
        m.setSnapshot(s);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().row(), 1);
        // A new key resets.
        s.keys.append(with(limits({}), {{"id", 13},
                                        {"user_id", 3},
                                        {"user", "carol"},
                                        {"prefix", "sk-sluice-DDDD"},
                                        {"status", "active"}}));
        m.setSnapshot(s);
        QCOMPARE(reset.count(), 1);
        QCOMPARE(m.rowCount(), 4);  // carol's row is now her key
    }

    void keysFilter()
    {
        KeysModel keys;
        KeysFilterModel f;
        f.setSourceModel(&keys);
        QAbstractItemModelTester tester(&f, QAbstractItemModelTester::FailureReportingMode::QtTest);
        keys.setSnapshot(snapshot());
        QCOMPARE(f.count(), 4);
        f.setSearch("ALICE");
        QCOMPARE(f.count(), 2);
        f.setSearch("cccc");
        QCOMPARE(f.count(), 1);
        QCOMPARE(keys.get(f.sourceRow(0)).value("userName").toString(), QStringLiteral("bob"));
        f.setSearch("");
        f.setStatus("active");
        QCOMPARE(f.count(), 1);
        f.setStatus("");
        f.setTier("pro");
        QCOMPARE(f.count(), 2);
        f.setSearch("laptop");
        QCOMPARE(f.count(), 0);
    }

    // Sorting keeps a user's rows together: users by their best row in the sort direction,
    // rows within a user by their own value; numbers as numbers, 0 and none as unlimited.
    void keysSort()
    {
        KeysModel keys;
        KeysFilterModel f;
        f.setSourceModel(&keys);
        QAbstractItemModelTester tester(&f, QAbstractItemModelTester::FailureReportingMode::QtTest);
        KeysSnapshot s = snapshot();
        s.monthRequests[12] = 100;  // bob: more than alice's 42, and "100" < "42" as text
        keys.setSnapshot(s);
        auto order = [&] {
            QStringList out;
            for (int row = 0; row < f.rowCount(); ++row) {
                const QVariantMap r = keys.get(f.sourceRow(row));
                const QString prefix = r.value("prefix").toString();
                out << (prefix.isEmpty() ? r.value("userName").toString() : prefix.mid(10));
            }
            return out;
        };
        QCOMPARE(order(), QStringList({"BBBB", "AAAA", "CCCC", "carol"}));  // the model's

        QSignalSpy sortChanged(&f, &KeysFilterModel::sortChanged);
        f.toggleSort("usage");
        QCOMPARE(f.sortKey(), QStringLiteral("usage"));
        QVERIFY(!f.descending());
        // alice's smallest is 0 (ci), as carol's: the model's order between them; bob's 100.
        QCOMPARE(order(), QStringList({"BBBB", "AAAA", "carol", "CCCC"}));
        f.toggleSort("usage");
        QVERIFY(f.descending());
        QCOMPARE(order(), QStringList({"CCCC", "AAAA", "BBBB", "carol"}));
        QCOMPARE(sortChanged.count(), 2);

        // Effective limits; carol (no key) sorts by her own, none = unlimited = the largest.
        f.sortBy("requests_per_minute", false);
        QCOMPARE(order(), QStringList({"BBBB", "AAAA", "CCCC", "carol"}));  // 7, 100, 1000, -
        f.toggleSort("requests_per_minute");
        QCOMPARE(order(), QStringList({"carol", "CCCC", "AAAA", "BBBB"}));
        // 0 is unlimited too: bob's key joins carol at the top (ties keep the model's order).
        // A refresh re-sorts on the next turn of the event loop.
        s.keys[2] = with(s.keys[2].toObject(), {{"requests_per_minute", 0}});
        keys.setSnapshot(s);
        QTRY_COMPARE(order(), QStringList({"CCCC", "carol", "AAAA", "BBBB"}));

        // Held while an editor is open in the table: figures change, rows stay; then re-sorted.
        f.setHoldOrder(true);
        s.keys[2] = with(s.keys[2].toObject(), {{"requests_per_minute", 1}});
        keys.setSnapshot(s);
        QTest::qWait(20);
        QCOMPARE(order(), QStringList({"CCCC", "carol", "AAAA", "BBBB"}));
        f.setHoldOrder(false);
        QCOMPARE(order(), QStringList({"carol", "AAAA", "BBBB", "CCCC"}));

        // Text: case-insensitive; bob's unnamed key and keyless carol have "" and come first.
        f.sortBy("keyName", false);
        QCOMPARE(order(), QStringList({"CCCC", "carol", "BBBB", "AAAA"}));
        // By user: the groups by name, each user's keys as the model has them.
        f.sortBy("user", true);
        QCOMPARE(order(), QStringList({"carol", "CCCC", "BBBB", "AAAA"}));
        // Never used is the oldest.
        f.sortBy("lastUsed", true);
        QCOMPARE(order(), QStringList({"AAAA", "BBBB", "CCCC", "carol"}));

        // Filters and sorting together; "" is the model's order again.
        f.sortBy("usage", true);
        f.setSearch("alice");
        QCOMPARE(order(), QStringList({"AAAA", "BBBB"}));
        f.setSearch("");
        QCOMPARE(order(), QStringList({"CCCC", "AAAA", "BBBB", "carol"}));
        f.sortBy("", false);
        QCOMPARE(f.sortKey(), QString());
        QCOMPARE(order(), QStringList({"BBBB", "AAAA", "CCCC", "carol"}));
    }

    void tiersModel()
    {
        TiersModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setSnapshot(snapshot());
        QCOMPARE(m.rowCount(), 2);
        const QVariantMap pro = m.get(1);
        QCOMPARE(pro.value("name").toString(), QStringLiteral("pro"));
        QCOMPARE(pro.value("keyCount").toLongLong(), 2);
        QCOMPARE(pro.value("shadow").toBool(), true);
        QCOMPARE(pro.value("modelLimitCount").toInt(), 1);
        QCOMPARE(pro.value("limits").toMap(),
                 QVariantMap({{"requests_per_minute", 1000.0}, {"tokens_per_minute", 50000.0}}));
        QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
        KeysSnapshot s = snapshot();
        s.keyCounts["pro"] = 3;
        m.setSnapshot(s);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(m.get(1).value("keyCount").toLongLong(), 3);
    }

    void healthModel()
    {
        HealthModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy unhealthy(&m, &HealthModel::componentBecameUnhealthy);
        m.setChecking(true);
        m.setReport(healthReport("healthy", "healthy"));
        QVERIFY(!m.checking());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.overall(), QStringLiteral("healthy"));
        QCOMPARE(m.data(m.index(0), HealthModel::LatencyMsRole).toDouble(), 1.5);
        QCOMPARE(m.data(m.index(1), HealthModel::CriticalRole).toBool(), false);
        QCOMPARE(unhealthy.count(), 0);
        m.setReport(healthReport("unhealthy", "healthy"));
        QCOMPARE(m.statusOf("database"), QStringLiteral("unhealthy"));
        QCOMPARE(unhealthy.count(), 1);
        QCOMPARE(unhealthy.first().at(0).toString(), QStringLiteral("database"));
        m.setReport(healthReport("unhealthy", "healthy"));
        QCOMPARE(unhealthy.count(), 1);  // once per transition
    }

    void trafficModel()
    {
        TrafficModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.update({entry(2000, "b", 429), entry(1000, "a")});
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.rateLimitedCount(), 1);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        m.update({entry(3000, "c", 500), entry(2000, "b", 429), entry(1000, "a")});
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(m.data(m.index(0), TrafficModel::RequestIdRole).toString(), QStringLiteral("c"));
        QCOMPARE(m.data(m.index(0), TrafficModel::LatencyMsRole).toDouble(), 250.0);
        QCOMPARE(m.data(m.index(0), TrafficModel::UserRole).toString(), QStringLiteral("1"));
        m.setNames({{1, "alice"}}, {{10, "laptop"}});
        QCOMPARE(m.data(m.index(0), TrafficModel::UserRole).toString(), QStringLiteral("alice"));
        QCOMPARE(m.data(m.index(0), TrafficModel::KeyRole).toString(), QStringLiteral("laptop"));
        QList<TrafficEntry> many;
        for (int i = 0; i < TrafficModel::Capacity + 50; ++i)
            many.prepend(entry(10'000 + i, QByteArray::number(i)));
        m.update(many);
        QCOMPARE(m.rowCount(), TrafficModel::Capacity);
    }

    void limitEventsModel()
    {
        LimitEventsModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setEvents(QJsonArray{QJsonObject{{"id", 1},
                                           {"minute", "2026-01-02T03:04:00.000Z"},
                                           {"user_id", 1},
                                           {"key_id", 10},
                                           {"limit_name", "key-requests-per-minute"},
                                           {"route", "/v1/chat/completions"},
                                           {"count", 1234},
                                           {"shadow", false}}},
                    QJsonArray{QJsonObject{{"id", 2},
                                           {"at", "2026-01-02T03:05:00.000Z"},
                                           {"month", "2026-01"},
                                           {"scope", "user"},
                                           {"user_id", 1},
                                           {"key_id", QJsonValue::Null},
                                           {"limit_name", "user-monthly-requests"},
                                           {"threshold_percent", 80},
                                           {"used", 812},
                                           {"limit", 1000}}});
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.alertCount(), 1);
        QCOMPARE(m.data(m.index(0), LimitEventsModel::KindRole).toString(),
                 QStringLiteral("alert"));
        QVERIFY(m.data(m.index(0), LimitEventsModel::DetailRole).toString().contains("80 % of"));
        QVERIFY(m.data(m.index(1), LimitEventsModel::DetailRole).toString().contains("denial"));
        m.setNames({{1, "alice"}}, {{10, "laptop"}});
        QCOMPARE(m.data(m.index(1), LimitEventsModel::WhoRole).toString(),
                 QStringLiteral("alice / laptop"));
        QCOMPARE(m.data(m.index(0), LimitEventsModel::WhoRole).toString(), QStringLiteral("alice"));
    }

    void limitText_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QJsonValue>("sent");
        QTest::newRow("inherit") << "burst"
                                 << "  " << QJsonValue(QJsonValue::Null);
        QTest::newRow("number") << "requests_per_minute"
                                << "10" << QJsonValue(10);
        QTest::newRow("separators")
            << "monthly_tokens" << QLocale().toString(1000000) << QJsonValue(1000000);
        QTest::newRow("unlimited") << "burst"
                                   << "unlimited" << QJsonValue(0);
        QTest::newRow("fraction") << "requests_per_second"
                                  << "0.5" << QJsonValue(0.5);
        // Left for the service to refuse, with its message.
        QTest::newRow("word") << "burst"
                              << "lots" << QJsonValue("lots");
        QTest::newRow("negative") << "burst"
                                  << "-3" << QJsonValue("-3");
        QTest::newRow("fraction of an integer") << "burst"
                                                << "1.5" << QJsonValue("1.5");
    }
    void limitText()
    {
        QFETCH(QString, field);
        QFETCH(QString, text);
        QFETCH(QJsonValue, sent);
        QCOMPARE(LimitJson::valueForText(field, text), sent);
    }

    void editorTurnsCallsIntoAdminEdits()
    {
        FakeDashboardSource source;
        KeyEditor editor;
        editor.setSource(&source);
        QSignalSpy finished(&editor, &KeyEditor::finished);
        QSignalSpy busy(&editor, &KeyEditor::busyChanged);
        QSignalSpy changed(&editor, &KeyEditor::changed);

        const int t1 = editor.setKeyLimit("10", "requests_per_minute", "25");
        QVERIFY(editor.busy());
        QVERIFY(finished.wait());
        QCOMPARE(finished.first().at(0).toInt(), t1);
        QCOMPARE(finished.first().at(1).toBool(), true);
        QVERIFY(!editor.busy());
        QCOMPARE(busy.count(), 2);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(source.edits.last().kind, DashboardEdit::Kind::UpdateKey);
        QCOMPARE(source.edits.last().target, QStringLiteral("10"));
        QCOMPARE(source.edits.last().body, QJsonObject({{"requests_per_minute", 25}}));

        // A refusal: the message comes back, nothing reloads.
        source.editError = QStringLiteral("burst must be a non-negative integer, got \"x\"");
        editor.setUserLimit("carol", "burst", "x");
        QVERIFY(finished.wait());
        QCOMPARE(finished.last().at(1).toBool(), false);
        QCOMPARE(finished.last().at(2).toString(), source.editError);
        QCOMPARE(editor.lastError(), source.editError);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(source.edits.last().kind, DashboardEdit::Kind::UpdateUser);
        QCOMPARE(source.edits.last().body, QJsonObject({{"burst", "x"}}));

        source.editError.clear();
        editor.setTierLimit("pro", "burst", "");
        QVERIFY(finished.wait());
        QCOMPARE(source.edits.last().kind, DashboardEdit::Kind::PatchTier);
        QCOMPARE(source.edits.last().body, QJsonObject({{"burst", QJsonValue::Null}}));
        editor.setKeyTier("10", "");
        QVERIFY(finished.wait());
        QCOMPARE(source.edits.last().body, QJsonObject({{"tier", ""}}));
        editor.revokeKey("11");
        QVERIFY(finished.wait());
        QCOMPARE(source.edits.last().kind, DashboardEdit::Kind::RevokeKey);

        QSignalSpy created(&editor, &KeyEditor::keyCreated);
        source.editResult = {{"key", "sk-sluice-secret"}, {"prefix", "sk-sluice-sec"}};
        const int t2 = editor.createKey(" dave ", "", "pro", true);
        QVERIFY(created.wait());
        QCOMPARE(created.first().at(0).toInt(), t2);
        QCOMPARE(created.first().at(1).toString(), QStringLiteral("sk-sluice-secret"));
        QCOMPARE(source.edits.last().body,
                 QJsonObject({{"user", "dave"}, {"create_user", true}, {"tier", "pro"}}));

        // A user's name and email: one edit of the user, both values trimmed.
        source.editResult = {{"id", 3}, {"name", "caroline"}, {"email", "c@example.com"}};
        const int t3 = editor.setUserIdentity("carol", " caroline ", " c@example.com ");
        QVERIFY(finished.wait());
        QCOMPARE(finished.last().at(0).toInt(), t3);
        QCOMPARE(finished.last().at(1).toBool(), true);
        QCOMPARE(finished.last().at(3).toMap().value("name").toString(),
                 QStringLiteral("caroline"));
        QCOMPARE(source.edits.last().kind, DashboardEdit::Kind::UpdateUser);
        QCOMPARE(source.edits.last().target, QStringLiteral("carol"));
        QCOMPARE(source.edits.last().body,
                 QJsonObject({{"name", "caroline"}, {"email", "c@example.com"}}));
        // An empty email removes it; a refusal comes back with the service's words.
        const int changedBefore = int(changed.count());
        source.editError = QStringLiteral("name must be 1 to 64 characters, got \"\"");
        editor.setUserIdentity("carol", "", "");
        QVERIFY(finished.wait());
        QCOMPARE(finished.last().at(1).toBool(), false);
        QCOMPARE(editor.lastError(), source.editError);
        QCOMPARE(source.edits.last().body, QJsonObject({{"name", ""}, {"email", ""}}));
        QCOMPARE(changed.count(), changedBefore);  // nothing saved, nothing reloads
        source.editError.clear();
    }

    void editorWithoutSourceFails()
    {
        KeyEditor editor;
        QSignalSpy finished(&editor, &KeyEditor::finished);
        editor.setKeyLimit("1", "burst", "1");
        QVERIFY(finished.wait());
        QCOMPARE(finished.first().at(1).toBool(), false);
    }

    void dashboardPollsAndRoutes()
    {
        FakeDashboardSource source;
        source.overview = {{"requests_today", 5}, {"listen", "127.0.0.1:8081"}};
        source.points = {point(1000, 1), point(2000, 2)};
        source.keys = snapshot();
        source.health = healthReport("healthy", "healthy");
        source.traffic = {entry(1000, "a")};
        Dashboard d(&source);
        d.setPollInterval(0);  // the test ticks
        QTRY_COMPARE(d.overview()->requestsToday(), 5.0);
        QCOMPARE(source.seriesSeconds.first(), 5 * 60);  // the whole range first
        QTRY_COMPARE(d.overview()->pointCount(), 2);
        QTRY_COMPARE(d.keys()->rowCount(), 4);
        QCOMPARE(d.tiers()->rowCount(), 2);
        QCOMPARE(d.filteredKeys()->rowCount(), 4);
        QCOMPARE(d.health()->overall(), QStringLiteral("healthy"));
        QCOMPARE(d.traffic()->rowCount(), 1);
        QCOMPARE(d.traffic()->data(d.traffic()->index(0), TrafficModel::UserRole).toString(),
                 QStringLiteral("alice"));
        d.tick();
        QCOMPARE(source.seriesSeconds.last(), 5);  // then the last seconds only

        // A saved edit reloads the keys.
        const int before = source.keyRequests;
        d.editor()->setKeyLimit("10", "burst", "3");
        QTRY_COMPARE(source.keyRequests, before + 1);
        d.checkHealthNow();
        QVERIFY(d.health()->checking());
        QCOMPARE(source.healthChecks, 1);
        QTRY_VERIFY(!d.health()->checking());

        QSignalSpy notify(&d, &Dashboard::notify);
        emit source.quotaAlertRaised(
            {{"scope", "key"}, {"threshold_percent", 80}, {"limit_name", "key-monthly-requests"}});
        QCOMPARE(notify.count(), 1);
        QVERIFY(notify.first().at(1).toString().contains("80 %"));
        QVERIFY(d.snippet("curl", "sk-x").contains("http://127.0.0.1:8081/v1/chat/completions"));
    }

    void snippetsNameTheGateway()
    {
        for (const QString &kind : Snippets::kinds()) {
            const QString text = Snippets::text(kind, "http://gw:8081", "sk-sluice-k");
            QVERIFY2(text.contains("http://gw:8081"), qPrintable(kind));
            QVERIFY2(text.contains("sk-sluice-k"), qPrintable(kind));
        }
        QVERIFY(Snippets::text("python-openai", "http://gw", "k").contains("http://gw/v1"));
        QVERIFY(!Snippets::text("python-anthropic", "http://gw", "k").contains("/v1"));
    }

    void formatter()
    {
        QCOMPARE(Formatter::count(1234567), QLocale().toString(1234567.0, 'f', 0));
        QCOMPARE(Formatter::limit(0), QStringLiteral("unlimited"));
        QCOMPARE(Formatter::latency(0.25), QStringLiteral("250 ms"));
        QCOMPARE(Formatter::latency(1.5), QLocale().toString(1.5, 'f', 2) + QStringLiteral(" s"));
        QCOMPARE(Formatter::uptime(3725), QStringLiteral("1 h 2 min"));
        QCOMPARE(Formatter::isoTime(QString()), QStringLiteral("never"));
    }

    void settingsPersist()
    {
        {
            DashboardSettings s;
            QCOMPARE(s.theme(), QStringLiteral("system"));
            QVERIFY(s.closeToTray());
            s.setTheme("dark");
            s.setLastPage("keys");
            s.setGeometry(QRect(10, 20, 900, 700));
            s.setCloseToTray(false);
            s.setRangeMinutes(15);
        }
        DashboardSettings s;
        QCOMPARE(s.theme(), QStringLiteral("dark"));
        QCOMPARE(s.lastPage(), QStringLiteral("keys"));
        QCOMPARE(s.geometry(), QRect(10, 20, 900, 700));
        QVERIFY(!s.closeToTray());
        QCOMPARE(s.rangeMinutes(), 15);
        QVERIFY(DashboardSettings::isDarkColor(QColor("#202020")));
        QVERIFY(!DashboardSettings::isDarkColor(QColor("#f0f0f0")));
        s.setTheme("system");
    }
};

QTEST_MAIN(TestDashboardModels)
#include "tst_dashboardmodels.moc"
