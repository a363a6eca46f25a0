#pragma once

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "UsageRecord.h"

#include <QObject>
#include <memory>

namespace sluice {

class MetricsRegistry;

// The usage ledger: record() queues a row without blocking (any thread, the hot path); a ledger
// thread with its own database connection writes queued rows in batched transactions (on size,
// on an interval, and on flush()). The queue is bounded: when full, rows are dropped and counted
// (gateway_ledger_rows_dropped_total), never grown without bound. Also maintains the daily
// rollup and prunes raw rows older than the retention.
//
// The ledger component's schema must be migrated before (Gateway::start() does it). A write that
// fails (database down) keeps its rows queued and is retried every flushIntervalMs with a fresh
// connection; rows that arrive meanwhile count against maxQueue. One UsageLedger per
// MetricsRegistry (it registers gateway_ledger_queue_depth, a callback gauge, once).
class UsageLedger : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int batchSize = 500;  // rows per transaction, and the queue length that wakes the writer
        int flushIntervalMs = 1000;  // also the retry interval after a failed write
        int maxQueue = 100'000;      // rows accepted but not yet written (incl. failed ones)
        int retentionDays = 90;      // raw rows; the daily rollup is kept. <= 0: keep forever
        qint64 pruneIntervalMs = 24LL * 3600 * 1000;  // pruning runs at start, then this often
        QueryObserver queryObserver;                  // for the writer's connection (metrics)
    };
    UsageLedger(const DatabaseUrl &url, Options options, MetricsRegistry &metrics,
                QObject *parent = nullptr);
    ~UsageLedger() override;  // flushes

    // Thread-safe and non-blocking: one short critical section, no I/O.
    void record(UsageRecord record);
    // Writes everything queued so far and waits for it (shutdown, tests). False with *error when
    // the write failed; the rows then stay queued for the next retry.
    bool flush(QString *error = nullptr);
    // Rows accepted and not yet written.
    qint64 queueDepth() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace sluice
