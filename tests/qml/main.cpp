// Qt Quick Test runner for the dashboard's QML. A custom main instead of QUICK_TEST_MAIN:
// Qt Charts needs a QApplication, and under Qt 6.4 QUICK_TEST_MAIN's QGuiApplication crashes
// on the first ChartView. Each test engine gets dashboards over fake sources:
//   testDashboard   traffic (a 429 among it), two keys, two tiers, a health report, two
//                   rate-limit violations and a quota alert
//   emptyDashboard  a first run: no user, no key, no traffic
//   testSource      the first one's source (setEditError(), lastEdit(), editCount())
#include "Dashboard.h"
#include "FakeDashboardSource.h"

#include <QtQml/qqmlextensionplugin.h>
#include <QApplication>
#include <QDateTime>
#include <QQmlContext>
#include <QQmlEngine>
#include <QQuickStyle>
#include <QStandardPaths>
#include <QtQuickTest>

Q_IMPORT_QML_PLUGIN(SluiceUiPlugin)
Q_IMPORT_QML_PLUGIN(SluiceDashboardPlugin)

using namespace sluice;
using namespace sluice::test;

namespace {

QJsonObject limits(const QJsonObject &set = {})
{
    QJsonObject o;
    for (const char *name :
         {"requests_per_second", "burst", "requests_per_minute", "tokens_per_minute",
          "monthly_requests", "monthly_tokens", "concurrent_requests"})
        o.insert(QLatin1String(name), QJsonValue(QJsonValue::Null));
    for (auto it = set.begin(); it != set.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject with(QJsonObject base, const QJsonObject &more)
{
    for (auto it = more.begin(); it != more.end(); ++it)
        base.insert(it.key(), it.value());
    return base;
}

void fill(FakeDashboardSource &s)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int i = 120; i >= 0; --i) {
        SeriesPoint p;
        p.atMs = now - i * 1000;
        p.requestsPerSecond = 5 + (i % 7);
        p.rateLimitedPerSecond = i % 10 == 0 ? 1 : 0;
        p.latencyP50Seconds = 0.08;
        p.latencyP95Seconds = 0.2;
        p.tokensPerMinute = 1200;
        s.points.append(p);
    }
    s.overview = {
        {"version", "0.1.0"},     {"listen", "127.0.0.1:8081"}, {"admin_listen", "127.0.0.1:8082"},
        {"uptime_seconds", 3700}, {"active_keys", 2},           {"requests_today", 12345},
        {"tokens_today", 678901}, {"health", "healthy"}};
    s.keys.tiers = {with(limits({{"requests_per_minute", 100}}), {{"name", "free"}}),
                    with(limits({{"requests_per_minute", 1000}}), {{"name", "pro"}})};
    s.keys.defaults = {{"user", limits()}, {"key", limits({{"requests_per_second", 50}})}};
    s.keys.users = {
        with(limits(), {{"id", 1}, {"name", "alice"}, {"tier", "free"}, {"status", "active"}})};
    s.keys.keys = {with(limits({{"burst", 5}}), {{"id", 10},
                                                 {"user_id", 1},
                                                 {"user", "alice"},
                                                 {"name", "laptop"},
                                                 {"prefix", "sk-sluice-AAAA"},
                                                 {"status", "active"}}),
                   with(limits(), {{"id", 11},
                                   {"user_id", 1},
                                   {"user", "alice"},
                                   {"name", "ci"},
                                   {"prefix", "sk-sluice-BBBB"},
                                   {"tier", "pro"},
                                   {"status", "active"}})};
    s.keys.keyCounts = {{"free", 1}, {"pro", 1}};
    s.keys.monthRequests = {{10, 1200}, {11, 35}};
    s.keys.monthTokens = {{10, 98000}, {11, 4100}};
    for (int i = 0; i < 3; ++i) {
        TrafficEntry e;
        e.atMs = now - i * 1500;
        e.method = "POST";
        e.route = e.path = "/v1/chat/completions";
        e.status = i == 1 ? 429 : 200;
        e.seconds = 0.05 * (i + 1);
        e.userId = "1";
        e.keyId = i == 2 ? "11" : "10";
        s.traffic.append(e);
    }
    const QString minute = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    s.violations = {QJsonObject{{"minute", minute},
                                {"user_id", 1},
                                {"key_id", 10},
                                {"limit_name", "requests_per_minute"},
                                {"route", "/v1/chat/completions"},
                                {"count", 3},
                                {"shadow", false}},
                    QJsonObject{{"minute", minute},
                                {"user_id", 1},
                                {"key_id", 11},
                                {"limit_name", "burst"},
                                {"route", "/v1/messages"},
                                {"count", 1},
                                {"shadow", true}}};
    s.alerts = {QJsonObject{{"at", minute},
                            {"user_id", 1},
                            {"key_id", 10},
                            {"limit_name", "monthly_requests"},
                            {"threshold_percent", 80},
                            {"limit", 1500},
                            {"used", 1200},
                            {"month", minute.left(7)}}};
    s.health = {{"status", "degraded"},
                {"timestamp", QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
                {"components", QJsonArray{QJsonObject{{"name", "database"},
                                                      {"type", "database"},
                                                      {"status", "healthy"},
                                                      {"critical", true},
                                                      {"message", "SELECT 1 in 2 ms"},
                                                      {"latency_ms", 2}},
                                          QJsonObject{{"name", "upstream:openai"},
                                                      {"type", "upstream"},
                                                      {"status", "degraded"},
                                                      {"critical", false},
                                                      {"message", "3 of 20 requests failed"},
                                                      {"latency_ms", 40}}}}};
}

}  // namespace

class Setup : public QObject
{
    Q_OBJECT
public slots:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        auto *source = new FakeDashboardSource(engine);
        fill(*source);
        auto *dashboard = new Dashboard(source, engine);
        auto *empty = new FakeDashboardSource(engine);
        auto *emptyDashboard = new Dashboard(empty, engine);
        engine->rootContext()->setContextProperty(QStringLiteral("testDashboard"), dashboard);
        engine->rootContext()->setContextProperty(QStringLiteral("testSource"), source);
        engine->rootContext()->setContextProperty(QStringLiteral("emptyDashboard"), emptyDashboard);
    }
};

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);  // Main.qml's DashboardSettings stay out of ~
    QQuickStyle::setStyle(QStringLiteral("Fusion"));
    Setup setup;
    return quick_test_main_with_setup(argc, argv, "dashboard_qml", QUICK_TEST_SOURCE_DIR, &setup);
}

#include "main.moc"
