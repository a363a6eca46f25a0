// The dashboard's remote mode against a real headless sluice with an admin token, in front of
// the mock upstream: RemoteDashboardSource driven directly in this process (every read, edits
// through submit() that the gateway then enforces, the admin API's error text, a wrong token,
// a gateway that is not there), then the real binary with --connect, offscreen, through the
// dashboard's test driver; and the option combinations that are usage errors (exit 2).
// The screenshot lands in SLUICE_SCREENSHOT_DIR when set (docs/screenshots/remote-keys.png).
#include "GatewayProcess.h"
#include "MockUpstream.h"
#include "RemoteDashboardSource.h"
#include "TestFixtures.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>

using namespace sluice;
using namespace sluice::test;

namespace {

const QString kBinary = QStringLiteral(SLUICE_BINARY);
constexpr int kStartTimeoutMs = 20000;
const QByteArray kToken = "remote-test-admin-token-0123456789";
const QByteArray kChat =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"max_tokens\":5}";

}  // namespace

class TestDashboardRemote : public QObject
{
    Q_OBJECT

    MockUpstream m_mock;
    QTemporaryDir m_dir;
    QString m_ini;
    std::unique_ptr<GatewayProcess> m_gw;
    quint16 m_adminPort = 0;
    QByteArray m_key;
    QString m_prefix;
    qint64 m_keyId = 0;
    QList<QByteArray> m_requestIds;

    QStringList siteArgs() const
    {
        return {QStringLiteral("--data-dir"), m_dir.path(), QStringLiteral("--config"), m_ini};
    }

