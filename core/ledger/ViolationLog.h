#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "Violation.h"

#include <memory>

namespace sluice {

class MetricsRegistry;

// The `violations` table: every rate-limit denial, counted per UTC minute, user, key, limit,
// route and shadow flag, so that a flood of 429s costs one row per minute and key, not one per
// request. record() adds to an in-memory aggregate (any thread, the hot path: one short
// critical section, no I/O); a thread of its own ("db-violations", with its own connection)
// upserts the aggregate every flushIntervalMs in one transaction (count = count + n), and at
// flush() and destruction.
//
// Memory is bounded: at most maxEntries distinct rows are held between two writes (and while
// the database is down). Denials that would need a row beyond that are not recorded; they are
// counted in gateway_rate_limit_violations_dropped_total and logged once per streak. The ledger
// component's schema must be migrated before. One ViolationLog per MetricsRegistry.
class ViolationLog
{
public:
    struct Options
    {
        int flushIntervalMs = 1000;  // also the retry interval after a failed write
        int maxEntries = 10'000;     // distinct rows held before a write
        QueryObserver queryObserver;
    };
    ViolationLog(const DatabaseUrl &url, Options options, MetricsRegistry &metrics);
    ~ViolationLog();  // writes what is held (one attempt), then stops the thread
    ViolationLog(const ViolationLog &) = delete;
    ViolationLog &operator=(const ViolationLog &) = delete;

    // Thread-safe and non-blocking.
    void record(const Violation &violation);
    // Writes everything recorded so far and waits for it (shutdown, tests). False with *error
    // when the write failed; the rows are then kept for the next attempt.
    bool flush(QString *error = nullptr);
    // Distinct rows recorded and not yet written.
    qint64 heldEntries() const;
    // Denials not recorded since start (the bound, or lost at shutdown).
    qint64 droppedCount() const;

    // "2026-12-01T10:05:00.000Z": the row's minute, as stored and in JSON.
    static QString minuteText(qint64 epochMinute);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace sluice
