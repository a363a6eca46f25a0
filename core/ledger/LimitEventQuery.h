#pragma once

#include "QuotaAlert.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>

namespace sluice {

class DatabaseConnection;

// One row of the `violations` table: the denials of one key by one limit on one route in one
// UTC minute.
struct ViolationRow
{
    qint64 id = 0;
    QString minute;  // "2026-12-01T10:05:00.000Z"
    qint64 userId = 0;
    qint64 keyId = 0;
    QString limitName;
    QString limitType;
    QString tier;
    QString route;
    bool shadow = false;
    qint64 count = 0;
};

struct ViolationFilter
{
    QDateTime from;  // minutes starting at or after it; invalid = no bound
    QDateTime to;    // minutes starting before it; invalid = no bound
    std::optional<qint64> userId;
    std::optional<qint64> keyId;
    QString limitName;  // exact; empty = every limit
    std::optional<bool> shadow;
};

struct AlertFilter
{
    QDateTime from;  // raised at or after it
    QDateTime to;    // raised before it
    std::optional<qint64> userId;
};

// Reads the violations and alerts tables for the admin API (and the dashboard), newest first,
// one page at a time: `afterId` > 0 continues after the row with that id (older rows only).
// Synchronous, on a connection to the ledger database owned by the caller's thread.
class LimitEventQuery
{
public:
    explicit LimitEventQuery(DatabaseConnection &db) : m_db(db) {}

    std::optional<QList<ViolationRow>> violations(const ViolationFilter &filter, int limit,
                                                  qint64 afterId, QString *error = nullptr);
    std::optional<QList<QuotaAlert>> alerts(const AlertFilter &filter, int limit, qint64 afterId,
                                            QString *error = nullptr);

    // The admin API's JSON objects (snake_case): a violation row has id, minute, user_id,
    // key_id, limit_name, limit_type, tier, route, shadow, count; an alert id, at, month,
    // scope, user_id, key_id (null for a user's quota), limit_name, threshold_percent, used,
    // limit.
    static QJsonObject toJson(const ViolationRow &row);
    static QJsonObject toJson(const QuotaAlert &alert);

private:
    DatabaseConnection &m_db;
};

}  // namespace sluice
