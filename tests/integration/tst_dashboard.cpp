// The desktop dashboard end to end: the real sluice binary without --headless, offscreen, in
// front of the mock upstream. Traffic (allowed and rate-limited) goes through the gateway; the
// test driver (SLUICE_DASHBOARD_DRIVER=stdin) visits each page, reports what the pages show
// and saves a PNG of each; a limit typed into the Keys page's inline editor is enforced by the
// gateway within a second, and a bad value is refused with the admin service's message.
// The screenshots land in SLUICE_SCREENSHOT_DIR when set (docs/screenshots is made that way).
#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "ProcessRun.h"
#include "TestFixtures.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>

using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 20000;
const QByteArray kChat =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"max_tokens\":5}";

}  // namespace

class TestDashboard : public QObject
{
    Q_OBJECT

    MockUpstream m_mock;
    QTemporaryDir m_dir;
    QString m_ini;
    QString m_shots;
    std::unique_ptr<GatewayProcess> m_gw;
    QByteArray m_key;
    QString m_prefix;

    QStringList siteArgs() const
    {
        return {QStringLiteral("--data-dir"), m_dir.path(), QStringLiteral("--config"), m_ini};
    }

    QJsonObject cli(const QStringList &args) { return runCliJson(kBinary, args + siteArgs()); }

    QString command(const QByteArray &line, int timeoutMs = 15000)
    {
        return m_gw->driverCommand(line, timeoutMs);
    }

    QJsonObject dump()
    {
        const QString answer = command("dump");
        if (!answer.startsWith(QLatin1String("ok ")))
            return {};
        return QJsonDocument::fromJson(answer.mid(3).toUtf8()).object();
    }

