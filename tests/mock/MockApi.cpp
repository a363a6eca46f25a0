#include "MockApi.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <QtEndian>
#include <cmath>

namespace sluice::mock {

QByteArray MockRequest::header(QByteArrayView name) const
{
    for (const auto &[n, v] : headers) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

namespace {

const QString kDefaultText = QStringLiteral("Hello from mock");
constexpr int kDefaultChunks = 3;
constexpr int kMaxChunks = 1000000;

enum class Family
{
    OpenAI,
    Anthropic
};

// The x-mock-* controls of one request.
struct Controls
{
    QString text = kDefaultText;
    int chunks = kDefaultChunks;
    bool noUsage = false;
    int promptOverride = -1;
    int completionOverride = -1;
    int cachedTokens = 0;
    int cacheCreationTokens = 0;
    int reasoningTokens = 0;
    bool deltaFullUsage = false;
};

qint64 headerNumber(const MockRequest &r, QByteArrayView name, qint64 fallback, qint64 min,
                    qint64 max)
{
    const QByteArray v = r.header(name);
    if (v.isNull())
        return fallback;
    bool ok = false;
    const qint64 n = v.trimmed().toLongLong(&ok);
    return ok ? qBound(min, n, max) : fallback;
}

bool headerFlag(const MockRequest &r, QByteArrayView name)
{
    const QByteArray v = r.header(name).trimmed().toLower();
    return !v.isNull() && v != "0" && v != "false" && v != "no";
}

Controls controlsOf(const MockRequest &r)
{
    Controls c;
    const QByteArray text = r.header("x-mock-content");
    if (!text.isNull())
        c.text = QString::fromUtf8(text);
    c.chunks = int(headerNumber(r, "x-mock-chunks", kDefaultChunks, 1, kMaxChunks));
    c.noUsage = headerFlag(r, "x-mock-no-usage");
    c.promptOverride = int(headerNumber(r, "x-mock-prompt-tokens", -1, 0, 1 << 30));
    c.completionOverride = int(headerNumber(r, "x-mock-completion-tokens", -1, 0, 1 << 30));
    c.cachedTokens = int(headerNumber(r, "x-mock-cached-tokens", 0, 0, 1 << 30));
    c.cacheCreationTokens = int(headerNumber(r, "x-mock-cache-creation-tokens", 0, 0, 1 << 30));
    c.reasoningTokens = int(headerNumber(r, "x-mock-reasoning-tokens", 0, 0, 1 << 30));
    c.deltaFullUsage = headerFlag(r, "x-mock-delta-full-usage");
    return c;
}

// Characters of the text in a JSON value: strings count their length (UTF-16 code units, like
// JavaScript's String.length), numbers count 4 (token arrays: one token each), arrays count
// their elements, objects their "text" and "content" members.
qint64 textChars(const QJsonValue &v)
{
    switch (v.type()) {
        case QJsonValue::String:
            return v.toString().size();
        case QJsonValue::Double:
            return 4;
        case QJsonValue::Array: {
            qint64 n = 0;
            for (const QJsonValue &e : v.toArray())
                n += textChars(e);
            return n;
        }
        case QJsonValue::Object: {
            const QJsonObject o = v.toObject();
            return textChars(o.value(QLatin1String("text"))) +
                   textChars(o.value(QLatin1String("content")));
        }
        default:
            return 0;
    }
}

qint64 promptChars(QByteArrayView path, const QJsonObject &body)
{
    auto field = [&body](const char *name) { return textChars(body.value(QLatin1String(name))); };
    if (path == "/v1/chat/completions")
        return field("messages");
    if (path == "/v1/completions")
        return field("prompt");
    if (path == "/v1/embeddings")
        return field("input");
    if (path == "/v1/responses")
        return field("input") + field("instructions");
    if (path == "/v1/messages" || path == "/v1/messages/count_tokens")
        return field("system") + field("messages");
    return 0;
}

int tokensOf(qint64 chars)
{
    return int(qBound(qint64(1), chars / 4, qint64(1) << 30));
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray dataEvent(const QJsonObject &o)
{
    return "data: " + compact(o) + "\n\n";
}

QByteArray namedEvent(const char *name, const QJsonObject &o)
{
    return QByteArray("event: ") + name + "\ndata: " + compact(o) + "\n\n";
}

qint64 nowSeconds()
{
    return QDateTime::currentSecsSinceEpoch();
}

// Headers a real provider sends with every answer (request ids, versions, its own rate limits).
void addProviderHeaders(Family family, quint64 seq, HeaderList *h)
{
    const QByteArray id = "req_mock_" + QByteArray::number(seq);
    if (family == Family::OpenAI) {
        h->emplaceBack("x-request-id", id);
        h->emplaceBack("openai-organization", "mock-org");
        h->emplaceBack("openai-processing-ms", "1");
        h->emplaceBack("openai-version", "2020-10-01");
        h->emplaceBack("x-ratelimit-limit-requests", "10000");
        h->emplaceBack("x-ratelimit-remaining-requests", "9999");
        h->emplaceBack("x-ratelimit-reset-requests", "6ms");
        h->emplaceBack("x-ratelimit-limit-tokens", "1000000");
        h->emplaceBack("x-ratelimit-remaining-tokens", "999000");
        h->emplaceBack("x-ratelimit-reset-tokens", "60ms");
    } else {
        // A reset no gateway limit can produce, so tests can tell the provider's value from
        // Sluice's own (now + 60 s collided with a per-minute limit's reset in the same second).
        const QByteArray reset = "2099-12-31T23:59:59Z";
        h->emplaceBack("request-id", id);
        h->emplaceBack("anthropic-organization-id", "mock-org");
        h->emplaceBack("anthropic-ratelimit-requests-limit", "4000");
        h->emplaceBack("anthropic-ratelimit-requests-remaining", "3999");
        h->emplaceBack("anthropic-ratelimit-requests-reset", reset);
        h->emplaceBack("anthropic-ratelimit-tokens-limit", "400000");
        h->emplaceBack("anthropic-ratelimit-tokens-remaining", "399000");
        h->emplaceBack("anthropic-ratelimit-tokens-reset", reset);
    }
}

void setJson(MockAnswer *a, const QJsonObject &o)
{
    a->body = compact(o);
    a->headers.emplaceBack("content-type", "application/json");
}

void setStream(MockAnswer *a)
{
    a->stream = true;
    a->headers.emplaceBack("content-type", "text/event-stream; charset=utf-8");
    a->headers.emplaceBack("cache-control", "no-cache");
}

// ---- errors ---------------------------------------------------------------------------------

QJsonObject openAiErrorBody(int status, const QString &message)
{
    QString type = QStringLiteral("invalid_request_error");
    QJsonValue code = QJsonValue::Null;
    if (status == 401) {
        code = QStringLiteral("invalid_api_key");
    } else if (status == 404) {
        code = QStringLiteral("model_not_found");
    } else if (status == 429) {
        type = QStringLiteral("requests");
        code = QStringLiteral("rate_limit_exceeded");
    } else if (status >= 500) {
        type = QStringLiteral("server_error");
    }
    return QJsonObject{
        {QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), message},
                                              {QStringLiteral("type"), type},
                                              {QStringLiteral("param"), QJsonValue::Null},
                                              {QStringLiteral("code"), code}}}};
}

QJsonObject anthropicErrorBody(int status, const QString &message, quint64 seq)
{
    QString type;
    switch (status) {
        case 400:
            type = QStringLiteral("invalid_request_error");
            break;
        case 401:
            type = QStringLiteral("authentication_error");
            break;
        case 402:
            type = QStringLiteral("billing_error");
            break;
        case 403:
            type = QStringLiteral("permission_error");
            break;
        case 404:
            type = QStringLiteral("not_found_error");
            break;
        case 413:
            type = QStringLiteral("request_too_large");
            break;
        case 429:
            type = QStringLiteral("rate_limit_error");
            break;
        case 504:
            type = QStringLiteral("timeout_error");
            break;
        case 529:
            type = QStringLiteral("overloaded_error");
            break;
        default:
            type = status >= 500 ? QStringLiteral("api_error")
                                 : QStringLiteral("invalid_request_error");
    }
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                       {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), type},
                                                             {QStringLiteral("message"), message}}},
                       {QStringLiteral("request_id"), QStringLiteral("req_mock_%1").arg(seq)}};
}

