#pragma once

#include <QObject>
#include <QString>
#include <memory>

class QAction;
class QMenu;
class QSystemTrayIcon;

namespace sluice {

// The tray icon: a dot coloured by the gateway's overall health, a menu (open the dashboard,
// quit) and desktop notifications. Absent when the desktop has no tray (available() false);
// then closing the window quits as usual.
class TrayController : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool available READ available CONSTANT)
public:
    explicit TrayController(QObject *parent = nullptr);
    ~TrayController() override;

    bool available() const { return m_icon != nullptr; }
    void setHealth(const QString &overall);  // healthy | degraded | unhealthy | ""
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
};

}  // namespace sluice
