#pragma once

#include <QDateTime>
#include <QString>

namespace sluice {

// The one text form of identity timestamps, in the database and in JSON:
// "2025-05-01T12:00:00.000Z" (UTC, milliseconds, fixed width), so that text comparison and
// ORDER BY agree with time order on SQLite and PostgreSQL alike.
class Timestamp
{
public:
    // Empty for an invalid QDateTime (SQL NULL / JSON null).
    static QString toText(const QDateTime &time);
    // Reads toText() (and any ISO 8601 date-time); invalid for empty or unreadable text.
    static QDateTime fromText(const QString &text);
    // Operator input (CLI --expires, JSON expires_at): an ISO 8601 date ("2025-12-31",
    // midnight UTC) or date-time with an optional offset ("2025-12-31T18:00:00+02:00"; none
    // means UTC). Invalid when unreadable or outside years 1970..9999.
    static QDateTime parse(const QString &text);
    // Now in UTC, truncated to milliseconds (what a round trip through toText() keeps).
    static QDateTime now();
};

}  // namespace sluice