MockAnswer errorAnswer(Family family, int status, const QString &message, quint64 seq,
                       const MockRequest &r)
{
    MockAnswer a;
    a.status = status;
    addProviderHeaders(family, seq, &a.headers);
    if (status == 429 || status == 503 || status == 529) {
        const qint64 retryAfter = headerNumber(r, "x-mock-retry-after", 1, 0, 86400);
        a.headers.emplaceBack("retry-after", QByteArray::number(retryAfter));
        // The provider's own quota, exhausted.
        for (auto &[name, value] : a.headers) {
            if (name == "x-ratelimit-remaining-requests" ||
                name == "anthropic-ratelimit-requests-remaining")
                value = "0";
        }
    }
    if (status == 529 || status == 503)
        a.headers.emplaceBack("x-should-retry", "true");
    setJson(&a, family == Family::OpenAI ? openAiErrorBody(status, message)
                                         : anthropicErrorBody(status, message, seq));
    return a;
}

// ---- OpenAI ---------------------------------------------------------------------------------

struct Counts
{
    int prompt = 0;
    int completion = 0;
};

Counts countsOf(QByteArrayView path, const QJsonObject &body, const Controls &c, int pieces)
{
    Counts n;
    n.prompt = c.promptOverride >= 0 ? c.promptOverride : tokensOf(promptChars(path, body));
    n.completion = c.completionOverride >= 0 ? c.completionOverride : pieces + c.reasoningTokens;
    return n;
}

