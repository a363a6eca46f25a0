#include "Formatter.h"

#include <QDateTime>
#include <QLocale>
#include <cmath>

namespace sluice {

QString Formatter::count(double value, int decimals)
{
    if (!std::isfinite(value))
        return QStringLiteral("–");
    return QLocale().toString(value, 'f', decimals);
}

QString Formatter::rate(double perSecond, const QString &unit)
{
    const int decimals = perSecond == 0 ? 0 : (std::abs(perSecond) < 10 ? 2 : 1);
    return count(perSecond, decimals) + unit;
}

QString Formatter::latency(double seconds)
{
    if (seconds < 1.0)
        return count(seconds * 1000.0, seconds < 0.01 ? 1 : 0) + QStringLiteral(" ms");
    return count(seconds, 2) + QStringLiteral(" s");
}

QString Formatter::uptime(double seconds)
{
    const qint64 s = qint64(seconds);
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    if (s < 86400)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    return QStringLiteral("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString Formatter::limit(double value, const QString &field)
{
    if (value == 0)
        return QStringLiteral("unlimited");
    const bool fractional =
        field == QLatin1String("requests_per_second") && value != std::floor(value);
    return count(value, fractional ? 2 : 0);
}

QString Formatter::time(double epochMs)
{
    if (epochMs <= 0)
        return QStringLiteral("never");
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(qint64(epochMs)).toLocalTime();
    if (t.date() == QDate::currentDate())
        return t.toString(QStringLiteral("HH:mm:ss"));
    return t.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString Formatter::isoTime(const QString &iso)
{
    if (iso.isEmpty())
        return QStringLiteral("never");
    const QDateTime t = QDateTime::fromString(iso, Qt::ISODateWithMs);
    return t.isValid() ? time(double(t.toMSecsSinceEpoch())) : iso;
}

}  // namespace sluice
