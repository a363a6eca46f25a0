#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace sluice {

// A user or key crossed 80 % of a monthly quota, or reached 100 % (a row of the `alerts` table,
// QuotaAlertMonitor::alertRaised). Raised once per principal, limit, month and threshold.
struct QuotaAlert
{
    qint64 id = 0;             // the row's id (0 until read back from the table)
    QDateTime at;              // UTC, when it was raised
    QString month;             // the UTC month of the quota: "2026-12"
    QByteArray scope;          // "user" | "key": whose quota
    qint64 userId = 0;         // the user (a key's owner for key quotas)
    qint64 keyId = 0;          // the key for key quotas; 0 for user quotas
    QByteArray limitName;      // "key-monthly-requests", "user-monthly-tokens"
    int thresholdPercent = 0;  // 80 | 100
    double used = 0;           // requests or tokens used when it was raised
    double limit = 0;          // the quota then
};

}  // namespace sluice

Q_DECLARE_METATYPE(sluice::QuotaAlert)