QJsonObject openAiUsage(const Counts &n, const Controls &c)
{
    return QJsonObject{{QStringLiteral("prompt_tokens"), n.prompt},
                       {QStringLiteral("completion_tokens"), n.completion},
                       {QStringLiteral("total_tokens"), n.prompt + n.completion},
                       {QStringLiteral("prompt_tokens_details"),
                        QJsonObject{{QStringLiteral("cached_tokens"), c.cachedTokens},
                                    {QStringLiteral("audio_tokens"), 0}}},
                       {QStringLiteral("completion_tokens_details"),
                        QJsonObject{{QStringLiteral("reasoning_tokens"), c.reasoningTokens},
                                    {QStringLiteral("audio_tokens"), 0},
                                    {QStringLiteral("accepted_prediction_tokens"), 0},
                                    {QStringLiteral("rejected_prediction_tokens"), 0}}}};
}

MockAnswer chatCompletions(const MockRequest &r, const QJsonObject &body, const Controls &c,
                           quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::OpenAI, seq, &a.headers);
    const QStringList pieces = replyPieces(c.text, c.chunks);
    const QString text = pieces.join(QString());
    const Counts n = countsOf(r.path, body, c, int(pieces.size()));
    const QString id = QStringLiteral("chatcmpl-mock%1").arg(seq);
    const QJsonValue model = body.value(QLatin1String("model"));
    const qint64 created = nowSeconds();
    const QJsonObject usage = openAiUsage(n, c);

    if (!body.value(QLatin1String("stream")).toBool()) {
        QJsonObject o{{QStringLiteral("id"), id},
                      {QStringLiteral("object"), QStringLiteral("chat.completion")},
                      {QStringLiteral("created"), created},
                      {QStringLiteral("model"), model},
                      {QStringLiteral("choices"),
                       QJsonArray{QJsonObject{
                           {QStringLiteral("index"), 0},
                           {QStringLiteral("message"),
                            QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                        {QStringLiteral("content"), text},
                                        {QStringLiteral("refusal"), QJsonValue::Null},
                                        {QStringLiteral("annotations"), QJsonArray()}}},
                           {QStringLiteral("logprobs"), QJsonValue::Null},
                           {QStringLiteral("finish_reason"), QStringLiteral("stop")}}}},
                      {QStringLiteral("service_tier"), QStringLiteral("default")},
                      {QStringLiteral("system_fingerprint"), QStringLiteral("fp_mock")}};
        if (!c.noUsage)
            o.insert(QStringLiteral("usage"), usage);
        setJson(&a, o);
        return a;
    }

    const bool includeUsage = body.value(QLatin1String("stream_options"))
                                  .toObject()
                                  .value(QLatin1String("include_usage"))
                                  .toBool();
    setStream(&a);
    auto chunk = [&](const QJsonArray &choices) {
        QJsonObject o{{QStringLiteral("id"), id},
                      {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
                      {QStringLiteral("created"), created},
                      {QStringLiteral("model"), model},
                      {QStringLiteral("service_tier"), QStringLiteral("default")},
                      {QStringLiteral("system_fingerprint"), QStringLiteral("fp_mock")},
                      {QStringLiteral("choices"), choices}};
        // With include_usage every chunk carries "usage": null, the last one the numbers.
        if (includeUsage)
            o.insert(QStringLiteral("usage"), QJsonValue::Null);
        return o;
    };
    auto choice = [](const QJsonObject &delta, const QJsonValue &finish) {
        return QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                      {QStringLiteral("delta"), delta},
                                      {QStringLiteral("logprobs"), QJsonValue::Null},
                                      {QStringLiteral("finish_reason"), finish}}};
    };
    a.events << dataEvent(
        chunk(choice(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                 {QStringLiteral("content"), QString()},
                                 {QStringLiteral("refusal"), QJsonValue::Null}},
                     QJsonValue::Null)));
    for (const QString &piece : pieces) {
        a.events << dataEvent(
            chunk(choice(QJsonObject{{QStringLiteral("content"), piece}}, QJsonValue::Null)));
    }
    a.events << dataEvent(chunk(choice(QJsonObject(), QStringLiteral("stop"))));
    if (includeUsage && !c.noUsage) {
        QJsonObject last = chunk(QJsonArray());
        last.insert(QStringLiteral("usage"), usage);
        a.events << dataEvent(last);
    }
    a.events << QByteArray("data: [DONE]\n\n");
    return a;
}

