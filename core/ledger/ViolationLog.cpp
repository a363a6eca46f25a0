#include "ViolationLog.h"

#include "LogCategories.h"
#include "MetricsRegistry.h"
#include "WriterThread.h"

#include <QDateTime>
#include <QHash>
#include <QSqlQuery>
#include <algorithm>
#include <atomic>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace sluice {

namespace {

// Rows per upsert statement: 100 rows of 9 values stay far below both databases' parameter
// limits, and one statement per 100 rows keeps a big minute cheap on PostgreSQL.
constexpr int kRowsPerStatement = 100;
constexpr int kColumns = 9;

// What a row is counted under (the table's unique key).
struct RowKey
{
    qint64 minute = 0;  // epoch minutes
    qint64 userId = 0;
    qint64 keyId = 0;
    QByteArray limitName;
    QByteArray route;
    bool shadow = false;

    bool operator==(const RowKey &o) const
    {
        return minute == o.minute && userId == o.userId && keyId == o.keyId && shadow == o.shadow &&
               limitName == o.limitName && route == o.route;
    }
};

size_t qHash(const RowKey &k, size_t seed = 0)
{
    return qHashMulti(seed, k.minute, k.userId, k.keyId, k.limitName, k.route, int(k.shadow));
}

struct RowValue
{
    QByteArray limitType;
    QByteArray tier;
    qint64 count = 0;
};

using Rows = QHash<RowKey, RowValue>;

// ON CONFLICT ... DO UPDATE: SQLite >= 3.24 and PostgreSQL >= 9.5 both have it. A statement's
// rows are distinct keys (a PostgreSQL upsert may touch a row only once per statement).
QString upsertSql(int rows)
{
    QString tuple = QStringLiteral("(?");
    for (int c = 1; c < kColumns; ++c)
        tuple += QStringLiteral(", ?");
    tuple += u')';
    QStringList tuples;
    for (int i = 0; i < rows; ++i)
        tuples << tuple;
    return QStringLiteral(
               "INSERT INTO violations (minute, user_id, key_id, limit_name, limit_type, tier, "
               "route, shadow, count) VALUES ") +
           tuples.join(QStringLiteral(", ")) +
           QStringLiteral(
               " ON CONFLICT (minute, user_id, key_id, limit_name, route, shadow) DO UPDATE SET "
               "count = violations.count + excluded.count");
}

}  // namespace

struct ViolationLog::Impl : WriterThread::Hooks
{
    Impl(const DatabaseUrl &u, Options o, MetricsRegistry &metrics)
        : url(u),
          options(std::move(o)),
          dropped(metrics.counter("gateway_rate_limit_violations_dropped_total",
                                  "Rate-limit denials missing from the violations table: more "
                                  "distinct rows in one write interval than the bound, or "
                                  "still unwritten at shutdown.")),
          writer(*this, QStringLiteral("db-violations"), url, QStringLiteral("ledger"),
                 options.queryObserver)
    {
        options.flushIntervalMs = std::max(1, options.flushIntervalMs);
        options.maxEntries = std::max(1, options.maxEntries);
    }

    // WriterThread::Hooks
    void started() override;
    qint64 waitMs() const override { return options.flushIntervalMs; }
    void take() override;
    bool write(bool stop, QString *error) override;
    void record(bool ok) override;
    void finished() override;

    DatabaseConnection &conn() { return writer.connection(); }
    // Moves `live` into `pending`, within the bound; returns the denials that did not fit.
    qint64 mergeLive(Rows &live);
    bool writePending(QString *error);
    bool writeChunk(const std::vector<std::pair<RowKey, RowValue>> &rows, qsizetype begin,
                    qsizetype end, QString *error);
    void noteDropped(qint64 n);
    void noteResult(bool ok, const QString &error);

    const DatabaseUrl url;
    Options options;
    CounterFamily &dropped;

    WriterThread writer;  // "db-violations"

    // Shared between record()/flush() and the writer, under writer.mutex().
    Rows live;
    qint64 overflow = 0;  // denials refused by the bound since the writer last looked
    qint64 held = 0;      // distinct rows in live + pending
    std::atomic<qint64> droppedTotal{0};

