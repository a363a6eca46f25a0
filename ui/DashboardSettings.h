#pragma once

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QRect>
#include <QSettings>

namespace sluice {

// What the dashboard remembers between runs (QSettings, organisation "sluice"): the window's
// geometry, the last page, the theme ("system" follows the palette's window colour, Qt 6.4 has
// no colour-scheme hint) and whether closing the window keeps the gateway running in the tray.
class DashboardSettings : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY themeChanged)
    Q_PROPERTY(bool closeToTray READ closeToTray WRITE setCloseToTray NOTIFY closeToTrayChanged)
    Q_PROPERTY(QString lastPage READ lastPage WRITE setLastPage NOTIFY lastPageChanged)
    Q_PROPERTY(QRect geometry READ geometry WRITE setGeometry NOTIFY geometryChanged)
    Q_PROPERTY(int rangeMinutes READ rangeMinutes WRITE setRangeMinutes NOTIFY rangeMinutesChanged)
public:
    explicit DashboardSettings(QObject *parent = nullptr);

    QString theme() const;
    void setTheme(const QString &theme);  // system | light | dark
    bool closeToTray() const;
    void setCloseToTray(bool on);
    QString lastPage() const;
    void setLastPage(const QString &page);
    QRect geometry() const;  // null when never saved
    void setGeometry(const QRect &rect);
    int rangeMinutes() const;
    void setRangeMinutes(int minutes);

    // True for a dark window colour: the "system" theme's choice.
    Q_INVOKABLE static bool isDarkColor(const QColor &windowColor);

signals:
    void themeChanged();
    void closeToTrayChanged();
    void lastPageChanged();
    void geometryChanged();
    void rangeMinutesChanged();

private:
    QSettings m_settings;
};

}  // namespace sluice
