#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

namespace sluice {

class DatabaseConnection;

// One key's use of one route and model since a month began, as the limiter counts it: requests that
// were forwarded to an upstream (the gateway's own refusals and rate-limit denials name no
// upstream) and the tokens of every request.
struct MonthToDateRow
{
    qint64 userId = 0;
    qint64 keyId = 0;
    QString route;
    QString model;  // per-model monthly quotas match it against their patterns
    qint64 forwarded = 0;
    qint64 tokens = 0;
};

// Reads the ledger at start so that monthly quotas survive a restart: the limiter's monthly
// counters are seeded from it, never handed out fresh. Synchronous, on the caller's connection.
class MonthToDateUsage
{
public:
    static std::optional<QList<MonthToDateRow>> load(DatabaseConnection &db,
                                                     const QDateTime &monthStart,
                                                     QString *error = nullptr);
};

}  // namespace sluice
