// The tray controller without a system tray (none exists offscreen): its menu's actions emit
// the requests the app wires to the window, the gateway's pause and quit; "Pause serving"
// follows the gateway; the icon's colour and the tooltip's words follow the overall health;
// notifications the desktop cannot show are logged instead of lost.
#include "TrayController.h"

#include <QAction>
#include <QMenu>
#include <QSignalSpy>
#include <QtTest>

using namespace sluice;

class TestTrayController : public QObject
{
    Q_OBJECT

    static QAction *action(TrayController &tray, const QString &text)
    {
        for (QAction *a : tray.menu()->actions()) {
            if (a->text() == text)
                return a;
        }
        return nullptr;
    }

private slots:
    void menuActionsEmitRequests()
    {
        TrayController tray(TrayController::Tray::None);
        QVERIFY(!tray.available());
        QStringList texts;
        for (QAction *a : tray.menu()->actions()) {
            if (!a->isSeparator())
                texts << a->text();
        }
        QCOMPARE(texts, (QStringList{"Open dashboard", "Pause serving", "Quit Sluice"}));

        QSignalSpy open(&tray, &TrayController::openRequested);
        QSignalSpy pause(&tray, &TrayController::pauseRequested);
        QSignalSpy quit(&tray, &TrayController::quitRequested);
        action(tray, "Open dashboard")->trigger();
        QCOMPARE(open.count(), 1);
        QAction *pauseAction = action(tray, "Pause serving");
        QVERIFY(pauseAction->isCheckable());
        pauseAction->trigger();
        QCOMPARE(pause.count(), 1);
        QCOMPARE(pause.at(0).at(0).toBool(), true);
        pauseAction->trigger();
        QCOMPARE(pause.at(1).at(0).toBool(), false);
        QCOMPARE(quit.count(), 0);
        action(tray, "Quit Sluice")->trigger();
        QCOMPARE(quit.count(), 1);
    }

    void pauseFollowsTheGateway()
    {
        TrayController tray(TrayController::Tray::None);
        QSignalSpy pause(&tray, &TrayController::pauseRequested);
        tray.setPaused(true);
        QVERIFY(action(tray, "Pause serving")->isChecked());
        tray.setPaused(false);
        QVERIFY(!action(tray, "Pause serving")->isChecked());
        QCOMPARE(pause.count(), 0);  // reflecting the gateway is not a request to change it
    }

    void iconAndTooltipFollowHealth_data()
    {
        QTest::addColumn<QString>("overall");
        QTest::addColumn<QString>("tooltip");
        QTest::newRow("starting") << QString() << "Sluice: starting";
        QTest::newRow("healthy") << "healthy"
                                 << "Sluice: healthy";
        QTest::newRow("degraded") << "degraded"
                                  << "Sluice: degraded";
        QTest::newRow("unhealthy") << "unhealthy"
                                   << "Sluice: unhealthy";
    }

    void iconAndTooltipFollowHealth()
    {
        QFETCH(QString, overall);
        QFETCH(QString, tooltip);
        TrayController tray(TrayController::Tray::None);
        tray.setHealth(overall.isEmpty() ? QStringLiteral("healthy") : QStringLiteral("unknown"));
        tray.setHealth(overall);
        QCOMPARE(tray.toolTip(), tooltip);
        const QImage image = tray.icon().pixmap(64, 64).toImage();
        QVERIFY(!image.isNull());
        QCOMPARE(image.pixelColor(32, 32).rgb(), TrayController::colorFor(overall).rgb());
        QCOMPARE(image.pixelColor(1, 1).alpha(), 0);  // a dot, not a square
        // Every state has its own colour.
        QSet<QRgb> colors;
        for (const char *s : {"", "healthy", "degraded", "unhealthy"})
            colors.insert(TrayController::colorFor(QString::fromLatin1(s)).rgb());
        QCOMPARE(colors.size(), 4);
    }

    void notificationsWithoutATrayAreLogged()
    {
        TrayController tray(TrayController::Tray::None);
        QTest::ignoreMessage(QtInfoMsg, "notification: Redis is unhealthy - connection refused");
        tray.showMessage(QStringLiteral("Redis is unhealthy"),
                         QStringLiteral("connection refused"));
    }
};

QTEST_MAIN(TestTrayController)
#include "tst_traycontroller.moc"