    int chat()
    {
        return httpRequest(
                   m_gw->port(), "POST", "/v1/chat/completions",
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + m_key}},
                   kChat)
            .status;
    }

    void shot(const QString &page)
    {
        const QString path = QDir(m_shots).filePath(page + QStringLiteral(".png"));
        const QString answer = command("shot " + path.toUtf8());
        QVERIFY2(answer.startsWith(QLatin1String("ok shot")), qPrintable(answer));
        const QImage image(path);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= 800);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_shots =
            qEnvironmentVariable("SLUICE_SCREENSHOT_DIR", m_dir.filePath(QStringLiteral("shots")));
        QVERIFY(QDir().mkpath(m_shots));
        QVERIFY2(m_mock.start(), m_mock.why().constData());
        m_ini = m_dir.filePath(QStringLiteral("gateway.ini"));
        QVERIFY(writeTextFile(m_ini, m_mock.openAiUpstreamIni(QStringLiteral("gpt-*"))));
        const QJsonObject created =
            cli({QStringLiteral("keys"), QStringLiteral("create"), QStringLiteral("--user"),
                 QStringLiteral("alice"), QStringLiteral("--create-user"), QStringLiteral("--name"),
                 QStringLiteral("laptop")});
        m_key = created.value(QLatin1String("key")).toString().toUtf8();
        m_prefix = created.value(QLatin1String("prefix")).toString();
        QVERIFY(!m_key.isEmpty());

        m_gw = std::make_unique<GatewayProcess>(kBinary);
        m_gw->setEnvironment(
            GatewayProcess::dashboardEnvironment(m_dir.filePath(QStringLiteral("config"))));
        m_gw->setWritableInput(true);
        QVERIFY2(
            m_gw->start(QStringList{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                    QStringLiteral("--admin-listen"), QStringLiteral("127.0.0.1:0"),
                                    QStringLiteral("--workers"), QStringLiteral("2")} +
                        siteArgs()),
            m_gw->why());
        QVERIFY2(m_gw->waitForListening(kStartTimeoutMs), m_gw->why());
        QVERIFY2(
            m_gw->waitForLog(QRegularExpression(QStringLiteral("dashboard open")), kStartTimeoutMs),
            m_gw->why());
    }

    void trafficShowsOnEveryPage()
    {
        // Traffic over a few seconds, so the charts have several points.
        for (int second = 0; second < 4; ++second) {
            for (int i = 0; i < 5; ++i)
                QCOMPARE(chat(), 200);
            QTest::qWait(1000);
        }
        QCOMPARE(command("page overview"), QStringLiteral("ok page overview"));
        QJsonObject state;
        QTRY_VERIFY_WITH_TIMEOUT((state = dump())
                                         .value(QLatin1String("overview"))
                                         .toObject()
                                         .value(QLatin1String("requests_today"))
                                         .toDouble() >= 20,
                                 10000);
        const QJsonObject overview = state.value(QLatin1String("overview")).toObject();
        QVERIFY2(overview.value(QLatin1String("has_traffic")).toBool(),
                 QJsonDocument(state).toJson());
        const QJsonObject charts = state.value(QLatin1String("charts")).toObject();
        const QJsonObject requests = charts.value(QLatin1String("chart:requests")).toObject();
        QVERIFY2(requests.value(QLatin1String("points")).toInt() >= 3,
                 QJsonDocument(state).toJson());
        QVERIFY2(requests.value(QLatin1String("max")).toDouble() > 0,
                 QJsonDocument(state).toJson());
        QVERIFY(charts.contains(QLatin1String("chart:p95_ms")));
        QVERIFY(charts.contains(QLatin1String("chart:tokens")));
        shot(QStringLiteral("overview"));

        QCOMPARE(command("page keys"), QStringLiteral("ok page keys"));
        state = dump();
        const QJsonArray keys = state.value(QLatin1String("keys")).toArray();
        QCOMPARE(keys.size(), 1);
        QCOMPARE(keys.at(0)[QLatin1String("user")].toString(), QStringLiteral("alice"));
        QCOMPARE(keys.at(0)[QLatin1String("prefix")].toString(), m_prefix);
        QCOMPARE(keys.at(0)[QLatin1String("status")].toString(), QStringLiteral("active"));
        shot(QStringLiteral("keys"));

        QCOMPARE(command("page tiers"), QStringLiteral("ok page tiers"));
        QVERIFY(dump().value(QLatin1String("tiers")).toInt() >= 1);
        shot(QStringLiteral("tiers"));

        QCOMPARE(command("page health"), QStringLiteral("ok page health"));
        state = dump();
        QVERIFY2(state.value(QLatin1String("health"))
                         .toObject()
                         .value(QLatin1String("components"))
                         .toInt() >= 2,
                 QJsonDocument(state).toJson());
        shot(QStringLiteral("health"));

        QCOMPARE(command("page traffic"), QStringLiteral("ok page traffic"));
        QTRY_VERIFY_WITH_TIMEOUT(dump().value(QLatin1String("traffic"))
                                         .toObject()
                                         .value(QLatin1String("rows"))
                                         .toInt() >= 20,
                                 5000);
        shot(QStringLiteral("traffic"));
    }

    void limitEditThroughTheUiIsEnforced()
    {
        QCOMPARE(command("page keys"), QStringLiteral("ok page keys"));
        // A bad value is refused with the service's message; nothing changes.
        const QString refused =
            command("edit-limit " + m_prefix.toUtf8() + " requests_per_minute abc");
        QVERIFY2(refused.startsWith(QLatin1String("error ")) &&
                     refused.contains(QLatin1String("requests_per_minute")),
                 qPrintable(refused));
        QCOMPARE(chat(), 200);

        // requests_per_minute = 2 on the key: within a second the third request is a 429.
        const QString saved = command("edit-limit " + m_prefix.toUtf8() + " requests_per_minute 2");
        QCOMPARE(saved, QStringLiteral("ok edit"));
        QTest::qWait(1000);
        QList<int> statuses;
        for (int i = 0; i < 4; ++i)
            statuses << chat();
        QVERIFY2(statuses.contains(429), qPrintable(QString::number(statuses.count(200))));
        QTRY_VERIFY_WITH_TIMEOUT(dump().value(QLatin1String("keys"))
                                         .toArray()
                                         .at(0)[QLatin1String("effective")]
                                         .toObject()
                                         .value(QLatin1String("requests_per_minute"))
                                         .toDouble() == 2,
                                 8000);
        QCOMPARE(command("page traffic"), QStringLiteral("ok page traffic"));
        QTRY_VERIFY_WITH_TIMEOUT(dump().value(QLatin1String("traffic"))
                                         .toObject()
                                         .value(QLatin1String("rate_limited"))
                                         .toInt() >= 1,
                                 5000);
        // The violations are written once a second and polled after that: the screenshot
        // waits until they are on the page.
        QTRY_VERIFY_WITH_TIMEOUT(dump().value(QLatin1String("violations")).toInt() >= 1, 15000);
        shot(QStringLiteral("traffic"));
    }

    void cleanupTestCase()
    {
        if (!m_gw)
            return;
        command("quit");
        QVERIFY2(m_gw->waitForExit(30000), m_gw->why());
        QVERIFY2(m_gw->exitedWith(0), m_gw->why());
        // Every page was shown with live data: no QML warning (binding loop, undefined value,
        // type error) may have been logged on the way.
        const QStringList qmlWarnings =
            m_gw->logLines().filter(QStringLiteral("qrc:/qt/qml/Sluice/"));
        QVERIFY2(qmlWarnings.isEmpty(), qPrintable(qmlWarnings.join(u'\n')));
    }
};

QTEST_GUILESS_MAIN(TestDashboard)
#include "tst_dashboard.moc"