MockAnswer completions(const MockRequest &r, const QJsonObject &body, const Controls &c,
                       quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::OpenAI, seq, &a.headers);
    const QStringList pieces = replyPieces(c.text, c.chunks);
    const Counts n = countsOf(r.path, body, c, int(pieces.size()));
    const QString id = QStringLiteral("cmpl-mock%1").arg(seq);
    const QJsonValue model = body.value(QLatin1String("model"));
    const qint64 created = nowSeconds();
    const QJsonObject usage{{QStringLiteral("prompt_tokens"), n.prompt},
                            {QStringLiteral("completion_tokens"), n.completion},
                            {QStringLiteral("total_tokens"), n.prompt + n.completion}};
    auto object = [&](const QJsonArray &choices) {
        return QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("object"), QStringLiteral("text_completion")},
                           {QStringLiteral("created"), created},
                           {QStringLiteral("model"), model},
                           {QStringLiteral("system_fingerprint"), QStringLiteral("fp_mock")},
                           {QStringLiteral("choices"), choices}};
    };
    auto choice = [](const QString &text, const QJsonValue &finish) {
        return QJsonArray{QJsonObject{{QStringLiteral("text"), text},
                                      {QStringLiteral("index"), 0},
                                      {QStringLiteral("logprobs"), QJsonValue::Null},
                                      {QStringLiteral("finish_reason"), finish}}};
    };
    if (!body.value(QLatin1String("stream")).toBool()) {
        QJsonObject o = object(choice(pieces.join(QString()), QStringLiteral("stop")));
        if (!c.noUsage)
            o.insert(QStringLiteral("usage"), usage);
        setJson(&a, o);
        return a;
    }
    const bool includeUsage = body.value(QLatin1String("stream_options"))
                                  .toObject()
                                  .value(QLatin1String("include_usage"))
                                  .toBool();
    setStream(&a);
    auto chunk = [&](const QJsonArray &choices) {
        QJsonObject o = object(choices);
        if (includeUsage)
            o.insert(QStringLiteral("usage"), QJsonValue::Null);
        return o;
    };
    for (const QString &piece : pieces)
        a.events << dataEvent(chunk(choice(piece, QJsonValue::Null)));
    a.events << dataEvent(chunk(choice(QString(), QStringLiteral("stop"))));
    if (includeUsage && !c.noUsage) {
        QJsonObject last = chunk(QJsonArray());
        last.insert(QStringLiteral("usage"), usage);
        a.events << dataEvent(last);
    }
    a.events << QByteArray("data: [DONE]\n\n");
    return a;
}

