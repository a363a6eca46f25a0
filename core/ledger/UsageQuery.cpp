#include "UsageQuery.h"

#include "DatabaseConnection.h"

#include <QSqlQuery>

namespace sluice {

namespace {

bool isMidnightUtc(const QDateTime &t)
{
    return !t.isValid() || t.toUTC().time() == QTime(0, 0);
}

QString timeText(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QString dayText(const QDateTime &t)
{
    return t.toUTC().date().toString(Qt::ISODate);
}

}  // namespace

bool UsageQuery::isDayGranular(const UsageFilter &filter)
{
    return isMidnightUtc(filter.from) && isMidnightUtc(filter.to);
}

std::optional<UsageGrouping> UsageQuery::groupingFromText(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t.isEmpty() || t == QLatin1String("total"))
        return UsageGrouping::Total;
    if (t == QLatin1String("day"))
        return UsageGrouping::Day;
    if (t == QLatin1String("model"))
        return UsageGrouping::Model;
    if (t == QLatin1String("key"))
        return UsageGrouping::Key;
    if (t == QLatin1String("user"))
        return UsageGrouping::User;
    return std::nullopt;
}

QString UsageQuery::groupingName(UsageGrouping grouping)
{
    switch (grouping) {
        case UsageGrouping::Total:
            break;
        case UsageGrouping::Day:
            return QStringLiteral("day");
        case UsageGrouping::Model:
            return QStringLiteral("model");
        case UsageGrouping::Key:
            return QStringLiteral("key");
        case UsageGrouping::User:
            return QStringLiteral("user");
    }
    return QStringLiteral("total");
}

std::optional<QList<UsageRow>> UsageQuery::aggregate(const UsageFilter &filter,
                                                     UsageGrouping grouping, QString *error)
{
    const bool rollup = isDayGranular(filter);
    QString groupColumn;
    switch (grouping) {
        case UsageGrouping::Total:
            break;
        case UsageGrouping::Day:
            // The first ten characters of the Timestamp text are the UTC day.
            groupColumn = rollup ? QStringLiteral("day") : QStringLiteral("SUBSTR(at, 1, 10)");
            break;
        case UsageGrouping::Model:
            groupColumn = QStringLiteral("model");
            break;
        case UsageGrouping::Key:
            groupColumn = QStringLiteral("key_id");
            break;
        case UsageGrouping::User:
            groupColumn = QStringLiteral("user_id");
            break;
    }

    // Sums are cast back to BIGINT: PostgreSQL's SUM(BIGINT) is NUMERIC.
    auto sum = [](const QString &expr) {
        return QStringLiteral("COALESCE(CAST(SUM(%1) AS BIGINT), 0)").arg(expr);
    };
    QStringList columns;
    if (rollup) {
        columns << sum(QStringLiteral("requests")) << sum(QStringLiteral("errors"))
                << sum(QStringLiteral("estimated")) << sum(QStringLiteral("prompt_tokens"))
                << sum(QStringLiteral("completion_tokens")) << sum(QStringLiteral("cached_tokens"))
                << sum(QStringLiteral("cache_write_tokens"))
                << sum(QStringLiteral("reasoning_tokens"))
                << QStringLiteral("COALESCE(SUM(latency_ms_sum), 0)");
    } else {
        columns << QStringLiteral("COUNT(*)")
                << sum(QStringLiteral("CASE WHEN status >= 400 THEN 1 ELSE 0 END"))
                << sum(QStringLiteral("estimated")) << sum(QStringLiteral("prompt_tokens"))
                << sum(QStringLiteral("completion_tokens")) << sum(QStringLiteral("cached_tokens"))
                << sum(QStringLiteral("cache_write_tokens"))
                << sum(QStringLiteral("reasoning_tokens"))
                << QStringLiteral("COALESCE(SUM(latency_ms), 0)");
    }
    if (!groupColumn.isEmpty())
        columns.prepend(groupColumn);

    QStringList where;
    QVariantList values;
    if (filter.userId) {
        where << QStringLiteral("user_id = ?");
        values << *filter.userId;
    }
    if (filter.keyId) {
        where << QStringLiteral("key_id = ?");
        values << *filter.keyId;
    }
    if (!filter.model.isEmpty()) {
        where << QStringLiteral("model = ?");
        values << filter.model;
    }
    if (filter.from.isValid()) {
        where << (rollup ? QStringLiteral("day >= ?") : QStringLiteral("at >= ?"));
        values << (rollup ? dayText(filter.from) : timeText(filter.from));
    }
    if (filter.to.isValid()) {
        where << (rollup ? QStringLiteral("day < ?") : QStringLiteral("at < ?"));
        values << (rollup ? dayText(filter.to) : timeText(filter.to));
    }

    QString sql = QStringLiteral("SELECT %1 FROM %2")
                      .arg(columns.join(QStringLiteral(", ")),
                           rollup ? QStringLiteral("usage_daily") : QStringLiteral("usage"));
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    if (!groupColumn.isEmpty())
        sql += QStringLiteral(" GROUP BY %1 ORDER BY %1").arg(groupColumn);

    std::optional<QSqlQuery> q = m_db.query(sql, values, error);
    if (!q)
        return std::nullopt;
    QList<UsageRow> rows;
    const int first = groupColumn.isEmpty() ? 0 : 1;
    while (q->next()) {
        UsageRow row;
        switch (grouping) {
            case UsageGrouping::Total:
                break;
            case UsageGrouping::Day:
            case UsageGrouping::Model:
                row.group = q->value(0).toString();
                break;
            case UsageGrouping::Key:
            case UsageGrouping::User:
                row.group = q->value(0).toLongLong();
                break;
        }
        row.requests = q->value(first).toLongLong();
        row.errors = q->value(first + 1).toLongLong();
        row.estimated = q->value(first + 2).toLongLong();
        row.promptTokens = q->value(first + 3).toLongLong();
        row.completionTokens = q->value(first + 4).toLongLong();
        row.cachedTokens = q->value(first + 5).toLongLong();
        row.cacheWriteTokens = q->value(first + 6).toLongLong();
        row.reasoningTokens = q->value(first + 7).toLongLong();
        row.latencyMsSum = q->value(first + 8).toDouble();
        rows.append(row);
    }
    // An aggregate without GROUP BY always has its one row; make sure of it anyway.
    if (grouping == UsageGrouping::Total && rows.isEmpty())
        rows.append(UsageRow{});
    return rows;
}

}  // namespace sluice
