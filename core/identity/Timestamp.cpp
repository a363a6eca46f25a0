#include "Timestamp.h"

#include <QTimeZone>

namespace sluice {

QString Timestamp::toText(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime Timestamp::fromText(const QString &text)
{
    if (text.isEmpty())
        return {};
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        return {};
    if (t.timeSpec() == Qt::LocalTime)  // no offset written: stored times are UTC
        t = QDateTime(t.date(), t.time(), QTimeZone::utc());
    return t.toUTC();
}

QDateTime Timestamp::parse(const QString &text)
{
    const QString s = text.trimmed();
    QDateTime t;
    // Only a bare date: QDate::fromString() also accepts "2025-12-31T18:00:00Z", dropping
    // the time.
    const QDate day = s.size() == 10 ? QDate::fromString(s, Qt::ISODate) : QDate();
    if (day.isValid())
        t = QDateTime(day, QTime(0, 0), QTimeZone::utc());
    else
        t = fromText(s);
    if (!t.isValid() || t.date().year() < 1970 || t.date().year() > 9999)
        return {};
    return t;
}

QDateTime Timestamp::now()
{
    const QDateTime t = QDateTime::currentDateTimeUtc();
    return QDateTime::fromMSecsSinceEpoch(t.toMSecsSinceEpoch(), QTimeZone::utc());
}

}  // namespace sluice