MockAnswer embeddings(const MockRequest &r, const QJsonObject &body, const Controls &c, quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::OpenAI, seq, &a.headers);
    const QJsonValue input = body.value(QLatin1String("input"));
    // One vector per input: a string or a token array is one input, an array of them several.
    int inputs = 1;
    if (input.isArray()) {
        const QJsonArray arr = input.toArray();
        const bool tokenArray = !arr.isEmpty() && arr.first().isDouble();
        inputs = tokenArray ? 1 : int(arr.size());
    }
    const int dims = int(qBound(1, body.value(QLatin1String("dimensions")).toInt(8), 4096));
    const bool base64 =
        body.value(QLatin1String("encoding_format")).toString() == QLatin1String("base64");
    QJsonArray data;
    for (int i = 0; i < inputs; ++i) {
        QList<float> v(dims);
        for (int d = 0; d < dims; ++d)
            v[d] = float(std::sin(double(i * 131 + d + 1)) * 0.5);
        QJsonValue embedding;
        if (base64) {
            QByteArray raw(dims * 4, '\0');
            for (int d = 0; d < dims; ++d)
                qToLittleEndian(v[d], raw.data() + d * 4);
            embedding = QString::fromLatin1(raw.toBase64());
        } else {
            QJsonArray arr;
            for (float f : v)
                arr.append(double(f));
            embedding = arr;
        }
        data.append(QJsonObject{{QStringLiteral("object"), QStringLiteral("embedding")},
                                {QStringLiteral("index"), i},
                                {QStringLiteral("embedding"), embedding}});
    }
    const int prompt =
        c.promptOverride >= 0 ? c.promptOverride : tokensOf(promptChars(r.path, body));
    QJsonObject o{{QStringLiteral("object"), QStringLiteral("list")},
                  {QStringLiteral("data"), data},
                  {QStringLiteral("model"), body.value(QLatin1String("model"))}};
    if (!c.noUsage) {
        o.insert(QStringLiteral("usage"), QJsonObject{{QStringLiteral("prompt_tokens"), prompt},
                                                      {QStringLiteral("total_tokens"), prompt}});
    }
    setJson(&a, o);
    return a;
}

MockAnswer responses(const MockRequest &r, const QJsonObject &body, const Controls &c, quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::OpenAI, seq, &a.headers);
    const QStringList pieces = replyPieces(c.text, c.chunks);
    const QString text = pieces.join(QString());
    const Counts n = countsOf(r.path, body, c, int(pieces.size()));
    const QString id = QStringLiteral("resp_mock%1").arg(seq);
    const QString itemId = QStringLiteral("msg_mock%1").arg(seq);
    const qint64 created = nowSeconds();
    const QJsonObject usage{{QStringLiteral("input_tokens"), n.prompt},
                            {QStringLiteral("input_tokens_details"),
                             QJsonObject{{QStringLiteral("cached_tokens"), c.cachedTokens}}},
                            {QStringLiteral("output_tokens"), n.completion},
                            {QStringLiteral("output_tokens_details"),
                             QJsonObject{{QStringLiteral("reasoning_tokens"), c.reasoningTokens}}},
                            {QStringLiteral("total_tokens"), n.prompt + n.completion}};
    auto part = [](const QString &t) {
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("output_text")},
                           {QStringLiteral("text"), t},
                           {QStringLiteral("annotations"), QJsonArray()},
                           {QStringLiteral("logprobs"), QJsonArray()}};
    };
    auto item = [&](bool done) {
        return QJsonObject{
            {QStringLiteral("id"), itemId},
            {QStringLiteral("type"), QStringLiteral("message")},
            {QStringLiteral("status"),
             done ? QStringLiteral("completed") : QStringLiteral("in_progress")},
            {QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), done ? QJsonArray{part(text)} : QJsonArray()}};
    };
    auto response = [&](bool done) {
        QJsonObject o{
            {QStringLiteral("id"), id},
            {QStringLiteral("object"), QStringLiteral("response")},
            {QStringLiteral("created_at"), created},
            {QStringLiteral("status"),
             done ? QStringLiteral("completed") : QStringLiteral("in_progress")},
            {QStringLiteral("error"), QJsonValue::Null},
            {QStringLiteral("incomplete_details"), QJsonValue::Null},
            {QStringLiteral("instructions"), body.value(QLatin1String("instructions"))},
            {QStringLiteral("model"), body.value(QLatin1String("model"))},
            {QStringLiteral("output"), done ? QJsonArray{item(true)} : QJsonArray()},
            {QStringLiteral("parallel_tool_calls"), true},
            {QStringLiteral("previous_response_id"), QJsonValue::Null},
            {QStringLiteral("temperature"), 1.0},
            {QStringLiteral("top_p"), 1.0},
            {QStringLiteral("tool_choice"), QStringLiteral("auto")},
            {QStringLiteral("tools"), QJsonArray()},
            {QStringLiteral("text"),
             QJsonObject{{QStringLiteral("format"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}}}}},
            {QStringLiteral("usage"), done && !c.noUsage ? QJsonValue(usage) : QJsonValue::Null}};
        if (o.value(QLatin1String("instructions")).isUndefined())
            o.insert(QStringLiteral("instructions"), QJsonValue::Null);
        return o;
    };
    if (!body.value(QLatin1String("stream")).toBool()) {
        QJsonObject o = response(true);
        if (c.noUsage)
            o.remove(QStringLiteral("usage"));
        setJson(&a, o);
        return a;
    }
    setStream(&a);
    int sequence = 0;
    auto event = [&](const char *type, QJsonObject o) {
        o.insert(QStringLiteral("type"), QLatin1String(type));
        o.insert(QStringLiteral("sequence_number"), sequence++);
        a.events << namedEvent(type, o);
    };
    auto where = [&](QJsonObject o) {
        o.insert(QStringLiteral("item_id"), itemId);
        o.insert(QStringLiteral("output_index"), 0);
        o.insert(QStringLiteral("content_index"), 0);
        return o;
    };
    event("response.created", {{QStringLiteral("response"), response(false)}});
    event("response.in_progress", {{QStringLiteral("response"), response(false)}});
    event("response.output_item.added",
          {{QStringLiteral("output_index"), 0}, {QStringLiteral("item"), item(false)}});
    event("response.content_part.added", where({{QStringLiteral("part"), part(QString())}}));
    for (const QString &piece : pieces) {
        event("response.output_text.delta", where({{QStringLiteral("delta"), piece},
                                                   {QStringLiteral("logprobs"), QJsonArray()}}));
    }
    event("response.output_text.done",
          where({{QStringLiteral("text"), text}, {QStringLiteral("logprobs"), QJsonArray()}}));
    event("response.content_part.done", where({{QStringLiteral("part"), part(text)}}));
    event("response.output_item.done",
          {{QStringLiteral("output_index"), 0}, {QStringLiteral("item"), item(true)}});
    event("response.completed", {{QStringLiteral("response"), response(true)}});
    return a;
}

