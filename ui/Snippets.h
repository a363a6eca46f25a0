#pragma once

#include <QString>
#include <QStringList>

namespace sluice {

// Ready-to-paste client code for a new key against this gateway: curl, and the official
// OpenAI and Anthropic SDKs for Python and Node. `baseUrl` is the gateway's (no /v1).
class Snippets
{
public:
    static QStringList
    kinds();  // curl, python-openai, python-anthropic, node-openai, node-anthropic
    static QString title(const QString &kind);
    static QString text(const QString &kind, const QString &baseUrl, const QString &key);
};

}  // namespace sluice
