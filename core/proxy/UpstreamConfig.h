#pragma once

#include "UpstreamEndpoint.h"

#include <QMap>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <optional>

namespace sluice {

// One [upstream.NAME] section, resolved.
struct UpstreamConfig
{
    enum class Kind
    {
        OpenAI,
        Anthropic,
        OpenAICompatible
    };

    QString name;
    Kind kind = Kind::OpenAI;
    QString baseUrl;     // as the official SDKs take it: https://api.openai.com/v1,
                         // https://api.anthropic.com
    QByteArray apiKey;   // the provider credential; never logged
    QStringList models;  // globs; the route's family and the model pick the upstream
    int priority = 100;  // lower first among upstreams serving the same model
    // The provider key's own quota: the gateway never sends more (0 = no limit).
    qint64 requestsPerMinute = 0;
    qint64 tokensPerMinute = 0;
    UpstreamEndpoint endpoint;

    bool isAnthropic() const { return kind == Kind::Anthropic; }
    static QString kindName(Kind kind);
};

// Builds the upstream list from the INI's [upstream.NAME] sections and the environment.
// Two defaults, "openai" (kind openai, https://api.openai.com/v1, every model on OpenAI routes)
// and "anthropic" (kind anthropic, https://api.anthropic.com, every model on Anthropic routes),
// exist when no upstream is configured at all, or when their environment shortcuts are set
// (SLUICE_OPENAI_BASE_URL, SLUICE_OPENAI_API_KEY, SLUICE_ANTHROPIC_BASE_URL,
// SLUICE_ANTHROPIC_API_KEY), unless a section of the same name replaces them; they come last.
class UpstreamConfigLoader
{
public:
    using IniSections = QMap<QString, QMap<QString, QVariant>>;
    // nullopt with *error naming section, key, value and what was expected (exit 2).
    static std::optional<QList<UpstreamConfig>> load(const IniSections &sections,
                                                     const QProcessEnvironment &env,
                                                     QString *error);
};

}  // namespace sluice
