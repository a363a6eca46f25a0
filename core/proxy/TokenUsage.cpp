#include "TokenUsage.h"

namespace sluice {
namespace {
bool take(const QJsonObject &o, const char *key, qint64 &into)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (!v.isDouble())
        return false;
    into = qint64(v.toDouble());
    return true;
}
}  // namespace

void TokenUsage::merge(const QJsonObject &usage)
{
    bool any = false;
    any |= take(usage, "prompt_tokens", prompt);
    any |= take(usage, "input_tokens", prompt);
    any |= take(usage, "completion_tokens", completion);
    any |= take(usage, "output_tokens", completion);
    take(usage, "cache_read_input_tokens", cached);
    take(usage, "cache_creation_input_tokens", cacheWrite);
    for (const char *details : {"prompt_tokens_details", "input_tokens_details"})
        take(usage.value(QLatin1String(details)).toObject(), "cached_tokens", cached);
    for (const char *details : {"completion_tokens_details", "output_tokens_details"})
        take(usage.value(QLatin1String(details)).toObject(), "reasoning_tokens", reasoning);
    found = found || any;
}

}  // namespace sluice
