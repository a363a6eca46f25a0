#include "Snippets.h"

namespace sluice {

QStringList Snippets::kinds()
{
    return {QStringLiteral("curl"), QStringLiteral("python-openai"),
            QStringLiteral("python-anthropic"), QStringLiteral("node-openai"),
            QStringLiteral("node-anthropic")};
}

QString Snippets::title(const QString &kind)
{
    if (kind == QLatin1String("curl"))
        return QStringLiteral("curl");
    if (kind == QLatin1String("python-openai"))
        return QStringLiteral("Python · OpenAI");
    if (kind == QLatin1String("python-anthropic"))
        return QStringLiteral("Python · Anthropic");
    if (kind == QLatin1String("node-openai"))
        return QStringLiteral("Node · OpenAI");
    if (kind == QLatin1String("node-anthropic"))
        return QStringLiteral("Node · Anthropic");
    return kind;
}

QString Snippets::text(const QString &kind, const QString &baseUrl, const QString &key)
{
    const QString k = key.isEmpty() ? QStringLiteral("YOUR_KEY") : key;
    if (kind == QLatin1String("curl")) {
        return QStringLiteral(
                   "curl %1/v1/chat/completions \\\n"
                   "  -H \"Authorization: Bearer %2\" \\\n"
                   "  -H \"Content-Type: application/json\" \\\n"
                   "  -d '{\"model\": \"gpt-4o-mini\", \"messages\": "
                   "[{\"role\": \"user\", \"content\": \"Hello\"}]}'")
            .arg(baseUrl, k);
    }
    if (kind == QLatin1String("python-openai")) {
        return QStringLiteral(
                   "from openai import OpenAI\n\n"
                   "client = OpenAI(base_url=\"%1/v1\", api_key=\"%2\")\n"
                   "reply = client.chat.completions.create(\n"
                   "    model=\"gpt-4o-mini\",\n"
                   "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n)\n"
                   "print(reply.choices[0].message.content)")
            .arg(baseUrl, k);
    }
    if (kind == QLatin1String("python-anthropic")) {
        return QStringLiteral(
                   "import anthropic\n\n"
                   "client = anthropic.Anthropic(base_url=\"%1\", api_key=\"%2\")\n"
                   "reply = client.messages.create(\n"
                   "    model=\"claude-3-5-haiku-latest\", max_tokens=256,\n"
                   "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n)\n"
                   "print(reply.content[0].text)")
            .arg(baseUrl, k);
    }
    if (kind == QLatin1String("node-openai")) {
        return QStringLiteral(
                   "import OpenAI from \"openai\";\n\n"
                   "const client = new OpenAI({ baseURL: \"%1/v1\", apiKey: \"%2\" });\n"
                   "const reply = await client.chat.completions.create({\n"
                   "  model: \"gpt-4o-mini\",\n"
                   "  messages: [{ role: \"user\", content: \"Hello\" }],\n});\n"
                   "console.log(reply.choices[0].message.content);")
            .arg(baseUrl, k);
    }
    if (kind == QLatin1String("node-anthropic")) {
        return QStringLiteral(
                   "import Anthropic from \"@anthropic-ai/sdk\";\n\n"
                   "const client = new Anthropic({ baseURL: \"%1\", apiKey: \"%2\" });\n"
                   "const reply = await client.messages.create({\n"
                   "  model: \"claude-3-5-haiku-latest\", max_tokens: 256,\n"
                   "  messages: [{ role: \"user\", content: \"Hello\" }],\n});\n"
                   "console.log(reply.content[0].text);")
            .arg(baseUrl, k);
    }
    return {};
}

}  // namespace sluice
