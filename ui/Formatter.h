#pragma once

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>

namespace sluice {

// Numbers, durations and times as the dashboard shows them: thousands separators in the
// user's locale, units spelled out, "unlimited" for a 0 limit. A QML singleton (Fmt) and plain
// static functions for the view models.
class Formatter : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(Fmt)
    QML_SINGLETON
public:
    using QObject::QObject;

    // 12345 -> "12,345"; fractions to `decimals` places ("1,234.5").
    Q_INVOKABLE static QString count(double value, int decimals = 0);
    // A rate: "12.3/s", "0.25/s".
    Q_INVOKABLE static QString rate(double perSecond, const QString &unit = QStringLiteral("/s"));
    // Seconds of latency: "850 ms", "1.25 s".
    Q_INVOKABLE static QString latency(double seconds);
    // An uptime: "3 d 4 h", "2 h 5 min", "42 s".
    Q_INVOKABLE static QString uptime(double seconds);
    // A limit value: 0 -> "unlimited", otherwise count() (requests_per_second keeps decimals).
    Q_INVOKABLE static QString limit(double value, const QString &field = QString());
    // Milliseconds since the epoch -> local "HH:mm:ss" today, else "yyyy-MM-dd HH:mm".
    Q_INVOKABLE static QString time(double epochMs);
    // ISO 8601 text -> like time(); "never" for empty.
    Q_INVOKABLE static QString isoTime(const QString &iso);
};

}  // namespace sluice
