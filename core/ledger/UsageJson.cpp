#include "UsageJson.h"

#include <cmath>

namespace sluice {

namespace {

QJsonValue timeOrNull(const QDateTime &t)
{
    if (!t.isValid())
        return QJsonValue(QJsonValue::Null);
    return t.toUTC().toString(Qt::ISODateWithMs);
}

}  // namespace

QJsonObject UsageJson::toJson(const UsageRow &row)
{
    QJsonValue group(QJsonValue::Null);
    if (row.group.typeId() == QMetaType::QString)
        group = row.group.toString();
    else if (row.group.isValid())
        group = row.group.toLongLong();
    // Microseconds are noise in an average over requests that take seconds.
    const double latency = std::round(row.averageLatencyMs() * 1000.0) / 1000.0;
    return {{QStringLiteral("group"), group},
            {QStringLiteral("requests"), row.requests},
            {QStringLiteral("failed_requests"), row.errors},
            {QStringLiteral("estimated_requests"), row.estimated},
            {QStringLiteral("prompt_tokens"), row.promptTokens},
            {QStringLiteral("completion_tokens"), row.completionTokens},
            {QStringLiteral("total_tokens"), row.totalTokens()},
            {QStringLiteral("cached_tokens"), row.cachedTokens},
            {QStringLiteral("cache_write_tokens"), row.cacheWriteTokens},
            {QStringLiteral("reasoning_tokens"), row.reasoningTokens},
            {QStringLiteral("avg_latency_ms"), latency}};
}

QJsonObject UsageJson::answer(const QJsonArray &data, const UsageFilter &filter,
                              UsageGrouping grouping)
{
    return {{QStringLiteral("data"), data},
            {QStringLiteral("group_by"), UsageQuery::groupingName(grouping)},
            {QStringLiteral("from"), timeOrNull(filter.from)},
            {QStringLiteral("to"), timeOrNull(filter.to)}};
}

}  // namespace sluice
