#include "QuotaAlertMonitor.h"

#include "LogCategories.h"
#include "MetricsRegistry.h"
#include "WriterThread.h"

#include <QHash>
#include <QSqlQuery>
#include <algorithm>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace sluice {

namespace {

constexpr quint8 kAt80 = 1;
constexpr quint8 kAt100 = 2;

quint8 bitOf(int thresholdPercent)
{
    return thresholdPercent >= 100 ? kAt100 : kAt80;
}

// One principal's quota in one month. limitName starts with the scope ("key-..."), so the id
// is unambiguous.
struct QuotaKey
{
    qint64 principal = 0;
    QByteArray limitName;
    qint64 month = 0;

    bool operator==(const QuotaKey &o) const
    {
        return principal == o.principal && month == o.month && limitName == o.limitName;
    }
};

size_t qHash(const QuotaKey &k, size_t seed = 0)
{
    return qHashMulti(seed, k.principal, k.limitName, k.month);
}

QString formatAmount(double v)
{
    return QString::number(v, 'f', v == std::floor(v) ? 0 : 2);
}

}  // namespace

struct QuotaAlertMonitor::Impl : WriterThread::Hooks
{
    Impl(const DatabaseUrl &u, Options o, MetricsRegistry &metrics)
        : url(u),
          options(std::move(o)),
          raisedTotal(metrics.counter("gateway_quota_alerts_total",
                                      "Monthly quota alerts raised, by whose quota (user, key) "
                                      "and threshold (80, 100).",
                                      {"scope", "threshold"})),
          writer(*this, QStringLiteral("db-alerts"), url, QStringLiteral("ledger"),
                 options.queryObserver)
    {
        options.retryIntervalMs = std::max(1, options.retryIntervalMs);
        options.maxPending = std::max(1, options.maxPending);
    }

    // WriterThread::Hooks
    bool due() const override;
    qint64 waitMs() const override;
    void take() override { taken = queue; }  // kept in the queue until written
    bool write(bool stop, QString *error) override;
    void record(bool ok) override;
    void finished() override;

    DatabaseConnection &conn() { return writer.connection(); }
    bool writeRows(const std::vector<QuotaAlert> &rows, QString *error);

    const DatabaseUrl url;
    Options options;
    CounterFamily &raisedTotal;

    // Which thresholds were raised, per quota and month.
    std::shared_mutex raisedLock;
    QHash<QuotaKey, quint8> raised;
    qint64 latestMonth = 0;

    WriterThread writer;  // "db-alerts"

    // Shared between observe()/flush() and the writer, under writer.mutex().
    std::vector<QuotaAlert> queue;
    bool failing = false;

    std::vector<QuotaAlert> taken;  // the writer thread's own: this cycle's copy of the queue
};

QuotaAlertMonitor::QuotaAlertMonitor(const DatabaseUrl &url, Options options,
                                     MetricsRegistry &metrics, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>(url, std::move(options), metrics))
{
    d->writer.start();
}

QuotaAlertMonitor::~QuotaAlertMonitor()
{
    d->writer.stop();
}

QString QuotaAlertMonitor::monthText(qint64 monthIndex)
{
    const qint64 year = 1970 + (monthIndex >= 0 ? monthIndex / 12 : (monthIndex - 11) / 12);
    const qint64 month = monthIndex - (year - 1970) * 12 + 1;
    return QStringLiteral("%1-%2")
        .arg(year, 4, 10, QLatin1Char('0'))
        .arg(month, 2, 10, QLatin1Char('0'));
}

qint64 QuotaAlertMonitor::monthIndexOf(const QString &text)
{
    const QDate date = QDate::fromString(text + QStringLiteral("-01"), Qt::ISODate);
    return date.isValid() ? qint64(date.year() - 1970) * 12 + date.month() - 1 : -1;
}

qint64 QuotaAlertMonitor::monthIndexOf(const QDateTime &time)
{
    const QDate date = time.toUTC().date();
    return qint64(date.year() - 1970) * 12 + date.month() - 1;
}

bool QuotaAlertMonitor::load(const QDateTime &now, QString *error)
{
    const qint64 month = monthIndexOf(now);
    DatabaseConnection conn(d->url, QStringLiteral("ledger"));
    conn.setQueryObserver(d->options.queryObserver);
    if (!conn.open(error))
        return false;
    auto q = conn.query(
        QStringLiteral("SELECT scope, user_id, key_id, limit_name, threshold_percent, month "
                       "FROM alerts WHERE month >= ?"),
        {monthText(month - 1)}, error);
    if (!q)
        return false;
    int n = 0;
    std::unique_lock lock(d->raisedLock);
    while (q->next()) {
        const bool user = q->value(0).toString() == QLatin1String("user");
        const QuotaKey key{user ? q->value(1).toLongLong() : q->value(2).toLongLong(),
                           q->value(3).toString().toUtf8(), monthIndexOf(q->value(5).toString())};
        d->raised[key] |= bitOf(q->value(4).toInt());
        ++n;
    }
    d->latestMonth = std::max(d->latestMonth, month);
    lock.unlock();
    if (n > 0)
        qCDebug(lcLedger) << n << "quota alerts of this month and the last read back";
    return true;
}

