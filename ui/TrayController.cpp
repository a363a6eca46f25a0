#include "TrayController.h"

#include "LogCategories.h"

#include <QAction>
#include <QMenu>
#include <QPainter>
#include <QPixmap>
#include <QSystemTrayIcon>

namespace sluice {

namespace {
QIcon dotIcon(const QColor &color)
{
    QPixmap pixmap(64, 64);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(color.darker(140), 4));
    p.setBrush(color);
    p.drawEllipse(QRectF(6, 6, 52, 52));
    return QIcon(pixmap);
}
}  // namespace

TrayController::TrayController(Tray tray, QObject *parent) : QObject(parent)
{
    m_menu = std::make_unique<QMenu>();
    m_menu->addAction(tr("Open dashboard"), this, &TrayController::openRequested);
    // Paused: /v1 answers 503 and the readiness probe fails, so balancers send traffic
    // elsewhere; the dashboard, /health and /metrics keep working.
    m_pause = m_menu->addAction(tr("Pause serving"));
    m_pause->setCheckable(true);
    connect(m_pause, &QAction::triggered, this, &TrayController::pauseRequested);
    m_menu->addSeparator();
    m_menu->addAction(tr("Quit Sluice"), this, &TrayController::quitRequested);
    setHealth(QString());
    if (tray == Tray::None || !QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_icon = new QSystemTrayIcon(icon(), this);
    m_icon->setToolTip(m_toolTip);
    m_icon->setContextMenu(m_menu.get());
    connect(m_icon, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                    emit openRequested();
            });
    m_icon->show();
}

TrayController::~TrayController() = default;

QColor TrayController::colorFor(const QString &overall)
{
    if (overall == QLatin1String("healthy"))
        return QColor(0x2e, 0x9e, 0x5b);
    if (overall == QLatin1String("degraded"))
        return QColor(0xd9, 0x8e, 0x04);
    if (overall == QLatin1String("unhealthy"))
        return QColor(0xd6, 0x33, 0x33);
    return QColor(0x88, 0x88, 0x88);
}

QIcon TrayController::icon() const
{
    return dotIcon(m_color);
}

void TrayController::setHealth(const QString &overall)
{
    if (overall == m_health && m_color.isValid())
        return;
    m_health = overall;
    m_color = colorFor(overall);
    // The tooltip says the status in words: the colour alone is not enough.
    m_toolTip = overall.isEmpty() ? tr("Sluice: starting") : tr("Sluice: %1").arg(overall);
    if (m_icon) {
        m_icon->setIcon(icon());
        m_icon->setToolTip(m_toolTip);
    }
}

void TrayController::setPaused(bool paused)
{
    if (m_pause)
        m_pause->setChecked(paused);
}

void TrayController::showMessage(const QString &title, const QString &message)
{
    if (m_icon && QSystemTrayIcon::supportsMessages())
        m_icon->showMessage(title, message, QSystemTrayIcon::Warning, 10'000);
    else
        qCInfo(lcGateway).noquote() << "notification:" << title << "-" << message;
}

}  // namespace sluice