MockAnswer openAiModels(quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::OpenAI, seq, &a.headers);
    static const char *const ids[] = {"gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-3.5-turbo-instruct",
                                      "text-embedding-3-small"};
    QJsonArray data;
    for (const char *id : ids) {
        data.append(QJsonObject{{QStringLiteral("id"), QLatin1String(id)},
                                {QStringLiteral("object"), QStringLiteral("model")},
                                {QStringLiteral("created"), 1700000000},
                                {QStringLiteral("owned_by"), QStringLiteral("system")}});
    }
    setJson(&a,
            {{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}});
    return a;
}

// ---- Anthropic ------------------------------------------------------------------------------

MockAnswer anthropicModels(quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::Anthropic, seq, &a.headers);
    struct Model
    {
        const char *id;
        const char *name;
        const char *created;
    };
    static const Model models[] = {
        {"claude-opus-5-5", "Claude Opus 5.5", "2026-09-01T00:00:00Z"},
        {"claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-01T00:00:00Z"},
        {"claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"},
    };
    QJsonArray data;
    for (const Model &m : models) {
        data.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("model")},
                                {QStringLiteral("id"), QLatin1String(m.id)},
                                {QStringLiteral("display_name"), QLatin1String(m.name)},
                                {QStringLiteral("created_at"), QLatin1String(m.created)}});
    }
    setJson(&a, {{QStringLiteral("data"), data},
                 {QStringLiteral("has_more"), false},
                 {QStringLiteral("first_id"), QLatin1String(models[0].id)},
                 {QStringLiteral("last_id"), QLatin1String(models[2].id)}});
    return a;
}

