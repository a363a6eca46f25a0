#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace sluice {

// One row of the usage ledger: one authenticated request that reached routing.
struct UsageRecord
{
    QDateTime at;  // UTC, when the request arrived
    QByteArray requestId;
    qint64 userId = 0;
    qint64 keyId = 0;
    QString model;
    QByteArray route;  // route template
    QString upstream;  // upstream name, empty when none was reached
    int status = 0;    // what the client got (499 client abort)
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 cachedTokens =
        0;  // prompt tokens served from cache (OpenAI cached_tokens, Anthropic cache_read)
    qint64 cacheWriteTokens = 0;  // Anthropic cache_creation_input_tokens
    qint64 reasoningTokens = 0;   // OpenAI completion_tokens_details.reasoning_tokens
    bool estimated = false;       // tokens estimated (no usage in the answer)
    int attempts = 1;             // upstream attempts (failover)
    double latencySeconds = 0;
    double timeToFirstByteSeconds = 0;  // 0 when no byte came back
};

}  // namespace sluice
