#include "DashboardSettings.h"

#include <QColor>

namespace sluice {

namespace {
const QString kTheme = QStringLiteral("dashboard/theme");
const QString kCloseToTray = QStringLiteral("dashboard/closeToTray");
const QString kLastPage = QStringLiteral("dashboard/lastPage");
const QString kGeometry = QStringLiteral("dashboard/geometry");
const QString kRange = QStringLiteral("dashboard/rangeMinutes");
}  // namespace

DashboardSettings::DashboardSettings(QObject *parent)
    : QObject(parent), m_settings(QStringLiteral("sluice"), QStringLiteral("dashboard"))
{}

QString DashboardSettings::theme() const
{
    const QString t = m_settings.value(kTheme, QStringLiteral("system")).toString();
    return t == QLatin1String("light") || t == QLatin1String("dark") ? t : QStringLiteral("system");
}

void DashboardSettings::setTheme(const QString &theme)
{
    if (theme == this->theme())
        return;
    m_settings.setValue(kTheme, theme);
    emit themeChanged();
}

bool DashboardSettings::closeToTray() const
{
    return m_settings.value(kCloseToTray, true).toBool();
}

void DashboardSettings::setCloseToTray(bool on)
{
    if (on == closeToTray())
        return;
    m_settings.setValue(kCloseToTray, on);
    emit closeToTrayChanged();
}

QString DashboardSettings::lastPage() const
{
    return m_settings.value(kLastPage, QStringLiteral("overview")).toString();
}

void DashboardSettings::setLastPage(const QString &page)
{
    if (page == lastPage())
        return;
    m_settings.setValue(kLastPage, page);
    emit lastPageChanged();
}

QRect DashboardSettings::geometry() const
{
    return m_settings.value(kGeometry).toRect();
}

void DashboardSettings::setGeometry(const QRect &rect)
{
    if (rect == geometry())
        return;
    m_settings.setValue(kGeometry, rect);
    emit geometryChanged();
}

int DashboardSettings::rangeMinutes() const
{
    return m_settings.value(kRange, 5).toInt();
}

void DashboardSettings::setRangeMinutes(int minutes)
{
    if (minutes == rangeMinutes())
        return;
    m_settings.setValue(kRange, minutes);
    emit rangeMinutesChanged();
}

bool DashboardSettings::isDarkColor(const QColor &windowColor)
{
    return windowColor.lightnessF() < 0.5;
}

}  // namespace sluice
