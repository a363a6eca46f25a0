#pragma once

#include <QJsonObject>
#include <QtGlobal>

namespace sluice {

// Token counts of one answer, read from the provider's own usage fields.
struct TokenUsage
{
    qint64 prompt = 0;
    qint64 completion = 0;
    qint64 cached = 0;      // prompt tokens read from cache
    qint64 cacheWrite = 0;  // Anthropic cache_creation_input_tokens
    qint64 reasoning = 0;   // OpenAI reasoning tokens
    bool found = false;

    // OpenAI chat/completions/embeddings ("prompt_tokens"/"completion_tokens"), the Responses
    // API and Anthropic ("input_tokens"/"output_tokens"), with their details objects. Fields
    // absent from `usage` leave the current values (Anthropic splits usage over two events).
    void merge(const QJsonObject &usage);
};

}  // namespace sluice
