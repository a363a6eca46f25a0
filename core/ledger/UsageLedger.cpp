#include "UsageLedger.h"

#include "LogCategories.h"
#include "MetricsRegistry.h"
#include "WriterThread.h"

#include <QDeadlineTimer>
#include <QSqlQuery>
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

namespace sluice {

namespace {

// Rows per INSERT statement: one statement for many rows is what makes a batch cheap (one round
// trip on PostgreSQL). 100 rows of 17 values stay far below both databases' parameter limits.
constexpr int kRowsPerStatement = 100;
// Pruning deletes in slices, so a first prune of a large backlog never holds the write lock
// (SQLite) for long at a time.
constexpr int kPruneSlice = 10'000;

// "(?, ?, ...), (?, ?, ...), ..."
QString placeholders(int rows, int columns)
{
    QString tuple = QStringLiteral("(?");
    for (int c = 1; c < columns; ++c)
        tuple += QStringLiteral(", ?");
    tuple += u')';
    QStringList tuples;
    for (int i = 0; i < rows; ++i)
        tuples << tuple;
    return tuples.join(QStringLiteral(", "));
}

QString insertSql(int rows)
{
    return QStringLiteral(
               "INSERT INTO usage (at, request_id, user_id, key_id, model, route, upstream, "
               "status, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, "
               "reasoning_tokens, estimated, attempts, latency_ms, ttfb_ms) VALUES ") +
           placeholders(rows, 17);
}

// ON CONFLICT ... DO UPDATE: SQLite >= 3.24 and PostgreSQL >= 9.5 both have it.
QString upsertSql(int rows)
{
    return QStringLiteral(
               "INSERT INTO usage_daily (day, user_id, key_id, model, requests, errors, "
               "estimated, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, "
               "reasoning_tokens, latency_ms_sum) VALUES ") +
           placeholders(rows, 13) +
           QStringLiteral(
               " ON CONFLICT (day, user_id, key_id, model) DO UPDATE SET "
               "requests = usage_daily.requests + excluded.requests, "
               "errors = usage_daily.errors + excluded.errors, "
               "estimated = usage_daily.estimated + excluded.estimated, "
               "prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, "
               "completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens, "
               "cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens, "
               "cache_write_tokens = usage_daily.cache_write_tokens + "
               "excluded.cache_write_tokens, "
               "reasoning_tokens = usage_daily.reasoning_tokens + excluded.reasoning_tokens, "
               "latency_ms_sum = usage_daily.latency_ms_sum + excluded.latency_ms_sum");
}

// Identity's Timestamp text ("2025-05-01T12:00:00.000Z"), without depending on identity.
QString timeText(const QDateTime &at)
{
    const QDateTime t = at.isValid() ? at : QDateTime::currentDateTimeUtc();
    return t.toUTC().toString(Qt::ISODateWithMs);
}

void appendValues(QVariantList &values, const UsageRecord &r, const QString &at)
{
    values << at << QString::fromLatin1(r.requestId) << r.userId << r.keyId << r.model
           << QString::fromUtf8(r.route) << r.upstream << r.status << r.promptTokens
           << r.completionTokens << r.cachedTokens << r.cacheWriteTokens << r.reasoningTokens
           << int(r.estimated ? 1 : 0) << r.attempts << r.latencySeconds * 1000.0
           << (r.timeToFirstByteSeconds > 0 ? QVariant(r.timeToFirstByteSeconds * 1000.0)
                                            : QVariant(QMetaType::fromType<double>()));
}

struct DailySums
{
    qint64 requests = 0;
    qint64 errors = 0;
    qint64 estimated = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 cachedTokens = 0;
    qint64 cacheWriteTokens = 0;
    qint64 reasoningTokens = 0;
    double latencyMs = 0;
};

// day, user, key, model
using DailyKey = std::tuple<QString, qint64, qint64, QString>;

}  // namespace

struct UsageLedger::Impl : WriterThread::Hooks
{
    Impl(const DatabaseUrl &u, Options o, MetricsRegistry &metrics)
        : url(u),
          options(std::move(o)),
          dropped(metrics.counter("gateway_ledger_rows_dropped_total",
                                  "Usage rows lost: the ledger queue was full, or rows still "
                                  "unwritten at shutdown.")),
          written(metrics.counter("gateway_ledger_rows_written_total",
                                  "Usage rows written to the ledger database.")),
          depth(std::make_shared<std::atomic<qint64>>(0)),
          writer(*this, QStringLiteral("db-ledger"), url, QStringLiteral("ledger"),
                 options.queryObserver)
    {
        options.batchSize = std::max(1, options.batchSize);
        options.flushIntervalMs = std::max(1, options.flushIntervalMs);
        options.maxQueue = std::max(1, options.maxQueue);
        options.pruneIntervalMs = std::max<qint64>(1000, options.pruneIntervalMs);
        // Shared with the registry, which may outlive the ledger.
        metrics.addCallbackGauge("gateway_ledger_queue_depth",
                                 "Usage rows accepted and not yet written to the ledger.", {},
                                 [depth = depth] {
                                     return QList<MetricsRegistry::Sample>{
                                         {{}, double(depth->load(std::memory_order_relaxed))}};
                                 });
    }

