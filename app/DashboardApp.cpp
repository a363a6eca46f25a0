#include "DashboardApp.h"

#include "Dashboard.h"
#include "DashboardDriver.h"
#include "DashboardSettings.h"
#include "DashboardSource.h"
#include "TrayController.h"

#include <QApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>

namespace sluice {

DashboardApp::DashboardApp(std::unique_ptr<DashboardSource> source, QObject *parent)
    : QObject(parent),
      m_source(std::move(source)),
      m_settings(std::make_unique<DashboardSettings>()),
      m_dashboard(std::make_unique<Dashboard>(m_source.get())),
      m_tray(std::make_unique<TrayController>())
{
    connect(m_dashboard->health(), &HealthModel::reportChanged, this,
            [this] { m_tray->setHealth(m_dashboard->health()->overall()); });
    connect(m_dashboard.get(), &Dashboard::notify, m_tray.get(), &TrayController::showMessage);
    connect(m_tray.get(), &TrayController::quitRequested, this, &DashboardApp::quitRequested);
    connect(m_tray.get(), &TrayController::pauseRequested, m_source.get(),
            &DashboardSource::setPaused);
    connect(m_source.get(), &DashboardSource::overviewReady, m_tray.get(),
            [this](const QJsonObject &o) {
                m_tray->setPaused(o.value(QLatin1String("paused")).toBool());
            });
    connect(m_tray.get(), &TrayController::openRequested, this, [this] {
        if (m_window) {
            m_window->show();
            m_window->raise();
            m_window->requestActivate();
        }
    });
}

DashboardApp::~DashboardApp()
{
    // The window's bindings refer to the models: QML goes first.
    m_driver.reset();
    m_engine.reset();
}

bool DashboardApp::show(QString *error)
{
    m_engine = std::make_unique<QQmlApplicationEngine>();
    m_engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    m_engine->setInitialProperties(
        {{QStringLiteral("dashboard"), QVariant::fromValue(m_dashboard.get())},
         {QStringLiteral("settings"), QVariant::fromValue(m_settings.get())},
         {QStringLiteral("trayAvailable"), m_tray->available()}});
    // Collected only while loading, for the error message: the list lives on this stack frame,
    // so the connection must not outlive it (later warnings still go to the log).
    QStringList warnings;
    const QMetaObject::Connection collecting = connect(m_engine.get(), &QQmlEngine::warnings, this,
                                                       [&warnings](const QList<QQmlError> &list) {
                                                           for (const QQmlError &e : list)
                                                               warnings.append(e.toString());
                                                       });
    m_engine->load(QUrl(QStringLiteral("qrc:/qt/qml/Sluice/Dashboard/Main.qml")));
    disconnect(collecting);
    m_window = m_engine->rootObjects().isEmpty()
                   ? nullptr
                   : qobject_cast<QQuickWindow *>(m_engine->rootObjects().first());
    if (!m_window) {
        *error = QStringLiteral("the dashboard did not load: ") + warnings.join(u'\n');
        return false;
    }
    // Without a tray, closing the window is quitting; with one, QML hides the window instead.
    QApplication::setQuitOnLastWindowClosed(false);
    connect(m_window, &QWindow::visibleChanged, this, [this](bool visible) {
        if (!visible && !m_tray->available())
            emit quitRequested();
    });
    if (qEnvironmentVariable("SLUICE_DASHBOARD_DRIVER") == QLatin1String("stdin")) {
        m_driver = std::make_unique<DashboardDriver>(m_window, m_dashboard.get());
        connect(m_driver.get(), &DashboardDriver::quitRequested, this,
                &DashboardApp::quitRequested);
        m_driver->start();
    }
    return true;
}

}  // namespace sluice