    // The dashboard offscreen under the test driver, with the remote gateway's admin token.
    QProcessEnvironment dashboardEnvironment() const
    {
        QProcessEnvironment env =
            GatewayProcess::dashboardEnvironment(m_dir.filePath(QStringLiteral("config")));
        env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(kToken));
        return env;
    }

    QUrl adminUrl() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_adminPort)); }

    HttpReply chatReply()
    {
        return httpRequest(
            m_gw->port(), "POST", "/v1/chat/completions",
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + m_key}}, kChat);
    }

    // The sluice binary with `args` (clean environment plus `env`); its exit code, standard
    // output and error in *out (only standard output with `stdoutOnly`).
    int runSluice(const QStringList &args, const QStringList &env = {}, QString *out = nullptr,
                  bool stdoutOnly = false)
    {
        QProcess p;
        QProcessEnvironment e = GatewayProcess::cleanEnvironment();
        for (const QString &pair : env)
            e.insert(pair.section(u'=', 0, 0), pair.section(u'=', 1));
        p.setProcessEnvironment(e);
        p.start(kBinary, args);
        if (!p.waitForFinished(30000))
            return -1;
        if (out)
            *out = QString::fromUtf8(p.readAllStandardOutput() +
                                     (stdoutOnly ? QByteArray() : p.readAllStandardError()));
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_mock.start(), m_mock.why().constData());
        m_ini = m_dir.filePath(QStringLiteral("gateway.ini"));
        QVERIFY(writeTextFile(m_ini, m_mock.openAiUpstreamIni(QStringLiteral("gpt-*"))));
        QString out;
        QCOMPARE(runSluice(QStringList{QStringLiteral("keys"), QStringLiteral("create"),
                                       QStringLiteral("--user"), QStringLiteral("alice"),
                                       QStringLiteral("--create-user"), QStringLiteral("--name"),
                                       QStringLiteral("laptop"), QStringLiteral("--json")} +
                               siteArgs(),
                           {}, &out, true),
                 0);
        const QJsonObject created = QJsonDocument::fromJson(out.toUtf8()).object();
        m_key = created.value(QLatin1String("key")).toString().toUtf8();
        m_prefix = created.value(QLatin1String("prefix")).toString();
        m_keyId = created.value(QLatin1String("id")).toInteger();
        QVERIFY2(!m_key.isEmpty() && m_keyId > 0, qPrintable(out));

        m_gw = std::make_unique<GatewayProcess>(kBinary);
        QProcessEnvironment env = GatewayProcess::cleanEnvironment();
        env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(kToken));
        m_gw->setEnvironment(env);
        QVERIFY2(
            m_gw->start(QStringList{QStringLiteral("--headless"), QStringLiteral("--listen"),
                                    QStringLiteral("127.0.0.1:0"), QStringLiteral("--admin-listen"),
                                    QStringLiteral("127.0.0.1:0"), QStringLiteral("--workers"),
                                    QStringLiteral("2")} +
                        siteArgs()),
            m_gw->why());
        static const QRegularExpression adminLine(
            QStringLiteral("admin API listening on 127\\.0\\.0\\.1:(\\d+)"));
        QVERIFY2(m_gw->waitForListening(kStartTimeoutMs), m_gw->why());
        QVERIFY2(m_gw->waitForLog(adminLine, kStartTimeoutMs), m_gw->why());
        QVERIFY2(m_gw->waitForStartupComplete(kStartTimeoutMs), m_gw->why());
        m_adminPort = quint16(adminLine.match(m_gw->log()).captured(1).toUInt());
        QVERIFY(m_adminPort != 0);

        // Traffic over a few seconds, so the series has several points with requests.
        for (int second = 0; second < 3; ++second) {
            for (int i = 0; i < 3; ++i) {
                const HttpReply r = chatReply();
                QCOMPARE(r.status, 200);
                m_requestIds << r.header("X-Request-Id");
            }
            QTest::qWait(1000);
        }
    }

    void readsEveryPage()
    {
        RemoteDashboardSource source(adminUrl(), kToken);
        QSignalSpy connection(&source, &DashboardSource::connectionChanged);
        QSignalSpy overview(&source, &DashboardSource::overviewReady);
        QSignalSpy baseUrl(&source, &DashboardSource::gatewayBaseUrlChanged);
        source.requestOverview();
        QVERIFY(overview.wait(5000));
        QCOMPARE(baseUrl.count(), 1);
        QCOMPARE(source.gatewayBaseUrl(), QStringLiteral("http://127.0.0.1:%1").arg(m_gw->port()));
        QVERIFY(source.isRemote());
        QCOMPARE(connection.count(), 1);
        QCOMPARE(connection.at(0).at(0).toBool(), true);
        const QJsonObject o = overview.at(0).at(0).toJsonObject();
        QCOMPARE(o.value(QLatin1String("active_keys")).toInt(), 1);
        QVERIFY2(o.value(QLatin1String("requests_today")).toInt() >= 9, QJsonDocument(o).toJson());

        QSignalSpy series(&source, &DashboardSource::seriesReady);
        source.requestSeries(60);
        QVERIFY(series.wait(5000));
        const auto points = series.at(0).at(0).value<QList<SeriesPoint>>();
        QVERIFY(points.size() >= 3);
        double requests = 0;
        for (const SeriesPoint &p : points)
            requests += p.requestsPerSecond;
        // Rates of samples about a second apart: nine requests add up to about nine.
        QVERIFY2(requests > 8.5, qPrintable(QString::number(requests)));

        QSignalSpy traffic(&source, &DashboardSource::trafficReady);
        source.requestTraffic(100);
        QVERIFY(traffic.wait(5000));
        QSet<QByteArray> seen;
        for (const TrafficEntry &e : traffic.at(0).at(0).value<QList<TrafficEntry>>())
            seen.insert(e.requestId);
        for (const QByteArray &id : std::as_const(m_requestIds))
            QVERIFY2(seen.contains(id), id.constData());

        QSignalSpy health(&source, &DashboardSource::healthReady);
        source.requestHealth();
        QVERIFY(health.wait(5000));
        QVERIFY(
            health.at(0).at(0).toJsonObject().value(QLatin1String("components")).toArray().size() >=
            2);
        source.checkHealthNow();
        QVERIFY(health.wait(10000));
        QVERIFY(health.at(1).at(0).toJsonObject().contains(QLatin1String("status")));

        // The usage ledger is written about a second after the requests.
        QSignalSpy keys(&source, &DashboardSource::keysReady);
        KeysSnapshot snapshot;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                keys.clear();
                source.requestKeys();
                if (!keys.wait(5000))
                    return false;
                snapshot = keys.at(0).at(0).value<KeysSnapshot>();
                return snapshot.monthRequests.value(m_keyId) >= 9;
            }(),
            10000);
        QCOMPARE(snapshot.keys.size(), 1);
        QCOMPARE(snapshot.keys.at(0)[QLatin1String("prefix")].toString(), m_prefix);
        QCOMPARE(snapshot.users.size(), 1);
        QVERIFY(snapshot.tiers.size() >= 5);
        QVERIFY(snapshot.defaults.contains(QLatin1String("key")));
        QCOMPARE(snapshot.keyCounts.value(QLatin1String("free")).toInteger(), 1);
        QCOMPARE(snapshot.keyCounts.value(QLatin1String("pro")).toInteger(), 0);
        QVERIFY(snapshot.monthTokens.value(m_keyId) > 0);

        QSignalSpy events(&source, &DashboardSource::limitEventsReady);
        source.requestLimitEvents(100);
        QVERIFY(events.wait(5000));
    }

    void editsThroughSubmitAreEnforced()
    {
        RemoteDashboardSource source(adminUrl(), kToken);
        QSignalSpy finished(&source, &DashboardSource::editFinished);

        // A bad value: the admin API's own message, nothing saved.
        const QJsonObject bad{{QStringLiteral("requests_per_minute"), -5}};
        const HttpReply direct = httpRequest(
            m_adminPort, "PATCH", "/admin/v1/tiers/free",
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + kToken}},
            QJsonDocument(bad).toJson(QJsonDocument::Compact));
        QCOMPARE(direct.status, 400);
        const QString expected = direct.json()
                                     .value(QLatin1String("error"))
                                     .toObject()
                                     .value(QLatin1String("message"))
                                     .toString();
        QVERIFY(!expected.isEmpty());
        source.submit(7,
                      DashboardEdit{DashboardEdit::Kind::PatchTier, QStringLiteral("free"), bad});
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(0).at(0).toInt(), 7);
        QVERIFY(finished.at(0).at(1).toJsonObject().isEmpty());
        QCOMPARE(finished.at(0).at(2).toString(), expected);

        // A tier edit: the answer is the tier.
        source.submit(8, DashboardEdit{DashboardEdit::Kind::PatchTier,
                                       QStringLiteral("pro"),
                                       {{QStringLiteral("requests_per_minute"), 1500}}});
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(1).at(2).toString(), QString());
        QCOMPARE(
            finished.at(1).at(1).toJsonObject().value(QLatin1String("requests_per_minute")).toInt(),
            1500);

        // requests_per_minute = 2 on the key (by prefix): the gateway refuses the third request.
        source.submit(9, DashboardEdit{DashboardEdit::Kind::UpdateKey,
                                       m_prefix,
                                       {{QStringLiteral("requests_per_minute"), 2}}});
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(2).at(2).toString(), QString());
        QCOMPARE(finished.at(2).at(1).toJsonObject().value(QLatin1String("id")).toInteger(),
                 m_keyId);
        QTest::qWait(1000);
        QList<int> statuses;
        for (int i = 0; i < 4; ++i)
            statuses << chatReply().status;
        QVERIFY2(statuses.contains(429), qPrintable(QString::number(statuses.count(200))));

        // The denials show up as violations (written about a second later).
        QSignalSpy events(&source, &DashboardSource::limitEventsReady);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                events.clear();
                source.requestLimitEvents(100);
                return events.wait(5000) && !events.at(0).at(0).toJsonArray().isEmpty();
            }(),
            10000);

        // A monthly quota the key has already used up: the next request raises the quota
        // alerts, which the next poll reports (the polls before only recorded the history).
        QSignalSpy alerts(&source, &DashboardSource::quotaAlertRaised);
        source.submit(10, DashboardEdit{DashboardEdit::Kind::UpdateKey,
                                        m_prefix,
                                        {{QStringLiteral("requests_per_minute"), QJsonValue()},
                                         {QStringLiteral("monthly_requests"), 5}}});
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(3).at(2).toString(), QString());
        QTest::qWait(1000);
        chatReply();
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                events.clear();
                source.requestLimitEvents(100);
                events.wait(5000);
                return !alerts.isEmpty();
            }(),
            10000);
        QCOMPARE(alerts.at(0).at(0).toJsonObject().value(QLatin1String("key_id")).toInteger(),
                 m_keyId);

        // Revoke through submit(); restore nothing else: the remaining tests only read.
        source.submit(11, DashboardEdit{DashboardEdit::Kind::UpdateKey,
                                        m_prefix,
                                        {{QStringLiteral("monthly_requests"), QJsonValue()}}});
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.at(4).at(2).toString(), QString());
    }

    // The tray's "Pause serving" remotely: PUT /admin/v1/serving, seen in the next overview and
    // by clients (503), then resumed.
    void pauseAndResume()
    {
        RemoteDashboardSource source(adminUrl(), kToken);
        QSignalSpy overview(&source, &DashboardSource::overviewReady);
        source.setPaused(true);
        QVERIFY(overview.wait(5000));
        QCOMPARE(overview.last().at(0).toJsonObject().value(QLatin1String("paused")).toBool(),
                 true);
        QCOMPARE(httpGet(m_gw->port(), "/health/ready").status, 503);
        source.setPaused(false);
        QVERIFY(overview.wait(5000));
        QCOMPARE(overview.last().at(0).toJsonObject().value(QLatin1String("paused")).toBool(),
                 false);
        QCOMPARE(httpGet(m_gw->port(), "/health/ready").status, 200);
    }

    void connectionProblemsAreReported()
    {
        RemoteDashboardSource wrong(adminUrl(), "not-the-token");
        QSignalSpy connection(&wrong, &DashboardSource::connectionChanged);
        QSignalSpy overview(&wrong, &DashboardSource::overviewReady);
        wrong.requestOverview();
        QVERIFY(connection.wait(5000));
        QCOMPARE(connection.at(0).at(0).toBool(), false);
        QVERIFY2(connection.at(0).at(1).toString().contains(QLatin1String("admin token")),
                 qPrintable(connection.at(0).at(1).toString()));
        QVERIFY(!connection.at(0).at(1).toString().contains(QLatin1String("not-the-token")));
        QCOMPARE(overview.count(), 0);

        // Nothing listening there: the network error, once; nothing else is emitted.
        RemoteDashboardSource nowhere(
            QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freeTcpPort())), kToken);
        QSignalSpy down(&nowhere, &DashboardSource::connectionChanged);
        QSignalSpy edits(&nowhere, &DashboardSource::editFinished);
        nowhere.requestOverview();
        nowhere.submit(1, DashboardEdit{DashboardEdit::Kind::RevokeKey, m_prefix, {}});
        QVERIFY(edits.wait(5000));
        QVERIFY(!edits.at(0).at(2).toString().isEmpty());
        QCOMPARE(down.count(), 1);
        QCOMPARE(down.at(0).at(0).toBool(), false);
    }

    void realBinaryConnects()
    {
        const QString shots =
            qEnvironmentVariable("SLUICE_SCREENSHOT_DIR", m_dir.filePath(QStringLiteral("shots")));
        QVERIFY(QDir().mkpath(shots));
        GatewayProcess dashboard(kBinary);
        dashboard.setEnvironment(dashboardEnvironment());
        dashboard.setWritableInput(true);
        QVERIFY2(dashboard.start({QStringLiteral("--connect"), adminUrl().toString()}),
                 dashboard.why());
        QVERIFY2(dashboard.waitForLog(QRegularExpression(QStringLiteral("dashboard open")),
                                      kStartTimeoutMs),
                 dashboard.why());
        auto command = [&](const QByteArray &line) { return dashboard.driverCommand(line); };
        QCOMPARE(command("page keys"), QStringLiteral("ok page keys"));
        QJsonObject state;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const QString answer = command("dump");
                state = QJsonDocument::fromJson(answer.mid(3).toUtf8()).object();
                return state.value(QLatin1String("keys")).toArray().size() == 1;
            }(),
            10000);
        const QJsonObject key = state.value(QLatin1String("keys")).toArray().at(0).toObject();
        QCOMPARE(key.value(QLatin1String("prefix")).toString(), m_prefix);
        QCOMPARE(key.value(QLatin1String("user")).toString(), QStringLiteral("alice"));
        QVERIFY(key.value(QLatin1String("month_requests")).toInt() >= 9);
        QCOMPARE(state.value(QLatin1String("overview"))
                     .toObject()
                     .value(QLatin1String("listen"))
                     .toString(),
                 QStringLiteral("127.0.0.1:%1").arg(m_gw->port()));
        const QString path = QDir(shots).filePath(QStringLiteral("remote-keys.png"));
        const QString shot = command("shot " + path.toUtf8());
        QVERIFY2(shot.startsWith(QLatin1String("ok shot")), qPrintable(shot));
        QVERIFY(!QImage(path).isNull());
        QCOMPARE(command("quit"), QStringLiteral("ok quit"));
        QVERIFY2(dashboard.waitForExit(15000), dashboard.why());
        QVERIFY2(dashboard.exitedWith(0), dashboard.why());
        const QString everything = dashboard.log() + dashboard.output() + m_gw->log();
        QVERIFY(!everything.contains(QString::fromLatin1(kToken)));
    }

    void badCombinationsAreUsageErrors()
    {
        const QString url = adminUrl().toString();
        const QStringList token{QStringLiteral("SLUICE_ADMIN_TOKEN=") + QString::fromLatin1(kToken),
                                QStringLiteral("QT_QPA_PLATFORM=offscreen")};
        QString out;
        QCOMPARE(runSluice({QStringLiteral("--connect"), url, QStringLiteral("--headless")}, token,
                           &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("--headless")), qPrintable(out));
        QCOMPARE(runSluice({QStringLiteral("--connect"), url, QStringLiteral("keys"),
                            QStringLiteral("list")},
                           token, &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("\"keys\"")), qPrintable(out));
        QCOMPARE(runSluice({QStringLiteral("--connect"), QStringLiteral("ftp://127.0.0.1:8082")},
                           token, &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("http://")), qPrintable(out));
        QCOMPARE(runSluice({QStringLiteral("--connect=127.0.0.1:8082")}, token, &out), 2);
        QCOMPARE(runSluice({QStringLiteral("--connect"), url},
                           {QStringLiteral("QT_QPA_PLATFORM=offscreen")}, &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("SLUICE_ADMIN_TOKEN")), qPrintable(out));
        QCOMPARE(runSluice({QStringLiteral("--connect")}, token, &out), 2);
    }

    // A second gateway whose admin listener speaks HTTPS with the test's self-signed
    // certificate: the source reaches it only when told to trust that certificate, the real
    // binary with --admin-ca, and after the gateway is stopped and started again on the same
    // port the source reports the outage and then the recovery by itself.
    void overHttpsAndAfterAnOutage()
    {
        QString cert;
        QString key;
        QString why;
        QVERIFY2(MockUpstream::makeSelfSignedCertificate(m_dir.path(), &cert, &key, &why),
                 qPrintable(why));
        const QString dataDir = m_dir.filePath(QStringLiteral("tls-gateway"));
        QProcessEnvironment env = GatewayProcess::cleanEnvironment();
        env.insert(QStringLiteral("SLUICE_ADMIN_TOKEN"), QString::fromLatin1(kToken));
        env.insert(QStringLiteral("SLUICE_ADMIN_TLS_CERTIFICATE"), cert);
        env.insert(QStringLiteral("SLUICE_ADMIN_TLS_KEY"), key);
        static const QRegularExpression adminLine(
            QStringLiteral("admin API listening on 127\\.0\\.0\\.1:(\\d+) \\(https\\)"));
        auto startGateway = [&](GatewayProcess &gw, quint16 adminPort) {
            gw.setEnvironment(env);
            return gw.start({QStringLiteral("--headless"), QStringLiteral("--listen=127.0.0.1:0"),
                             QStringLiteral("--admin-listen=127.0.0.1:%1").arg(adminPort),
                             QStringLiteral("--data-dir"), dataDir}) &&
                   gw.waitForLog(adminLine, kStartTimeoutMs) &&
                   gw.waitForStartupComplete(kStartTimeoutMs);
        };
        auto gw = std::make_unique<GatewayProcess>(kBinary);
        QVERIFY2(startGateway(*gw, 0), gw->why());
        const quint16 port = quint16(adminLine.match(gw->log()).captured(1).toUInt());
        const QUrl url(QStringLiteral("https://127.0.0.1:%1").arg(port));

        // Not trusted: the handshake fails, and the message says what to do.
        RemoteDashboardSource untrusting(url, kToken);
        QSignalSpy refused(&untrusting, &DashboardSource::connectionChanged);
        untrusting.requestOverview();
        QVERIFY(refused.wait(10000));
        QCOMPARE(refused.at(0).at(0).toBool(), false);
        QVERIFY2(refused.at(0).at(1).toString().contains(QLatin1String("--admin-ca")),
                 qPrintable(refused.at(0).at(1).toString()));

        RemoteDashboardSource source(url, kToken);
        source.trustCertificates(QSslCertificate::fromPath(cert));
        source.setTimeout(3000);
        QSignalSpy overview(&source, &DashboardSource::overviewReady);
        QSignalSpy connection(&source, &DashboardSource::connectionChanged);
        source.requestOverview();
        QVERIFY(overview.wait(10000));
        QCOMPARE(overview.last().at(0).toJsonObject().value(QLatin1String("admin_tls")).toBool(),
                 true);
        QCOMPARE(connection.count(), 1);
        QCOMPARE(connection.at(0).at(0).toBool(), true);

        // Outage: the gateway stops; the next poll reports it (once).
        gw->terminate();
        QVERIFY2(gw->waitForExit(15000) && gw->exitedWith(0), gw->why());
        source.requestOverview();
        QVERIFY(connection.wait(10000));
        QCOMPARE(connection.last().at(0).toBool(), false);
        source.requestOverview();
        QTest::qWait(500);
        QCOMPARE(connection.count(), 2);
        // Back on the same port: the next poll succeeds and says so.
        gw = std::make_unique<GatewayProcess>(kBinary);
        QVERIFY2(startGateway(*gw, port), gw->why());
        const int overviewsBefore = int(overview.count());
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                source.requestOverview();
                QTest::qWait(200);
                return connection.count() == 3;
            }(),
            15000);
        QCOMPARE(connection.last().at(0).toBool(), true);
        QTRY_VERIFY(overview.count() > overviewsBefore);

        // The real binary: --admin-ca makes --connect https:// work.
        GatewayProcess dashboard(kBinary);
        dashboard.setEnvironment(dashboardEnvironment());
        dashboard.setWritableInput(true);
        QVERIFY2(dashboard.start({QStringLiteral("--connect"), url.toString(),
                                  QStringLiteral("--admin-ca"), cert}),
                 dashboard.why());
        QVERIFY2(dashboard.waitForLog(QRegularExpression(QStringLiteral("dashboard open")),
                                      kStartTimeoutMs),
                 dashboard.why());
        QJsonObject state;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const QString answer = dashboard.driverCommand("dump", 5000);
                state = QJsonDocument::fromJson(answer.mid(3).toUtf8()).object();
                return !state.value(QLatin1String("overview"))
                            .toObject()
                            .value(QLatin1String("listen"))
                            .toString()
                            .isEmpty();
            }(),
            15000);
        QCOMPARE(dashboard.driverCommand("quit"), QStringLiteral("ok quit"));
        QVERIFY2(dashboard.waitForExit(15000) && dashboard.exitedWith(0), dashboard.why());

        // --admin-ca is refused where it cannot apply or holds no certificate.
        const QStringList tokenEnv{
            QStringLiteral("SLUICE_ADMIN_TOKEN=") + QString::fromLatin1(kToken),
            QStringLiteral("QT_QPA_PLATFORM=offscreen")};
        QString out;
        QCOMPARE(runSluice({QStringLiteral("--connect"), adminUrl().toString(),
                            QStringLiteral("--admin-ca"), cert},
                           tokenEnv, &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("https://")), qPrintable(out));
        QCOMPARE(runSluice({QStringLiteral("--connect"), url.toString(),
                            QStringLiteral("--admin-ca"), m_ini},
                           tokenEnv, &out),
                 2);
        QVERIFY2(out.contains(QLatin1String("no PEM certificate")), qPrintable(out));
        gw->terminate();
        QVERIFY2(gw->waitForExit(15000), gw->why());
    }

    void cleanupTestCase()
    {
        if (!m_gw)
            return;
        m_gw->terminate();
        QVERIFY2(m_gw->waitForExit(15000), m_gw->why());
    }
};

QTEST_GUILESS_MAIN(TestDashboardRemote)
#include "tst_dashboardremote.moc"
