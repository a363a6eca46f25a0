#include "Snippets.h"

namespace sluice {
namespace {

// One entry per client: its kind (the QML key), its tab title, and the example with %1 for the
// gateway's base URL and %2 for the key.
struct Snippet
{
    const char *kind;
    const char *title;
    const char *format;
};

const Snippet kSnippets[] = {
    {"curl", "curl",
     "curl %1/v1/chat/completions \\\n"
     "  -H \"Authorization: Bearer %2\" \\\n"
     "  -H \"Content-Type: application/json\" \\\n"
     "  -d '{\"model\": \"gpt-4o-mini\", \"messages\": "
     "[{\"role\": \"user\", \"content\": \"Hello\"}]}'"},
    {"python-openai", "Python · OpenAI",
     "from openai import OpenAI\n\n"
     "client = OpenAI(base_url=\"%1/v1\", api_key=\"%2\")\n"
     "reply = client.chat.completions.create(\n"
     "    model=\"gpt-4o-mini\",\n"
     "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n)\n"
     "print(reply.choices[0].message.content)"},
    {"python-anthropic", "Python · Anthropic",
     "import anthropic\n\n"
     "client = anthropic.Anthropic(base_url=\"%1\", api_key=\"%2\")\n"
     "reply = client.messages.create(\n"
     "    model=\"claude-3-5-haiku-latest\", max_tokens=256,\n"
     "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n)\n"
     "print(reply.content[0].text)"},
    {"node-openai", "Node · OpenAI",
     "import OpenAI from \"openai\";\n\n"
     "const client = new OpenAI({ baseURL: \"%1/v1\", apiKey: \"%2\" });\n"
     "const reply = await client.chat.completions.create({\n"
     "  model: \"gpt-4o-mini\",\n"
     "  messages: [{ role: \"user\", content: \"Hello\" }],\n});\n"
     "console.log(reply.choices[0].message.content);"},
    {"node-anthropic", "Node · Anthropic",
     "import Anthropic from \"@anthropic-ai/sdk\";\n\n"
     "const client = new Anthropic({ baseURL: \"%1\", apiKey: \"%2\" });\n"
     "const reply = await client.messages.create({\n"
     "  model: \"claude-3-5-haiku-latest\", max_tokens: 256,\n"
     "  messages: [{ role: \"user\", content: \"Hello\" }],\n});\n"
     "console.log(reply.content[0].text);"},
};

const Snippet *find(const QString &kind)
{
    for (const Snippet &s : kSnippets) {
        if (kind == QLatin1String(s.kind))
            return &s;
    }
    return nullptr;
}

}  // namespace

QStringList Snippets::kinds()
{
    QStringList list;
    for (const Snippet &s : kSnippets)
        list << QLatin1String(s.kind);
    return list;
}

QString Snippets::title(const QString &kind)
{
    const Snippet *s = find(kind);
    return s ? QString::fromUtf8(s->title) : kind;
}

QString Snippets::text(const QString &kind, const QString &baseUrl, const QString &key)
{
    const Snippet *s = find(kind);
    if (!s)
        return {};
    return QString::fromUtf8(s->format).arg(baseUrl,
                                            key.isEmpty() ? QStringLiteral("YOUR_KEY") : key);
}

}  // namespace sluice
