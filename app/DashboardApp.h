#pragma once

#include <QObject>
#include <memory>

class QQmlApplicationEngine;
class QQuickWindow;

namespace sluice {

class Dashboard;
class DashboardDriver;
class DashboardSettings;
class DashboardSource;
class Gateway;
class TrayController;

// The desktop dashboard over a DashboardSource: loads the QML window, the tray icon and, for
// tests (SLUICE_DASHBOARD_DRIVER=stdin), the command driver. quitRequested() when the user
// quits (tray menu, or closing the window when there is no tray).
class DashboardApp : public QObject
{
    Q_OBJECT
public:
    explicit DashboardApp(std::unique_ptr<DashboardSource> source, QObject *parent = nullptr);
    ~DashboardApp() override;

    // Loads the window; false with *error when QML failed to load.
    bool show(QString *error);

signals:
    void quitRequested();

private:
    std::unique_ptr<DashboardSource> m_source;
    std::unique_ptr<DashboardSettings> m_settings;
    std::unique_ptr<Dashboard> m_dashboard;
    std::unique_ptr<TrayController> m_tray;
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    std::unique_ptr<DashboardDriver> m_driver;
    QQuickWindow *m_window = nullptr;
};

}  // namespace sluice