MockAnswer messages(const MockRequest &r, const QJsonObject &body, const Controls &c, quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::Anthropic, seq, &a.headers);
    const QStringList pieces = replyPieces(c.text, c.chunks);
    const QString text = pieces.join(QString());
    const Counts n = countsOf(r.path, body, c, int(pieces.size()));
    const QString id = QStringLiteral("msg_mock%1").arg(seq);
    const QJsonValue model = body.value(QLatin1String("model"));
    auto usage = [&](int output) {
        return QJsonObject{{QStringLiteral("input_tokens"), n.prompt},
                           {QStringLiteral("cache_creation_input_tokens"), c.cacheCreationTokens},
                           {QStringLiteral("cache_read_input_tokens"), c.cachedTokens},
                           {QStringLiteral("output_tokens"), output},
                           {QStringLiteral("service_tier"), QStringLiteral("standard")}};
    };
    auto message = [&](const QJsonArray &content, const QJsonValue &stopReason, int output) {
        QJsonObject o{{QStringLiteral("id"), id},
                      {QStringLiteral("type"), QStringLiteral("message")},
                      {QStringLiteral("role"), QStringLiteral("assistant")},
                      {QStringLiteral("model"), model},
                      {QStringLiteral("content"), content},
                      {QStringLiteral("stop_reason"), stopReason},
                      {QStringLiteral("stop_sequence"), QJsonValue::Null}};
        if (!c.noUsage)
            o.insert(QStringLiteral("usage"), usage(output));
        return o;
    };
    if (!body.value(QLatin1String("stream")).toBool()) {
        setJson(&a, message(QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                                   {QStringLiteral("text"), text}}},
                            QStringLiteral("end_turn"), n.completion));
        return a;
    }
    setStream(&a);
    auto event = [&](const char *type, QJsonObject o) {
        o.insert(QStringLiteral("type"), QLatin1String(type));
        a.events << namedEvent(type, o);
    };
    // As the API does: message_start carries the input tokens and a first output count of 1;
    // message_delta carries the cumulative output tokens (replace, never add).
    event("message_start",
          {{QStringLiteral("message"), message(QJsonArray(), QJsonValue::Null, 1)}});
    event("content_block_start", {{QStringLiteral("index"), 0},
                                  {QStringLiteral("content_block"),
                                   QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                               {QStringLiteral("text"), QString()}}}});
    event("ping", {});
    for (const QString &piece : pieces) {
        event("content_block_delta",
              {{QStringLiteral("index"), 0},
               {QStringLiteral("delta"),
                QJsonObject{{QStringLiteral("type"), QStringLiteral("text_delta")},
                            {QStringLiteral("text"), piece}}}});
    }
    event("content_block_stop", {{QStringLiteral("index"), 0}});
    QJsonObject delta{{QStringLiteral("delta"),
                       QJsonObject{{QStringLiteral("stop_reason"), QStringLiteral("end_turn")},
                                   {QStringLiteral("stop_sequence"), QJsonValue::Null}}}};
    if (!c.noUsage) {
        QJsonObject u{{QStringLiteral("output_tokens"), n.completion}};
        if (c.deltaFullUsage) {
            u.insert(QStringLiteral("input_tokens"), n.prompt);
            u.insert(QStringLiteral("cache_creation_input_tokens"), c.cacheCreationTokens);
            u.insert(QStringLiteral("cache_read_input_tokens"), c.cachedTokens);
        }
        delta.insert(QStringLiteral("usage"), u);
    }
    event("message_delta", delta);
    event("message_stop", {});
    return a;
}

MockAnswer countTokens(const MockRequest &r, const QJsonObject &body, const Controls &c,
                       quint64 seq)
{
    MockAnswer a;
    addProviderHeaders(Family::Anthropic, seq, &a.headers);
    const int prompt =
        c.promptOverride >= 0 ? c.promptOverride : tokensOf(promptChars(r.path, body));
    setJson(&a, {{QStringLiteral("input_tokens"), prompt}});
    return a;
}

}  // namespace

QString replyText(const QString &base, int chunks)
{
    const QString seed = base.isEmpty() ? kDefaultText : base;
    QString text = base;
    while (text.size() < chunks)
        text += (text.isEmpty() ? QString() : QStringLiteral(" ")) + seed;
    return text;
}

QStringList replyPieces(const QString &base, int chunks)
{
    chunks = qMax(1, chunks);
    const QString text = replyText(base, chunks);
    const qsizetype size = text.size();
    QStringList pieces;
    pieces.reserve(chunks);
    for (int i = 0; i < chunks; ++i) {
        const qsizetype from = size * i / chunks;
        const qsizetype to = size * (i + 1) / chunks;
        pieces << text.mid(from, to - from);
    }
    return pieces;
}

int promptTokens(QByteArrayView path, const QByteArray &body)
{
    return tokensOf(promptChars(path, QJsonDocument::fromJson(body).object()));
}