    // WriterThread::Hooks
    void started() override;
    bool due() const override;
    qint64 waitMs() const override;
    void take() override;
    bool write(bool stop, QString *error) override;
    void finished() override;

    DatabaseConnection &conn() { return writer.connection(); }
    bool writeAll(QString *error);
    bool writeBatch(qsizetype begin, qsizetype end, QString *error);
    // Runs `rows` rows through multi-row statements of at most kRowsPerStatement rows; the
    // full-size one is prepared once into `full`.
    bool execRows(std::unique_ptr<PreparedStatement> &full,
                  const std::function<QString(int)> &sqlFor, qsizetype rows,
                  const std::function<void(qsizetype, QVariantList &)> &append, QString *error);
    bool ensureOpen(QString *error);
    void closeConnection();
    void pruneIfDue();
    void noteResult(bool ok, const QString &error, qint64 rowsBefore);
    void setDepthLocked() { depth->store(queued, std::memory_order_relaxed); }

    const DatabaseUrl url;
    Options options;
    CounterFamily &dropped;
    CounterFamily &written;
    std::shared_ptr<std::atomic<qint64>> depth;

    WriterThread writer;  // "db-ledger"

    // Shared between record()/flush() and the writer, under writer.mutex().
    std::vector<UsageRecord> queue;
    qint64 queued = 0;     // accepted and not yet written: queue + the writer's pending rows
    qint64 accepted = 0;   // ever accepted
    qint64 committed = 0;  // ever written (rows are written in the order accepted)
    std::atomic<bool> dropping{false};  // a drop streak is on (logged once)
    std::atomic<qint64> droppedInStreak{0};