    // The writer thread's own.
    Rows takenLive;                          // this cycle's, from live
    qint64 refused = 0;                      // this cycle's, from overflow
    std::optional<QSqlQuery> fullStatement;  // kRowsPerStatement rows, kept prepared
    Rows pending;                            // taken from live, not yet written
    bool failing = false;
    bool overflowing = false;
    qint64 droppedInStreak = 0;
};

ViolationLog::ViolationLog(const DatabaseUrl &url, Options options, MetricsRegistry &metrics)
    : d(std::make_unique<Impl>(url, std::move(options), metrics))
{
    d->writer.start();
}

ViolationLog::~ViolationLog()
{
    d->writer.stop();
}

QString ViolationLog::minuteText(qint64 epochMinute)
{
    return QDateTime::fromMSecsSinceEpoch(epochMinute * 60'000, Qt::UTC)
        .toString(Qt::ISODateWithMs);
}

void ViolationLog::record(const Violation &v)
{
    const qint64 atMs = v.atMs > 0 ? v.atMs : QDateTime::currentMSecsSinceEpoch();
    RowKey key{atMs / 60'000, v.userId, v.keyId, v.limitName, v.route, v.shadow};
    std::lock_guard lock(d->writer.mutex());
    auto it = d->live.find(key);
    if (it != d->live.end()) {
        it->count += v.count;
        return;
    }
    // A row the writer already holds (not yet written) does not count twice against the bound,
    // but is not looked up here: the writer merges it.
    if (d->held >= d->options.maxEntries) {
        d->overflow += v.count;
        return;
    }
    d->live.insert(std::move(key), RowValue{v.limitType, v.tier, v.count});
    ++d->held;
}

bool ViolationLog::flush(QString *error)
{
    std::unique_lock lock(d->writer.mutex());
    if (d->live.isEmpty() && d->held == 0 && d->overflow == 0)
        return true;
    // One write attempt: it succeeds, or fails and says why; never waits for a database that
    // stays down.
    return d->writer.flushAndWait(lock, error);
}

qint64 ViolationLog::heldEntries() const
{
    std::lock_guard lock(d->writer.mutex());
    return d->held;
}

qint64 ViolationLog::droppedCount() const
{
    return d->droppedTotal.load(std::memory_order_relaxed);
}

// ---- the writer thread ----

void ViolationLog::Impl::started()
{
    qCDebug(lcLedger).noquote() << "violations writer started on" << url.redacted();
}

void ViolationLog::Impl::take()
{
    takenLive.swap(live);
    refused = std::exchange(overflow, 0);
}

bool ViolationLog::Impl::write(bool stop, QString *error)
{
    const qint64 lost = mergeLive(takenLive) + refused;
    takenLive.clear();
    noteDropped(lost);
    // A stale connection (restarted database) gets one more try at once on a fresh one, and so
    // does the last write at shutdown.
    const bool ok =
        pending.isEmpty() || writer.attempt(
                                 stop, [this](QString *e) { return writePending(e); }, error);
    noteResult(ok, *error);
    return ok;
}

void ViolationLog::Impl::record(bool)
{
    held = live.size() + pending.size();
}

void ViolationLog::Impl::finished()
{
    qint64 unwritten = 0;
    for (const RowValue &v : std::as_const(pending))
        unwritten += v.count;
    if (unwritten > 0) {
        dropped.inc({}, double(unwritten));
        droppedTotal.fetch_add(unwritten, std::memory_order_relaxed);
        qCCritical(lcLedger).noquote() << unwritten
                                       << "rate-limit violations could not be written at "
                                          "shutdown and are lost:"
                                       << writer.lastError();
    }
    pending.clear();
    // Before the connection, which the writer thread closes next.
    fullStatement.reset();
}

qint64 ViolationLog::Impl::mergeLive(Rows &taken)
{
    // `pending` is empty unless the last write failed; then both are merged within the bound.
    if (pending.isEmpty()) {
        pending.swap(taken);
        return 0;
    }
    qint64 lost = 0;
    for (auto it = taken.cbegin(); it != taken.cend(); ++it) {
        auto p = pending.find(it.key());
        if (p != pending.end())
            p->count += it->count;
        else if (pending.size() < options.maxEntries)
            pending.insert(it.key(), it.value());
        else
            lost += it->count;
    }
    return lost;
}

void ViolationLog::Impl::noteDropped(qint64 n)
{
    if (n > 0) {
        dropped.inc({}, double(n));
        droppedTotal.fetch_add(n, std::memory_order_relaxed);
        droppedInStreak += n;
        if (!overflowing) {
            overflowing = true;
            qCWarning(lcLedger).noquote()
                << QStringLiteral(
                       "more than %1 distinct rate-limit violation rows in %2 ms: denials "
                       "beyond that are counted in gateway_rate_limit_violations_dropped_total "
                       "but not recorded")
                       .arg(options.maxEntries)
                       .arg(options.flushIntervalMs);
        }
    } else if (overflowing) {
        overflowing = false;
        qCWarning(lcLedger).noquote()
            << droppedInStreak
            << "rate-limit violations were not recorded (too many distinct rows)";
        droppedInStreak = 0;
    }
}

void ViolationLog::Impl::noteResult(bool ok, const QString &error)
{
    // Logged once per failure streak, and once when it ends.
    if (!ok && !failing) {
        failing = true;
        qCWarning(lcLedger).noquote()
            << QStringLiteral(
                   "cannot write rate-limit violations: %1; keeping %2 rows (at most %3) and "
                   "retrying every %4 ms")
                   .arg(error)
                   .arg(pending.size())
                   .arg(options.maxEntries)
                   .arg(options.flushIntervalMs);
    } else if (ok && failing) {
        failing = false;
        qCInfo(lcLedger) << "the violations table takes writes again";
    }
}

bool ViolationLog::Impl::writePending(QString *error)
{
    if (!conn().isOpen() && !conn().open(error))
        return false;
    // Oldest minute first, so that ids follow time as closely as the writes allow.
    std::vector<std::pair<RowKey, RowValue>> rows;
    rows.reserve(size_t(pending.size()));
    for (auto it = pending.cbegin(); it != pending.cend(); ++it)
        rows.emplace_back(it.key(), it.value());
    std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
        return std::tie(a.first.minute, a.first.keyId, a.first.limitName) <
               std::tie(b.first.minute, b.first.keyId, b.first.limitName);
    });
    bool ok = conn().beginTransaction(error);
    for (qsizetype chunk = 0; ok && chunk < qsizetype(rows.size()); chunk += kRowsPerStatement) {
        const qsizetype end = std::min(qsizetype(rows.size()), chunk + kRowsPerStatement);
        ok = writeChunk(rows, chunk, end, error);
    }
    if (ok)
        ok = conn().commit(error);
    if (!ok) {
        if (conn().isOpen())
            conn().rollback(nullptr);
        // A fresh connection for the retry: after a server restart the old one never recovers.
        fullStatement.reset();
        conn().close();
        return false;
    }
    pending.clear();
    return true;
}

bool ViolationLog::Impl::writeChunk(const std::vector<std::pair<RowKey, RowValue>> &rows,
                                    qsizetype begin, qsizetype end, QString *error)
{
    QVariantList values;
    values.reserve((end - begin) * kColumns);
    for (qsizetype i = begin; i < end; ++i) {
        const auto &[k, v] = rows[size_t(i)];
        values << minuteText(k.minute) << k.userId << k.keyId << QString::fromUtf8(k.limitName)
               << QString::fromUtf8(v.limitType) << QString::fromUtf8(v.tier)
               << QString::fromUtf8(k.route) << int(k.shadow ? 1 : 0) << v.count;
    }
    const int n = int(end - begin);
    if (n == kRowsPerStatement) {
        if (!fullStatement) {
            fullStatement = conn().prepare(upsertSql(n), error);
            if (!fullStatement)
                return false;
        }
        const bool ok = conn().execPrepared(*fullStatement, values, error);
        fullStatement->finish();
        return ok;
    }
    std::optional<QSqlQuery> q = conn().prepare(upsertSql(n), error);
    return q && conn().execPrepared(*q, values, error);
}

}  // namespace sluice
