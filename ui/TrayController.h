#pragma once

#include <QColor>
#include <QIcon>
#include <QObject>
#include <QString>
#include <memory>

class QAction;
class QMenu;
class QSystemTrayIcon;

namespace sluice {

// The tray icon: a dot coloured by the gateway's overall health, a menu (open the dashboard,
// pause serving, quit) and desktop notifications. The menu, icon and tooltip exist even when
// the desktop has no tray, so they behave the same everywhere (and tests can drive them); only
// the QSystemTrayIcon is absent then (available() false): closing the window quits as usual,
// and notifications go to the log.
class TrayController : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool available READ available CONSTANT)
public:
    enum class Tray
    {
        IfAvailable,  // a system tray icon when the desktop has a tray
        None          // never (tests, and desktops whose tray is unwanted)
    };
    explicit TrayController(Tray tray = Tray::IfAvailable, QObject *parent = nullptr);
    ~TrayController() override;

    bool available() const { return m_icon != nullptr; }
    QMenu *menu() const { return m_menu.get(); }
    QIcon icon() const;
    QString toolTip() const { return m_toolTip; }
    void setHealth(const QString &overall);  // healthy | degraded | unhealthy | ""
    // A desktop notification; logged (sluice.gateway, info) where the desktop cannot show one.
    void showMessage(const QString &title, const QString &message);
    // Ticks "Pause serving" to match the gateway.
    void setPaused(bool paused);
    // The icon's colour for a status (also the pages' status colours in light theme).
    static QColor colorFor(const QString &overall);

signals:
    void openRequested();
    void quitRequested();
    void pauseRequested(bool paused);

private:
    std::unique_ptr<QMenu> m_menu;
    QSystemTrayIcon *m_icon = nullptr;  // child of this
    QAction *m_pause = nullptr;         // owned by m_menu
    QString m_health;
    QString m_toolTip;
    QColor m_color;
};

}  // namespace sluice
