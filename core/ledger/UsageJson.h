#pragma once

#include "UsageQuery.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sluice {

// JSON shape of usage aggregates, shared by GET /admin/v1/usage and `sluice usage --json`:
//   {"data": [row, ...], "group_by": "day", "from": "2025-05-01T00:00:00.000Z" | null,
//    "to": ... | null}
// and each row
//   {"group": "2025-05-01" | "gpt-4o" | 7 | null, "requests", "failed_requests",
//    "estimated_requests", "prompt_tokens", "completion_tokens", "total_tokens",
//    "cached_tokens", "cache_write_tokens", "reasoning_tokens", "avg_latency_ms"}
// (names of keys and users are added by the caller that can read the identity database).
class UsageJson
{
public:
    static QJsonObject toJson(const UsageRow &row);
    static QJsonObject answer(const QJsonArray &data, const UsageFilter &filter,
                              UsageGrouping grouping);
};

}  // namespace sluice
