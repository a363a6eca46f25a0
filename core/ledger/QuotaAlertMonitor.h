#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "QuotaAlert.h"

#include <QObject>
#include <memory>

namespace sluice {

class MetricsRegistry;

// Watches monthly quotas as requests use them and raises an alert when a user or key crosses
// 80 % of one and when it reaches 100 %: once per principal, limit, UTC month and threshold,
// also across restarts (load() reads this month's alerts back). Each alert is a row of the
// `alerts` table (written by a thread of its own, "db-alerts", with its own connection), a
// warning on sluice.gateway, gateway_quota_alerts_total, and alertRaised() on this object's
// thread (the main thread: the dashboard connects to it).
//
// observe() is called by the workers after every decision that involves a monthly quota: below
// 80 % it returns after one comparison, and above, it takes a shared lock until the alert is
// due. The ledger component's schema must be migrated before. One per MetricsRegistry.
class QuotaAlertMonitor : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int retryIntervalMs = 5000;  // after a failed write
        int maxPending = 10'000;     // alert rows kept while the database is down
        QueryObserver queryObserver;
    };

    // Where one principal stands on one monthly quota after a request.
    struct Usage
    {
        QByteArray scope;  // "user" | "key": whose quota
        qint64 userId = 0;
        qint64 keyId = 0;       // the request's key (the alert keeps it only for key quotas)
        QByteArray limitName;   // "key-monthly-requests"
        double limit = 0;       // the quota
        double used = 0;        // used this month, the request included when it was allowed
        bool refused = false;   // the quota refused the request (too little of it left)
        qint64 monthIndex = 0;  // months since January 1970 (CalendarMonth::indexOf)
    };

    QuotaAlertMonitor(const DatabaseUrl &url, Options options, MetricsRegistry &metrics,
                      QObject *parent = nullptr);
    ~QuotaAlertMonitor() override;  // writes the rows still pending (one attempt)

    // Reads the alerts already raised for the month holding `now` and the one before, so that
    // a restart raises none twice. On the calling thread with a connection of its own; call it
    // before the first observe().
    bool load(const QDateTime &now, QString *error = nullptr);

    // Thread-safe. Raises the alerts `usage` crosses that were not raised yet. At 100 %: used
    // up, or refused a request while past 80 %.
    void observe(const Usage &usage);

    // Writes every alert raised so far and waits for it (shutdown, tests). False with *error
    // when the write failed; the rows are then kept for the next attempt.
    bool flush(QString *error = nullptr);

    // "2026-12" for months since January 1970, and back (-1 when unreadable).
    static QString monthText(qint64 monthIndex);
    static qint64 monthIndexOf(const QString &text);
    static qint64 monthIndexOf(const QDateTime &time);

signals:
    // Emitted on this object's thread, after the alert was logged (its row may still be on its
    // way to the database).
    void alertRaised(const sluice::QuotaAlert &alert);

private:
    struct Impl;
    void raise(const Usage &usage, int thresholdPercent);

    std::unique_ptr<Impl> d;
};

}  // namespace sluice