MockAnswer planAnswer(const MockRequest &r, quint64 seq, const QList<QByteArray> &apiKeys)
{
    const QByteArrayView path(r.path);
    const bool anthropicPath = path == "/v1/messages" || path == "/v1/messages/count_tokens";
    const bool anthropicModelList = path == "/v1/models" && !r.header("anthropic-version").isNull();
    const Family family = anthropicPath || anthropicModelList ? Family::Anthropic : Family::OpenAI;

    MockAnswer a;
    int status = int(headerNumber(r, "x-mock-status", 200, 200, 599));
    // OpenAI: Authorization: Bearer. Anthropic: x-api-key (SDKs before 1.0, API version
    // 2023-06-01) or Authorization: Bearer (SDK 1.x, API version 2026-10-21).
    QByteArray key;
    const QByteArray authorization = r.header("authorization").trimmed();
    if (authorization.startsWith("Bearer "))
        key = authorization.mid(7).trimmed();
    if (family == Family::Anthropic && !r.header("x-api-key").isNull())
        key = r.header("x-api-key").trimmed();
    // x-mock-status-key: the status is only for requests carrying this provider key, so one
    // upstream of a gateway can fail while another one (same mock, other key) answers.
    const QByteArray statusKey = r.header("x-mock-status-key").trimmed();
    if (!statusKey.isEmpty() && statusKey != key)
        status = 200;
    if (!apiKeys.isEmpty() && !apiKeys.contains(key)) {
        a = errorAnswer(
            family, 401,
            family == Family::Anthropic
                ? (r.header("x-api-key").isNull() ? QStringLiteral("Invalid bearer token")
                                                  : QStringLiteral("invalid x-api-key"))
                : QStringLiteral("Incorrect API key provided. You can find your API "
                                 "key at https://platform.openai.com/account/api-keys."),
            seq, r);
    } else if (anthropicPath && r.header("anthropic-version").isNull()) {
        a = errorAnswer(family, 400, QStringLiteral("anthropic-version: header is required"), seq,
                        r);
    } else if (headerFlag(r, "x-mock-hang")) {
        a.mode = MockAnswer::Mode::Hang;
    } else if (headerFlag(r, "x-mock-drop")) {
        a.mode = MockAnswer::Mode::Drop;
    } else if (status >= 300) {
        a = errorAnswer(family, status,
                        QStringLiteral("Mock error %1 (asked for with x-mock-status).").arg(status),
                        seq, r);
    } else {
        const Controls c = controlsOf(r);
        QJsonParseError parseError{};
        const QJsonDocument doc = QJsonDocument::fromJson(r.body, &parseError);
        const bool post = r.method == "POST";
        const QJsonObject body = doc.object();
        auto invalid = [&](const QString &message) {
            return errorAnswer(family, 400, message, seq, r);
        };
        if (post && !doc.isObject()) {
            a = invalid(QStringLiteral("We could not parse the JSON body of your request (%1).")
                            .arg(parseError.errorString()));
        } else if (post && !body.value(QLatin1String("model")).isString()) {
            a = invalid(QStringLiteral("model: Field required"));
        } else if (post && path == "/v1/chat/completions") {
            a = chatCompletions(r, body, c, seq);
        } else if (post && path == "/v1/completions") {
            a = completions(r, body, c, seq);
        } else if (post && path == "/v1/embeddings") {
            a = embeddings(r, body, c, seq);
        } else if (post && path == "/v1/responses") {
            a = responses(r, body, c, seq);
        } else if (post && path == "/v1/messages") {
            a = messages(r, body, c, seq);
        } else if (post && path == "/v1/messages/count_tokens") {
            a = countTokens(r, body, c, seq);
        } else if (r.method == "GET" && path == "/v1/models") {
            a = family == Family::Anthropic ? anthropicModels(seq) : openAiModels(seq);
        } else {
            a = errorAnswer(family, 404,
                            QStringLiteral("Unknown request URL: %1 %2.")
                                .arg(QString::fromLatin1(r.method), QString::fromUtf8(r.target)),
                            seq, r);
        }
        if (a.status == 200 && status != 200)
            a.status = status;  // x-mock-status: another 2xx for a normal answer
    }
    a.delayMs = int(headerNumber(r, "x-mock-delay-ms", 0, 0, 3600 * 1000));
    a.chunkDelayMs = int(headerNumber(r, "x-mock-chunk-delay-ms", 0, 0, 3600 * 1000));
    a.resetAfterBytes = headerNumber(r, "x-mock-reset-after-bytes", -1, 0, qint64(1) << 40);
    a.close = headerFlag(r, "x-mock-close");
    return a;
}

}  // namespace sluice::mock
