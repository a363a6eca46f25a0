#include "UpstreamConfig.h"

#include <QUrl>
#include <algorithm>

namespace sluice {
namespace {

QString valueText(const QVariant &v)
{
    // QSettings hands back unquoted comma lists as QStringList.
    if (v.typeId() == QMetaType::QStringList)
        return v.toStringList().join(QStringLiteral(", "));
    return v.toString().trimmed();
}

bool fail(QString *error, const QString &section, const QString &key, const QString &value,
          const QString &expected)
{
    *error = QStringLiteral("invalid value \"%1\" for %2 in [%3]: expected %4")
                 .arg(value, key, section, expected);
    return false;
}

bool applyBaseUrl(UpstreamConfig &u, const QString &section, const QString &text, QString *error)
{
    const QUrl url(text, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty() ||
        (scheme != QLatin1String("http") && scheme != QLatin1String("https")) || url.hasQuery() ||
        url.hasFragment())
        return fail(error, section, QStringLiteral("base_url"), text,
                    QStringLiteral("an http:// or https:// URL such as https://api.openai.com/v1"));
    u.baseUrl = text;
    u.endpoint.tls = scheme == QLatin1String("https");
    u.endpoint.host = url.host();
    u.endpoint.port = quint16(url.port(u.endpoint.tls ? 443 : 80));
    QByteArray path = url.path(QUrl::FullyEncoded).toUtf8();
    while (path.endsWith('/'))
        path.chop(1);
    u.endpoint.basePath = path;
    return true;
}

bool applyInt(int &field, const QString &section, const QString &key, const QString &text, int min,
              int max, QString *error)
{
    bool ok = false;
    const int v = text.toInt(&ok);
    if (!ok || v < min || v > max)
        return fail(error, section, key, text,
                    QStringLiteral("an integer from %1 to %2").arg(min).arg(max));
    field = v;
    return true;
}

bool applyCount(qint64 &field, const QString &section, const QString &key, const QString &text,
                QString *error)
{
    bool ok = false;
    const qint64 v = text.toLongLong(&ok);
    if (!ok || v < 0)
        return fail(error, section, key, text, QStringLiteral("a non-negative integer"));
    field = v;
    return true;
}

UpstreamConfig builtIn(const QString &name, const QProcessEnvironment &env)
{
    UpstreamConfig u;
    u.name = name;
    u.endpoint.name = name;
    u.models = {QStringLiteral("*")};
    QString error;
    if (name == QLatin1String("openai")) {
        u.kind = UpstreamConfig::Kind::OpenAI;
        applyBaseUrl(u, name,
                     env.value(QStringLiteral("SLUICE_OPENAI_BASE_URL"),
                               QStringLiteral("https://api.openai.com/v1")),
                     &error);
        u.apiKey = env.value(QStringLiteral("SLUICE_OPENAI_API_KEY")).toUtf8();
    } else {
        u.kind = UpstreamConfig::Kind::Anthropic;
        applyBaseUrl(u, name,
                     env.value(QStringLiteral("SLUICE_ANTHROPIC_BASE_URL"),
                               QStringLiteral("https://api.anthropic.com")),
                     &error);
        u.apiKey = env.value(QStringLiteral("SLUICE_ANTHROPIC_API_KEY")).toUtf8();
    }
    return u;
}

}  // namespace

QString UpstreamConfig::kindName(Kind kind)
{
    switch (kind) {
        case Kind::OpenAI:
            return QStringLiteral("openai");
        case Kind::Anthropic:
            return QStringLiteral("anthropic");
        case Kind::OpenAICompatible:
            break;
    }
    return QStringLiteral("openai-compatible");
}

std::optional<QList<UpstreamConfig>> UpstreamConfigLoader::load(const IniSections &sections,
                                                                const QProcessEnvironment &env,
                                                                QString *error)
{
    QList<UpstreamConfig> result;
    QStringList named;
    for (auto it = sections.cbegin(); it != sections.cend(); ++it) {
        if (!it.key().startsWith(QLatin1String("upstream.")))
            continue;
        const QString section = it.key();
        UpstreamConfig u;
        u.name = section.mid(int(qstrlen("upstream.")));
        u.endpoint.name = u.name;
        const auto &keys = it.value();
        const QString kind =
            valueText(keys.value(QStringLiteral("kind"), QStringLiteral("openai"))).toLower();
        if (kind == QLatin1String("openai"))
            u.kind = UpstreamConfig::Kind::OpenAI;
        else if (kind == QLatin1String("anthropic"))
            u.kind = UpstreamConfig::Kind::Anthropic;
        else if (kind == QLatin1String("openai-compatible"))
            u.kind = UpstreamConfig::Kind::OpenAICompatible;
        else {
            fail(error, section, QStringLiteral("kind"), kind,
                 QStringLiteral("openai, anthropic or openai-compatible"));
            return std::nullopt;
        }
        const QString defaultUrl = u.kind == UpstreamConfig::Kind::Anthropic
                                       ? QStringLiteral("https://api.anthropic.com")
                                       : QStringLiteral("https://api.openai.com/v1");
        if (!applyBaseUrl(u, section, valueText(keys.value(QStringLiteral("base_url"), defaultUrl)),
                          error))
            return std::nullopt;
        u.models = {QStringLiteral("*")};
        for (auto k = keys.cbegin(); k != keys.cend(); ++k) {
            const QString key = k.key();
            const QString text = valueText(k.value());
            bool ok = true;
            if (key == QLatin1String("kind") || key == QLatin1String("base_url")) {
                continue;
            } else if (key == QLatin1String("api_key")) {
                u.apiKey = text.toUtf8();
            } else if (key == QLatin1String("api_key_env")) {
                if (!env.contains(text)) {
                    *error = QStringLiteral("api_key_env in [%1] names %2, which is not set")
                                 .arg(section, text);
                    return std::nullopt;
                }
                u.apiKey = env.value(text).toUtf8();
            } else if (key == QLatin1String("models")) {
                QStringList globs;
                for (const QString &g : text.split(u',', Qt::SkipEmptyParts))
                    if (!g.trimmed().isEmpty())
                        globs << g.trimmed();
                if (globs.isEmpty()) {
                    fail(error, section, key, text,
                         QStringLiteral("a comma-separated list of model globs"));
                    return std::nullopt;
                }
                u.models = globs;
            } else if (key == QLatin1String("timeout_ms")) {
                ok = applyInt(u.endpoint.firstByteTimeoutMs, section, key, text, 1, 86'400'000,
                              error);
            } else if (key == QLatin1String("connect_timeout_ms")) {
                ok = applyInt(u.endpoint.connectTimeoutMs, section, key, text, 1, 600'000, error);
            } else if (key == QLatin1String("idle_timeout_ms")) {
                ok = applyInt(u.endpoint.idleTimeoutMs, section, key, text, 1, 86'400'000, error);
            } else if (key == QLatin1String("max_connections")) {
                ok = applyInt(u.endpoint.maxConnections, section, key, text, 1, 100'000, error);
            } else if (key == QLatin1String("priority")) {
                ok = applyInt(u.priority, section, key, text, 0, 1'000'000, error);
            } else if (key == QLatin1String("requests_per_minute")) {
                ok = applyCount(u.requestsPerMinute, section, key, text, error);
            } else if (key == QLatin1String("tokens_per_minute")) {
                ok = applyCount(u.tokensPerMinute, section, key, text, error);
            } else if (key == QLatin1String("ca_file")) {
                u.endpoint.caFile = text;
            } else if (key == QLatin1String("http_proxy")) {
                u.endpoint.httpProxy = text;
            } else {
                *error = QStringLiteral(
                             "unknown key \"%1\" in [%2]: expected one of kind, base_url, "
                             "api_key, api_key_env, models, timeout_ms, connect_timeout_ms, "
                             "idle_timeout_ms, max_connections, ca_file, http_proxy, priority, "
                             "requests_per_minute, tokens_per_minute")
                             .arg(key, section);
                return std::nullopt;
            }
            if (!ok)
                return std::nullopt;
        }
        named << u.name;
        result << u;
    }
    // The defaults serve when nothing is configured, or when their environment shortcuts ask
    // for them; as a last resort (priority 1000) behind every configured upstream.
    for (const QString &name : {QStringLiteral("openai"), QStringLiteral("anthropic")}) {
        const QString prefix = QStringLiteral("SLUICE_") + name.toUpper() + u'_';
        const bool asked = env.contains(prefix + QStringLiteral("BASE_URL")) ||
                           env.contains(prefix + QStringLiteral("API_KEY"));
        if (!named.contains(name) && (named.isEmpty() || asked)) {
            UpstreamConfig u = builtIn(name, env);
            u.priority = 1000;
            result << u;
        }
    }
    // Stable: among equal priorities the INI order (sections are sorted by name) decides.
    std::stable_sort(
        result.begin(), result.end(),
        [](const UpstreamConfig &a, const UpstreamConfig &b) { return a.priority < b.priority; });
    return result;
}

}  // namespace sluice