void QuotaAlertMonitor::observe(const Usage &u)
{
    // Most requests are far from their quota: one comparison and out, no lock.
    if (u.limit <= 0 || u.used * 100 + 1e-6 < u.limit * 80)
        return;
    const quint8 wanted = kAt80 | (u.refused || u.used + 1e-9 >= u.limit ? kAt100 : 0);
    const QuotaKey key{u.scope == "user" ? u.userId : u.keyId, u.limitName, u.monthIndex};
    {
        std::shared_lock lock(d->raisedLock);
        const auto it = d->raised.constFind(key);
        if (it != d->raised.cend() && (*it & wanted) == wanted)
            return;
    }
    quint8 fresh = 0;
    {
        std::unique_lock lock(d->raisedLock);
        if (u.monthIndex > d->latestMonth) {
            // A new month: what is older than the month before can never be raised again.
            d->latestMonth = u.monthIndex;
            d->raised.removeIf([month = u.monthIndex](QHash<QuotaKey, quint8>::iterator it) {
                return it.key().month < month - 1;
            });
        }
        quint8 &bits = d->raised[key];
        fresh = wanted & ~bits;
        bits |= wanted;
    }
    if (fresh & kAt80)
        raise(u, 80);
    if (fresh & kAt100)
        raise(u, 100);
}

void QuotaAlertMonitor::raise(const Usage &u, int thresholdPercent)
{
    QuotaAlert a;
    a.at = QDateTime::currentDateTimeUtc();
    a.month = monthText(u.monthIndex);
    a.scope = u.scope;
    a.userId = u.userId;
    a.keyId = u.scope == "user" ? 0 : u.keyId;
    a.limitName = u.limitName;
    a.thresholdPercent = thresholdPercent;
    a.used = u.used;
    a.limit = u.limit;

    const QString who = u.scope == "user"
                            ? QStringLiteral("user %1").arg(u.userId)
                            : QStringLiteral("key %1 (user %2)").arg(u.keyId).arg(u.userId);
    qCWarning(lcGateway).noquote()
        << QStringLiteral("quota alert: %1 %2 %3% of %4 in %5: %6 of %7 used")
               .arg(who,
                    thresholdPercent >= 100 ? QStringLiteral("reached") : QStringLiteral("crossed"))
               .arg(thresholdPercent)
               .arg(QString::fromUtf8(u.limitName), a.month, formatAmount(a.used),
                    formatAmount(a.limit));
    d->raisedTotal.inc({u.scope, QByteArray::number(thresholdPercent)});
    {
        std::lock_guard lock(d->writer.mutex());
        if (qsizetype(d->queue.size()) < d->options.maxPending)
            d->queue.push_back(a);
        else
            qCWarning(lcLedger) << "quota alert row not stored: too many rows are waiting for "
                                   "the ledger database";
    }
    d->writer.wake();
    // Emitted on this object's thread; dropped with the event if the object is gone by then.
    QMetaObject::invokeMethod(
        this, [this, a] { emit alertRaised(a); }, Qt::QueuedConnection);
}

bool QuotaAlertMonitor::flush(QString *error)
{
    std::unique_lock lock(d->writer.mutex());
    if (d->queue.empty())
        return true;
    return d->writer.flushAndWait(lock, error);
}

// ---- the writer thread ----

bool QuotaAlertMonitor::Impl::due() const
{
    // New rows wake the writer at once, unless writes are failing: then only the retry interval
    // does (or flush() and shutdown).
    return !failing && !queue.empty();
}

qint64 QuotaAlertMonitor::Impl::waitMs() const
{
    return failing ? options.retryIntervalMs : -1;
}

bool QuotaAlertMonitor::Impl::write(bool stop, QString *error)
{
    const bool ok =
        taken.empty() || writer.attempt(
                             stop, [this](QString *e) { return writeRows(taken, e); }, error);
    if (!ok && !failing)
        qCWarning(lcLedger).noquote()
            << QStringLiteral("cannot write quota alerts: %1; retrying every %2 ms")
                   .arg(*error)
                   .arg(options.retryIntervalMs);
    else if (ok && failing)
        qCInfo(lcLedger) << "quota alert rows written again";
    return ok;
}

void QuotaAlertMonitor::Impl::record(bool ok)
{
    failing = !ok;
    if (ok)
        queue.erase(queue.begin(), queue.begin() + qsizetype(taken.size()));
    taken.clear();
}

void QuotaAlertMonitor::Impl::finished()
{
    std::unique_lock lock(writer.mutex());
    const size_t lost = queue.size();
    lock.unlock();
    if (lost > 0)
        qCCritical(lcLedger).noquote()
            << lost << "quota alert rows could not be written at shutdown:" << writer.lastError();
}

bool QuotaAlertMonitor::Impl::writeRows(const std::vector<QuotaAlert> &rows, QString *error)
{
    if (!conn().isOpen() && !conn().open(error))
        return false;
    bool ok = conn().beginTransaction(error);
    // DO NOTHING: another gateway on the same database may have raised the same alert (the
    // unique index keeps one row per principal, limit, month and threshold).
    const QString sql = QStringLiteral(
        "INSERT INTO alerts (at, month, scope, user_id, key_id, limit_name, threshold_percent, "
        "used, limit_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    for (const QuotaAlert &a : rows) {
        if (!ok)
            break;
        ok = conn().exec(
            sql,
            {a.at.toUTC().toString(Qt::ISODateWithMs), a.month, QString::fromLatin1(a.scope),
             a.userId, a.keyId > 0 ? QVariant(a.keyId) : QVariant(QMetaType::fromType<qint64>()),
             QString::fromUtf8(a.limitName), a.thresholdPercent, a.used, a.limit},
            error);
    }
    if (ok)
        ok = conn().commit(error);
    if (!ok) {
        if (conn().isOpen())
            conn().rollback(nullptr);
        conn().close();
    }
    return ok;
}

}  // namespace sluice
