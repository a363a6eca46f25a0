#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QVariant>
#include <optional>

namespace sluice {

class DatabaseConnection;

// What rows of a usage aggregate are grouped by; Total is one row over everything.
enum class UsageGrouping
{
    Total,
    Day,    // UTC day, "2025-05-01"
    Model,  // the model the client asked for
    Key,    // API key id
    User    // user id
};

struct UsageFilter
{
    std::optional<qint64> userId;
    std::optional<qint64> keyId;
    QString model;   // exact; empty = every model
    QDateTime from;  // inclusive; invalid = since the first row
    QDateTime to;    // exclusive; invalid = no end
};

// One aggregate row. errors counts statuses >= 400 (429, upstream errors, 499 client aborts);
// estimated the requests whose tokens were estimated.
struct UsageRow
{
    QVariant group;  // Day: "2025-05-01", Model: the name, Key/User: the id (qint64), Total: null
    qint64 requests = 0;
    qint64 errors = 0;
    qint64 estimated = 0;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 cachedTokens = 0;
    qint64 cacheWriteTokens = 0;
    qint64 reasoningTokens = 0;
    double latencyMsSum = 0;

    qint64 totalTokens() const { return promptTokens + completionTokens; }
    double averageLatencyMs() const { return requests > 0 ? latencyMsSum / double(requests) : 0; }
};

// Usage aggregates, synchronous on a connection to the ledger database owned by the caller's
// thread (the admin API's database thread, the CLI, the dashboard).
//
// Day-granular questions (from and to absent or at midnight UTC) are answered from the daily
// rollup, which is small and kept forever. A bound with a time of day other than midnight needs
// the raw rows, which are pruned after the ledger's retention (90 days by default): such a query
// sees nothing older than that.
class UsageQuery
{
public:
    explicit UsageQuery(DatabaseConnection &db) : m_db(db) {}

    // Rows ordered by group (day, model name, id); empty for a grouping without any usage,
    // exactly one row for Total (zeros when nothing matched). nullopt with *error when the
    // database fails.
    std::optional<QList<UsageRow>> aggregate(const UsageFilter &filter, UsageGrouping grouping,
                                             QString *error = nullptr);

    // True when the rollup answers: both bounds absent or at 00:00:00.000 UTC.
    static bool isDayGranular(const UsageFilter &filter);

    // "day", "model", "key", "user"; "" (or "total") is Total. nullopt for anything else.
    static std::optional<UsageGrouping> groupingFromText(const QString &text);
    // The inverse; "total" for Total.
    static QString groupingName(UsageGrouping grouping);

private:
    DatabaseConnection &m_db;
};

}  // namespace sluice