    // The writer thread's own.
    // Statements of kRowsPerStatement rows, kept prepared between batches.
    std::unique_ptr<PreparedStatement> insertFull;
    std::unique_ptr<PreparedStatement> upsertFull;
    std::vector<UsageRecord> pending;  // taken from the queue, not yet written (oldest first)
    qint64 queuedAtTake = 0;           // `queued` when the cycle took the queue
    bool failing = false;
    QDeadlineTimer nextPrune{0};
};

UsageLedger::UsageLedger(const DatabaseUrl &url, Options options, MetricsRegistry &metrics,
                         QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>(url, std::move(options), metrics))
{
    d->writer.start();
}

UsageLedger::~UsageLedger()
{
    d->writer.stop();
}

void UsageLedger::record(UsageRecord record)
{
    std::unique_lock lock(d->writer.mutex());
    if (d->queued >= d->options.maxQueue) {
        lock.unlock();
        d->dropped.inc();
        d->droppedInStreak.fetch_add(1, std::memory_order_relaxed);
        if (!d->dropping.exchange(true))
            qCWarning(lcLedger).noquote()
                << QStringLiteral(
                       "usage ledger queue full (%1 rows): dropping usage rows until "
                       "the ledger database takes writes again")
                       .arg(d->options.maxQueue);
        return;
    }
    d->queue.push_back(std::move(record));
    ++d->queued;
    ++d->accepted;
    d->setDepthLocked();
    const bool wakeWriter = d->queue.size() == size_t(d->options.batchSize);
    lock.unlock();
    if (wakeWriter)
        d->writer.wake();
}

bool UsageLedger::flush(QString *error)
{
    std::unique_lock lock(d->writer.mutex());
    const qint64 target = d->accepted;
    if (d->committed >= target)
        return true;
    // One write attempt of everything queued: it succeeds, or fails and says why; never waits
    // for a database that stays down.
    d->writer.flushAndWait(lock);
    if (d->committed >= target)
        return true;
    const QString &lastError = d->writer.lastError();
    if (error)
        *error = lastError.isEmpty() ? QStringLiteral("usage rows are still queued") : lastError;
    return false;
}

qint64 UsageLedger::queueDepth() const
{
    std::lock_guard lock(d->writer.mutex());
    return d->queued;
}

// ---- the writer thread ----

void UsageLedger::Impl::started()
{
    qCDebug(lcLedger).noquote() << "usage ledger writer started on" << url.redacted();
    pruneIfDue();
}

bool UsageLedger::Impl::due() const
{
    // While writes fail, a full batch does not trigger a retry: only the interval does (or
    // flush() and shutdown), so a database that is down is not hammered.
    return !failing && queue.size() >= size_t(options.batchSize);
}

qint64 UsageLedger::Impl::waitMs() const
{
    const qint64 untilPrune = options.retentionDays > 0 ? nextPrune.remainingTime() : -1;
    return untilPrune >= 0 ? std::min<qint64>(options.flushIntervalMs, untilPrune)
                           : options.flushIntervalMs;
}

void UsageLedger::Impl::take()
{
    if (!queue.empty()) {
        std::move(queue.begin(), queue.end(), std::back_inserter(pending));
        queue.clear();
    }
    queuedAtTake = queued;
}

bool UsageLedger::Impl::write(bool stop, QString *error)
{
    const bool ok = writer.attempt(
        stop, [this](QString *e) { return writeAll(e); }, error);
    noteResult(ok, *error, queuedAtTake);
    if (!stop)
        pruneIfDue();
    return ok;
}

void UsageLedger::Impl::finished()
{
    const qint64 lost = qint64(pending.size());
    {
        std::lock_guard lock(writer.mutex());
        queued -= lost;
        setDepthLocked();
    }
    if (lost > 0) {
        dropped.inc({}, double(lost));
        qCCritical(lcLedger).noquote()
            << lost
            << "usage rows could not be written at shutdown and are lost:" << writer.lastError();
    }
    pending.clear();
    // Prepared statements go before the connection, which the writer thread closes next.
    insertFull.reset();
    upsertFull.reset();
}

void UsageLedger::Impl::noteResult(bool ok, const QString &error, qint64 rowsBefore)
{
    // Logged once per failure streak, and once when it ends.
    if (!ok && !failing) {
        failing = true;
        qCWarning(lcLedger).noquote()
            << QStringLiteral(
                   "cannot write usage rows: %1; keeping %2 rows queued (at most %3) "
                   "and retrying every %4 ms")
                   .arg(error)
                   .arg(pending.size())
                   .arg(options.maxQueue)
                   .arg(options.flushIntervalMs);
    } else if (ok && failing) {
        failing = false;
        qCInfo(lcLedger).noquote()
            << "usage ledger database takes writes again; wrote" << rowsBefore << "queued rows";
    }
    if (ok && dropping.load(std::memory_order_relaxed)) {
        dropping.store(false);
        qCWarning(lcLedger).noquote() << droppedInStreak.exchange(0)
                                      << "usage rows were dropped while the ledger queue was full";
    }
}

bool UsageLedger::Impl::ensureOpen(QString *error)
{
    if (conn().isOpen())
        return true;
    return conn().open(error);
}

void UsageLedger::Impl::closeConnection()
{
    // Prepared queries belong to the connection and must go first.
    insertFull.reset();
    upsertFull.reset();
    conn().close();
}

bool UsageLedger::Impl::writeAll(QString *error)
{
    qsizetype done = 0;
    bool ok = true;
    while (done < qsizetype(pending.size())) {
        const qsizetype end =
            std::min(qsizetype(pending.size()), done + qsizetype(options.batchSize));
        if (!writeBatch(done, end, error)) {
            // A fresh connection for the retry: after a server restart or a dropped database
            // the old one never recovers by itself.
            closeConnection();
            ok = false;
            break;
        }
        const qint64 n = end - done;
        done = end;
        written.inc({}, double(n));
        std::lock_guard lock(writer.mutex());
        queued -= n;
        committed += n;
        setDepthLocked();
    }
    pending.erase(pending.begin(), pending.begin() + done);
    return ok;
}

bool UsageLedger::Impl::execRows(std::unique_ptr<PreparedStatement> &full,
                                 const std::function<QString(int)> &sqlFor, qsizetype rows,
                                 const std::function<void(qsizetype, QVariantList &)> &append,
                                 QString *error)
{
    QVariantList values;
    for (qsizetype chunk = 0; chunk < rows; chunk += kRowsPerStatement) {
        const qsizetype chunkEnd = std::min(rows, chunk + kRowsPerStatement);
        values.clear();
        for (qsizetype i = chunk; i < chunkEnd; ++i)
            append(i, values);
        const int n = int(chunkEnd - chunk);
        if (n == kRowsPerStatement) {
            if (!full) {
                full = conn().prepareStatement(sqlFor(n), error);
                if (!full)
                    return false;
            }
            if (!conn().execPrepared(*full, values, error))
                return false;
            // Prepared for the next batch, but let the driver release the statement's state.
            if (full->query)
                full->query->finish();
        } else {
            const std::unique_ptr<PreparedStatement> q = conn().prepareStatement(sqlFor(n), error);
            if (!q || !conn().execPrepared(*q, values, error))
                return false;
        }
    }
    return true;
}

bool UsageLedger::Impl::writeBatch(qsizetype begin, qsizetype end, QString *error)
{
    if (!ensureOpen(error))
        return false;
    if (!conn().beginTransaction(error))
        return false;
    auto fail = [this] {
        conn().rollback(nullptr);
        return false;
    };

    std::vector<QString> times;
    times.reserve(size_t(end - begin));
    std::map<DailyKey, DailySums> daily;
    for (qsizetype i = begin; i < end; ++i) {
        const UsageRecord &r = pending[size_t(i)];
        times.push_back(timeText(r.at));
        DailySums &s = daily[DailyKey(times.back().left(10), r.userId, r.keyId, r.model)];
        ++s.requests;
        s.errors += r.status >= 400 ? 1 : 0;
        s.estimated += r.estimated ? 1 : 0;
        s.promptTokens += r.promptTokens;
        s.completionTokens += r.completionTokens;
        s.cachedTokens += r.cachedTokens;
        s.cacheWriteTokens += r.cacheWriteTokens;
        s.reasoningTokens += r.reasoningTokens;
        s.latencyMs += r.latencySeconds * 1000.0;
    }
    if (!execRows(
            insertFull, insertSql, end - begin,
            [&](qsizetype i, QVariantList &values) {
                appendValues(values, pending[size_t(begin + i)], times[size_t(i)]);
            },
            error))
        return fail();

    // The rollup in the same transaction, so raw rows and daily sums never disagree. The groups
    // are distinct, which a multi-row upsert needs on PostgreSQL (a row may be hit only once).
    const std::vector<std::pair<DailyKey, DailySums>> groups(daily.begin(), daily.end());
    if (!execRows(
            upsertFull, upsertSql, qsizetype(groups.size()),
            [&](qsizetype i, QVariantList &values) {
                const auto &[key, s] = groups[size_t(i)];
                const auto &[day, userId, keyId, model] = key;
                values << day << userId << keyId << model << s.requests << s.errors << s.estimated
                       << s.promptTokens << s.completionTokens << s.cachedTokens
                       << s.cacheWriteTokens << s.reasoningTokens << s.latencyMs;
            },
            error))
        return fail();
    if (!conn().commit(error))
        return fail();
    return true;
}

void UsageLedger::Impl::pruneIfDue()
{
    if (options.retentionDays <= 0 || !nextPrune.hasExpired())
        return;
    QString error;
    const QString cutoff =
        timeText(QDateTime::currentDateTimeUtc().addDays(-options.retentionDays));
    qint64 removed = 0;
    bool ok = ensureOpen(&error);
    while (ok) {
        std::optional<QSqlQuery> q = conn().query(
            QStringLiteral("DELETE FROM usage WHERE id IN (SELECT id FROM usage WHERE at < ? "
                           "ORDER BY id LIMIT %1)")
                .arg(kPruneSlice),
            {cutoff}, &error);
        if (!q) {
            ok = false;
            break;
        }
        const int n = q->numRowsAffected();
        removed += std::max(0, n);
        if (n < kPruneSlice)
            break;
    }
    if (!ok) {
        // Tried again within the hour, not at every batch.
        closeConnection();
        nextPrune.setRemainingTime(std::min<qint64>(options.pruneIntervalMs, 3600 * 1000));
        qCWarning(lcLedger).noquote() << "cannot prune usage rows:" << error;
        return;
    }
    nextPrune.setRemainingTime(options.pruneIntervalMs);
    if (removed > 0)
        qCInfo(lcLedger).noquote() << QStringLiteral(
                                          "pruned %1 usage rows older than %2 days "
                                          "(before %3)")
                                          .arg(removed)
                                          .arg(options.retentionDays)
                                          .arg(cutoff);
}

}  // namespace sluice
