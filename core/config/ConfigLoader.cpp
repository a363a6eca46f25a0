#include "ConfigLoader.h"

#include <QHostAddress>

#include "ConfigValues.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <QSettings>
#include <QUrl>
#include <algorithm>

namespace sluice {

namespace {

using Apply = bool (*)(GatewayConfig &config, const QString &value, QString *expected);

// One configurable setting. Flag, environment variable and INI key all derive from `name`.
struct OptionDef
{
    const char *name;         // flag without "--", words joined by "-"
    const char *section;      // INI section
    const char *metavar;      // nullptr: boolean, a flag without value
    const char *defaultText;  // nullptr: computed by dynamicDefault
    QString (*dynamicDefault)();
    const char *help;
    Apply apply;
};

// --- value appliers, one per value type; templates keep the table to one line per option ---

template <bool GatewayConfig::*Member>
bool applyBool(GatewayConfig &c, const QString &v, QString *e)
{
    const auto b = ConfigValues::parseBool(v, e);
    if (b)
        c.*Member = *b;
    return b.has_value();
}

template <HostPort GatewayConfig::*Member>
bool applyHostPort(GatewayConfig &c, const QString &v, QString *e)
{
    const auto hp = HostPort::parse(v, e);
    if (hp)
        c.*Member = *hp;
    return hp.has_value();
}

template <double GatewayConfig::*Member, bool AllowZero>
bool applySeconds(GatewayConfig &c, const QString &v, QString *e)
{
    const auto s = ConfigValues::parseSeconds(v, AllowZero, e);
    if (s)
        c.*Member = *s;
    return s.has_value();
}

template <qint64 GatewayConfig::*Member>
bool applyByteSize(GatewayConfig &c, const QString &v, QString *e)
{
    const auto n = ConfigValues::parseByteSize(v, e);
    if (!n)
        return false;
    if (*n <= 0) {
        *e = QStringLiteral("a size greater than 0 (e.g. 10MiB)");
        return false;
    }
    c.*Member = *n;
    return true;
}

bool applyWorkers(GatewayConfig &c, const QString &v, QString *e)
{
    bool ok = false;
    const int n = v.trimmed().toInt(&ok);
    if (!ok || n < 1 || n > 256) {
        *e = QStringLiteral("a number of threads 1-256");
        return false;
    }
    c.workers = n;
    return true;
}

bool applyMetricsLabelLimit(GatewayConfig &c, const QString &v, QString *e)
{
    bool ok = false;
    const int n = v.trimmed().toInt(&ok);
    if (!ok || n < 1 || n > 1'000'000) {
        *e = QStringLiteral("a number of label values 1-1000000");
        return false;
    }
    c.metricsLabelLimit = n;
    return true;
}

bool applyMetricsListen(GatewayConfig &c, const QString &v, QString *e)
{
    const QString s = v.trimmed().toLower();
    if (s != QLatin1String("public") && s != QLatin1String("admin")) {
        *e = QStringLiteral("public (the client API's listener) or admin (the admin listener)");
        return false;
    }
    c.metricsOnAdmin = s == QLatin1String("admin");
    return true;
}

bool applyDataDir(GatewayConfig &c, const QString &v, QString *e)
{
    QString path = v.trimmed();
    if (path.isEmpty()) {
        *e = QStringLiteral("a directory path");
        return false;
    }
    // INI files and service managers do not expand "~" the way a shell does.
    if (path == QLatin1String("~") || path.startsWith(QLatin1String("~/")))
        path = QDir::homePath() + path.mid(1);
    c.dataDir = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    return true;
}

bool applyDb(GatewayConfig &c, const QString &v, QString *e)
{
    const auto url = DatabaseUrl::parse(v, e);
    if (url)
        c.db = *url;
    return url.has_value();
}

bool applyLedgerDb(GatewayConfig &c, const QString &v, QString *e)
{
    if (v.trimmed().isEmpty()) {
        c.ledgerDb.reset();
        return true;
    }
    const auto url = DatabaseUrl::parse(v, e);
    if (url)
        c.ledgerDb = *url;
    return url.has_value();
}

bool applyRedis(GatewayConfig &c, const QString &v, QString *e)
{
    if (v.trimmed().isEmpty()) {
        c.redis.reset();
        return true;
    }
    const auto url = RedisUrl::parse(v, e);
    if (url)
        c.redis = *url;
    return url.has_value();
}

// Any text is a token; empty means none (the admin API then answers 503). Never rejected, so
// a configuration error can never echo the secret.
bool applyAdminToken(GatewayConfig &c, const QString &v, QString *)
{
    c.adminToken = v.trimmed();  // a trailing newline from a secrets file is not part of it
    return true;
}

// A file path; empty = none. "~" is expanded because INI files and service managers do not.
template <QString GatewayConfig::*Member>
bool applyFilePath(GatewayConfig &c, const QString &v, QString *)
{
    QString path = v.trimmed();
    if (path == QLatin1String("~") || path.startsWith(QLatin1String("~/")))
        path = QDir::homePath() + path.mid(1);
    c.*Member = path.isEmpty() ? QString() : QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    return true;
}

bool applyTrustedProxies(GatewayConfig &c, const QString &v, QString *e)
{
    QStringList cidrs;
    for (const QString &part : v.split(u',', Qt::SkipEmptyParts)) {
        const QString entry = part.trimmed();
        if (entry.isEmpty())
            continue;
        const bool subnet = !QHostAddress::parseSubnet(entry).first.isNull();
        if (!subnet && (entry.contains(u'/') || QHostAddress(entry).isNull())) {
            *e = QStringLiteral(
                     "a comma-separated list of IP addresses or CIDR subnets "
                     "(\"%1\" is neither)")
                     .arg(entry);
            return false;
        }
        cidrs << entry;
    }
    c.trustedProxies = cidrs;
    return true;
}

bool applyLogLevel(GatewayConfig &c, const QString &v, QString *e)
{
    const QString s = v.trimmed().toLower();
    if (s == QLatin1String("debug"))
        c.logLevel = LogLevel::Debug;
    else if (s == QLatin1String("info"))
        c.logLevel = LogLevel::Info;
    else if (s == QLatin1String("warning"))
        c.logLevel = LogLevel::Warning;
    else if (s == QLatin1String("error"))
        c.logLevel = LogLevel::Error;
    else {
        *e = QStringLiteral("one of debug, info, warning, error");
        return false;
    }
    return true;
}

bool applyLogFormat(GatewayConfig &c, const QString &v, QString *e)
{
    const QString s = v.trimmed().toLower();
    if (s == QLatin1String("text"))
        c.logFormat = LogFormat::Text;
    else if (s == QLatin1String("json"))
        c.logFormat = LogFormat::Json;
    else {
        *e = QStringLiteral("one of text, json");
        return false;
    }
    return true;
}

bool applyHistogramBuckets(GatewayConfig &c, const QString &v, QString *e)
{
    const auto list = ConfigValues::parseSecondsList(v, e);
    if (list)
        c.histogramBuckets = *list;
    return list.has_value();
}

QString workersDefault()
{
    return QStringLiteral("number of CPUs (%1 here)").arg(GatewayConfig::defaultWorkers());
}

QString dataDirDefault()
{
    return GatewayConfig::defaultDataDir();
}

QString dbDefault()
{
    return QStringLiteral("sqlite://DATA_DIR/sluice.db");
}

// The single source of truth for option names, defaults and help.
const OptionDef kOptions[] = {
    {"headless", "server", nullptr, "false", nullptr,
     "Run the gateway only, without the dashboard window.", applyBool<&GatewayConfig::headless>},
    {"listen", "server", "HOST:PORT", "127.0.0.1:8081", nullptr,
     "Address of the client API. HOST is an IP, localhost or *; port 0 picks a free port.",
     applyHostPort<&GatewayConfig::listen>},
    {"admin-listen", "server", "HOST:PORT", "127.0.0.1:8082", nullptr,
     "Address of the admin API (/admin/v1); beyond loopback only with --admin-tls-certificate.",
     applyHostPort<&GatewayConfig::adminListen>},
    {"workers", "server", "N", nullptr, workersDefault, "HTTP worker threads, 1-256.",
     applyWorkers},
    {"drain-timeout", "server", "SECONDS", "30", nullptr,
     "On SIGTERM, how long in-flight requests may take to finish.",
     applySeconds<&GatewayConfig::drainTimeout, true>},
    {"max-body-size", "server", "SIZE", "10MiB", nullptr,
     "Largest request body accepted (bytes, or with KiB/MiB/GiB/KB/MB/GB/k/M/G).",
     applyByteSize<&GatewayConfig::maxBodySize>},
    {"header-timeout", "server", "SECONDS", "10", nullptr,
     "Time for a request's headers to arrive, counted from its first byte.",
     applySeconds<&GatewayConfig::headerTimeout, false>},
    {"idle-timeout", "server", "SECONDS", "60", nullptr,
     "Idle keep-alive connections are closed after this long.",
     applySeconds<&GatewayConfig::idleTimeout, false>},
    {"trusted-proxies", "server", "CIDRS", "none", nullptr,
     "Proxies whose X-Forwarded-For names the client (comma-separated IPs or CIDR subnets); "
     "other peers' X-Forwarded-For is ignored.",
     applyTrustedProxies},
    {"data-dir", "storage", "DIR", nullptr, dataDirDefault,
     "Directory for the SQLite database and other state.", applyDataDir},
    {"db", "storage", "URL", nullptr, dbDefault,
     "Database: sqlite:///abs/path.db, sqlite://relative.db or "
     "postgres://user:pass@host:port/dbname.",
     applyDb},
    {"ledger-db", "storage", "URL", "same as db", nullptr,
     "Separate database for the usage ledger; empty = same as db.", applyLedgerDb},
    {"redis", "redis", "URL", "none", nullptr,
     "Redis for rate-limit state shared between instances: redis://[:password@]host[:port][/db] "
     "or unix:///path.sock[?db=N]; empty = in-memory limits.",
     applyRedis},
    {"redis-timeout", "redis", "SECONDS", "0.05", nullptr,
     "Longest wait for a Redis rate-limit decision; slower answers fall back to memory.",
     applySeconds<&GatewayConfig::redisTimeout, false>},
    {"fail-closed", "redis", nullptr, "false", nullptr,
     "While Redis is unreachable, answer 503 instead of deciding from memory (fail-open).",
     applyBool<&GatewayConfig::failClosed>},
    {"log-level", "log", "LEVEL", "info", nullptr, "debug, info, warning or error.", applyLogLevel},
    {"log-format", "log", "FORMAT", "text", nullptr, "text or json (one object per line).",
     applyLogFormat},
    {"health-ttl", "health", "SECONDS", "2", nullptr,
     "How long a health result is cached; 0 = check on every request.",
     applySeconds<&GatewayConfig::healthTtl, true>},
    {"health-timeout", "health", "SECONDS", "2", nullptr,
     "Time limit of each health check; slower counts as failed.",
     applySeconds<&GatewayConfig::healthTimeout, false>},
    {"db-slow-threshold", "health", "SECONDS", "0.5", nullptr,
     "A database check slower than this reports degraded.",
     applySeconds<&GatewayConfig::dbSlowThreshold, false>},
    {"memory-limit", "health", "SIZE", "2GiB", nullptr,
     "Resident memory (RSS) ceiling watched by the memory health check.",
     applyByteSize<&GatewayConfig::memoryLimit>},
    {"histogram-buckets", "metrics", "LIST", "built-in", nullptr,
     "Latency histogram bounds in seconds, comma-separated and increasing; empty = built-in.",
     applyHistogramBuckets},
    {"metrics-per-user", "metrics", nullptr, "true", nullptr,
     "Export gateway_tokens_by_user_total per user name; false turns per-user series off.",
     applyBool<&GatewayConfig::metricsPerUser>},
    {"metrics-label-limit", "metrics", "N", "1000", nullptr,
     "Most values a per-user or per-model label takes; later ones are folded into \"other\".",
     applyMetricsLabelLimit},
    {"metrics-listen", "metrics", "WHERE", "public", nullptr,
     "Serve /metrics on the public listener or only on the admin listener (admin).",
     applyMetricsListen},
    {"admin-token", "admin", "TOKEN", "none", nullptr,
     "Bearer token of the admin API (with --connect: the remote gateway's); empty = none, and "
     "the admin API answers 503. Prefer the "
     "environment or a private INI file: flags are visible to every local user.",
     applyAdminToken},
    {"admin-tls-certificate", "admin", "FILE", "none", nullptr,
     "PEM certificate (then its chain) of the admin listener; with --admin-tls-key the admin API "
     "speaks HTTPS only. Required to bind --admin-listen beyond loopback.",
     applyFilePath<&GatewayConfig::adminTlsCertificate>},
    {"admin-tls-key", "admin", "FILE", "none", nullptr,
     "PEM private key (RSA or EC, unencrypted) of --admin-tls-certificate.",
     applyFilePath<&GatewayConfig::adminTlsKey>},
    {"admin-ca", "admin", "FILE", "none", nullptr,
     "With --connect https://...: PEM certificates to trust for the remote admin listener, in "
     "addition to the system's (for a self-signed or private-CA certificate).",
     applyFilePath<&GatewayConfig::adminCa>},
};

const char kConfigFlag[] = "config";
// Not an INI key either: which gateway the dashboard shows is a matter of this invocation.
const char kConnectFlag[] = "connect";
const char kConnectHelp[] =
    "Open the dashboard on a remote gateway through its admin API (http://HOST:PORT of its "
    "--admin-listen) with the token of --admin-token; no gateway is started here. Not an INI key.";

// --connect's value: an http or https URL with a host, nothing after the path.
bool validConnectUrl(const QString &text, QString *expected)
{
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")) ||
        url.host().isEmpty() || url.hasQuery() || url.hasFragment() || !url.userInfo().isEmpty()) {
        *expected = QStringLiteral(
            "an http:// or https:// URL of the admin listener, e.g. "
            "http://127.0.0.1:8082");
        return false;
    }
    return true;
}
const char kEnvPrefix[] = "SLUICE_";

QString flagOf(const char *name)
{
    return QStringLiteral("--") + QLatin1String(name);
}

QString envOf(const char *name)
{
    return QLatin1String(kEnvPrefix) + QString::fromLatin1(name).toUpper().replace(u'-', u'_');
}

QString iniKeyOf(const char *name)
{
    return QString::fromLatin1(name).replace(u'-', u'_');
}

QString defaultOf(const OptionDef &def)
{
    return def.defaultText ? QString::fromLatin1(def.defaultText) : def.dynamicDefault();
}

const OptionDef *findByName(const QString &name)
{
    for (const auto &def : kOptions) {
        if (name == QLatin1String(def.name))
            return &def;
    }
    return nullptr;
}

QStringList knownSections()
{
    QStringList sections;
    for (const auto &def : kOptions) {
        const QString s = QLatin1String(def.section);
        if (!sections.contains(s))
            sections << s;
    }
    return sections;
}

QStringList keysOf(const QString &section)
{
    QStringList keys;
    for (const auto &def : kOptions) {
        if (section == QLatin1String(def.section))
            keys << iniKeyOf(def.name);
    }
    return keys;
}

// Edit distance, to suggest --listen for --lsiten.
int distance(const QString &a, const QString &b)
{
    QList<int> row(b.size() + 1);
    for (qsizetype j = 0; j <= b.size(); ++j)
        row[j] = int(j);
    for (qsizetype i = 1; i <= a.size(); ++i) {
        int diagonal = row[0];
        row[0] = int(i);
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int above = row[j];
            row[j] = std::min(
                {row[j] + 1, row[j - 1] + 1, diagonal + (a.at(i - 1) == b.at(j - 1) ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

QString suggestFlag(const QString &flag)
{
    QString best;
    int bestDistance = 3;  // further away is no longer a typo
    QStringList names{flagOf(kConfigFlag), flagOf(kConnectFlag), QStringLiteral("--help"),
                      QStringLiteral("--version")};
    for (const auto &def : kOptions)
        names << flagOf(def.name);
    const QString bare = flag.section(u'=', 0, 0);
    for (const QString &name : names) {
        const int d = distance(bare, name);
        if (d < bestDistance) {
            bestDistance = d;
            best = name;
        }
    }
    return best.isEmpty() ? QStringLiteral("an option listed by --help")
                          : best + QStringLiteral(" (see --help)");
}

// QSettings turns an unquoted "a,b" into a QStringList; scalars see the text as written.
QString iniText(const QVariant &value)
{
    if (value.metaType().id() == QMetaType::QStringList)
        return value.toStringList().join(u',');
    return value.toString();
}

QString joinSections(const QStringList &sections)
{
    QStringList bracketed;
    for (const QString &s : sections)
        bracketed << u'[' + s + u']';
    return bracketed.join(QStringLiteral(", "));
}

// Where a setting came from: the key as spelled there, its INI section, and the source.
struct SettingSource
{
    QString key;
    QString section;
    QString source;
};

// A flag value given on the command line, applied after the INI file and the environment.
struct CliSetting
{
    const OptionDef *def;
    QString flag;
    QString value;
};

}  // namespace

void ConfigLoader::addExtraSection(const QString &nameOrPrefix)
{
    m_extraSections << nameOrPrefix;
}

bool ConfigLoader::isExtraSection(const QString &section) const
{
    for (const QString &entry : m_extraSections) {
        if (entry.endsWith(u'.') ? section.startsWith(entry) && section.size() > entry.size()
                                 : section == entry)
            return true;
    }
    return false;
}

ConfigLoadResult ConfigLoader::load(const QStringList &arguments, const QProcessEnvironment &env)
{
    ConfigLoader loader;
    // Sections other layers read themselves: [tier.NAME] and [defaults.user|key] seed the
    // identity database at first start.
    loader.addExtraSection(QStringLiteral("tier."));
    loader.addExtraSection(QStringLiteral("defaults."));
    // [upstream.NAME]: the proxy's upstreams (UpstreamConfigLoader).
    loader.addExtraSection(QStringLiteral("upstream."));
    // [cost]: per-route cost multipliers of the limiter (CostTable).
    loader.addExtraSection(QStringLiteral("cost"));
    return loader.run(arguments, env);
}

ConfigLoadResult ConfigLoader::run(const QStringList &arguments,
                                   const QProcessEnvironment &env) const
{
    ConfigLoadResult result;
    GatewayConfig &config = result.config;
    std::optional<ConfigError> error;
    auto failOnce = [&error](ConfigError e) {
        if (!error)
            error = std::move(e);
    };
    const QString cliSource = QStringLiteral("command line");
    const QString envSource = QStringLiteral("environment");

    // 1. Split the command line; values are applied last, after the file and the environment.
    QList<CliSetting> cli;
    std::optional<QString> configPath;
    QString configKey;
    QString configSource;
    std::optional<QString> connectUrl;
    bool seenPositional = false;
    bool endOfOptions = false;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (endOfOptions || arg == QLatin1String("-") || !arg.startsWith(u'-')) {
            result.positional << arg;
            seenPositional = true;
            continue;
        }
        if (arg == QLatin1String("--")) {
            endOfOptions = true;
            continue;
        }
        // After a subcommand, its own -h/--name... belong to it.
        const auto passOn = [&]() {
            if (!seenPositional)
                return false;
            result.positional << arg;
            return true;
        };
        if (!seenPositional && (arg == QLatin1String("-h") || arg == QLatin1String("--help"))) {
            result.help = true;
            continue;
        }
        if (!seenPositional && (arg == QLatin1String("-v") || arg == QLatin1String("--version"))) {
            result.version = true;
            continue;
        }
        if (!arg.startsWith(QLatin1String("--"))) {
            if (!passOn())
                failOnce({ConfigError::Kind::UnknownFlag,
                          arg,
                          {},
                          arg,
                          QStringLiteral("an option listed by --help"),
                          cliSource});
            continue;
        }
        const qsizetype eq = arg.indexOf(u'=');
        const QString name = arg.mid(2, eq < 0 ? -1 : eq - 2);
        const QString flag = QStringLiteral("--") + name;
        const OptionDef *def = findByName(name);
        const bool isConfig = name == QLatin1String(kConfigFlag);
        const bool isConnect = name == QLatin1String(kConnectFlag);
        if (!def && !isConfig && !isConnect) {
            if (!passOn())
                failOnce(
                    {ConfigError::Kind::UnknownFlag, flag, {}, arg, suggestFlag(arg), cliSource});
            continue;
        }
        QString value;
        if (eq >= 0) {
            value = arg.mid(eq + 1);
        } else if (def && !def->metavar) {
            value = QStringLiteral("true");  // bare boolean flag
        } else if (i + 1 < arguments.size() &&
                   !arguments.at(i + 1).startsWith(QLatin1String("--"))) {
            value = arguments.at(++i);
        } else {
            failOnce({ConfigError::Kind::MissingValue,
                      flag,
                      {},
                      {},
                      isConfig    ? QStringLiteral("FILE")
                      : isConnect ? QStringLiteral("URL")
                                  : QLatin1String(def->metavar),
                      cliSource});
            continue;
        }
        if (isConnect) {
            connectUrl = value;
        } else if (isConfig) {
            configPath = value;
            configKey = flag;
            configSource = cliSource;
        } else {
            cli.append({def, flag, value});
        }
    }
    if (result.help || result.version)
        return result;  // asking for help never fails on the settings it would explain
    if (error) {
        result.error = error;
        return result;
    }

    // Which options were set anywhere, so the data_dir-dependent default of db is only used
    // when db itself was not configured.
    QSet<const OptionDef *> configured;
    // Where each option got its value, to name it in errors about combinations.
    QHash<QByteArray, SettingSource> sources;
    auto apply = [&](const OptionDef &def, const QString &value, const QString &key,
                     const QString &section, const QString &source) {
        QString expected;
        if (def.apply(config, value, &expected)) {
            configured.insert(&def);
            sources.insert(QByteArray(def.name), {key, section, source});
            return;
        }
        failOnce({ConfigError::Kind::InvalidValue, key, section, value, expected, source});
    };

    // 2. The INI file named by --config or SLUICE_CONFIG; empty means none.
    const QString configEnv = envOf(kConfigFlag);
    if (!configPath && env.contains(configEnv)) {
        configPath = env.value(configEnv);
        configKey = configEnv;
        configSource = envSource;
    }
    if (configPath && !configPath->trimmed().isEmpty()) {
        const QFileInfo info(*configPath);
        auto unreadable = [&](const QString &why) {
            failOnce(
                {ConfigError::Kind::UnreadableFile, configKey, {}, *configPath, why, configSource});
        };
        if (!info.exists()) {
            unreadable(QStringLiteral("no such file"));
        } else if (!info.isFile()) {
            unreadable(QStringLiteral("not a regular file"));
        } else if (!info.isReadable()) {
            unreadable(QStringLiteral("permission denied"));
        } else {
            config.configFile = info.absoluteFilePath();
            const QSettings ini(config.configFile, QSettings::IniFormat);
            if (ini.status() == QSettings::AccessError) {
                unreadable(QStringLiteral("cannot be read"));
            } else if (ini.status() == QSettings::FormatError) {
                unreadable(QStringLiteral("not a valid INI file (check the [section] lines)"));
            } else {
                const QString file = config.configFile;
                const QStringList sections = knownSections();
                for (const QString &path : ini.allKeys()) {
                    const QStringList parts = path.split(u'/');
                    const QString section = parts.size() > 1 ? parts.first() : QString();
                    const QString key = parts.size() > 1 ? parts.mid(1).join(u'/') : path;
                    if (section.isEmpty()) {
                        // Also [General]: QSettings files its keys at the top level.
                        failOnce({ConfigError::Kind::UnknownKey,
                                  key,
                                  {},
                                  {},
                                  QStringLiteral("every key inside a [section]"),
                                  file});
                        continue;
                    }
                    const bool extra = isExtraSection(section);
                    if (!extra && !sections.contains(section)) {
                        failOnce({ConfigError::Kind::UnknownSection,
                                  section,
                                  {},
                                  {},
                                  QStringLiteral("one of ") + joinSections(sections),
                                  file});
                        continue;
                    }
                    if (parts.size() > 2) {
                        // "/" is QSettings' group separator: "a/b = 1" in [s] reads as s/a/b.
                        failOnce({ConfigError::Kind::UnknownKey,
                                  key,
                                  section,
                                  {},
                                  QStringLiteral("a key without \"/\""),
                                  file});
                        continue;
                    }
                    if (extra) {
                        config.extraSections[section][key] = ini.value(path);
                        continue;
                    }
                    const OptionDef *def = findByName(QString(key).replace(u'_', u'-'));
                    if (!def || key != iniKeyOf(def->name)) {
                        failOnce(
                            {ConfigError::Kind::UnknownKey,
                             key,
                             section,
                             {},
                             QStringLiteral("one of ") + keysOf(section).join(QStringLiteral(", ")),
                             file});
                        continue;
                    }
                    if (section != QLatin1String(def->section)) {
                        failOnce(
                            {ConfigError::Kind::UnknownKey,
                             key,
                             section,
                             {},
                             QStringLiteral("%1 in [%2]").arg(key, QLatin1String(def->section)),
                             file});
                        continue;
                    }
                    apply(*def, iniText(ini.value(path)), key, section, file);
                }
            }
        }
    }

    // 3. SLUICE_* environment; names not in the table are left to other modules.
    for (const auto &def : kOptions) {
        const QString var = envOf(def.name);
        if (env.contains(var))
            apply(def, env.value(var), var, {}, envSource);
    }

    // 4. Command-line flags, in order: a repeated flag's last value wins.
    for (const CliSetting &s : cli)
        apply(*s.def, s.value, s.flag, {}, cliSource);
    const QString connectEnv = envOf(kConnectFlag);
    const bool connectFromCli = connectUrl.has_value();
    if (!connectUrl && env.contains(connectEnv))
        connectUrl = env.value(connectEnv);
    if (connectUrl && !connectUrl->trimmed().isEmpty()) {
        QString expected;
        if (validConnectUrl(*connectUrl, &expected))
            config.connect = connectUrl->trimmed();
        else
            failOnce({ConfigError::Kind::InvalidValue,
                      connectFromCli ? flagOf(kConnectFlag) : connectEnv,
                      {},
                      *connectUrl,
                      expected,
                      connectFromCli ? cliSource : envSource});
    }

    if (error) {
        result.error = error;
        return result;
    }

    // 5. Rules across settings.
    // The admin API carries a bearer token that can mint keys: it leaves loopback only over TLS.
    if (config.adminTlsCertificate.isEmpty() != config.adminTlsKey.isEmpty()) {
        const bool certOnly = config.adminTlsKey.isEmpty();
        const SettingSource &s =
            sources.value(certOnly ? "admin-tls-certificate" : "admin-tls-key");
        failOnce({ConfigError::Kind::InvalidValue, s.key, s.section,
                  certOnly ? config.adminTlsCertificate : config.adminTlsKey,
                  certOnly ? QStringLiteral("admin_tls_key set as well (the certificate's key)")
                           : QStringLiteral("admin_tls_certificate set as well"),
                  s.source});
    }
    if (!config.adminListen.address().isLoopback() && config.adminTlsCertificate.isEmpty()) {
        const SettingSource &s = sources.value("admin-listen");
        failOnce({ConfigError::Kind::InvalidValue, s.key, s.section, config.adminListen.toString(),
                  QStringLiteral("a loopback address (127.0.0.1, [::1], localhost), or "
                                 "admin_tls_certificate and admin_tls_key set: the admin API "
                                 "leaves loopback only over TLS"),
                  s.source});
    }
    if (error) {
        result.error = error;
        return result;
    }

    // 6. Defaults that depend on other settings.
    if (!configured.contains(findByName(QStringLiteral("data-dir"))))
        config.dataDir = GatewayConfig::defaultDataDir();
    if (!configured.contains(findByName(QStringLiteral("db"))))
        config.db = GatewayConfig::defaultDb(config.dataDir);
    return result;
}

QList<ConfigOption> ConfigLoader::options()
{
    QList<ConfigOption> list;
    list.append({flagOf(kConfigFlag),
                 envOf(kConfigFlag),
                 {},
                 {},
                 QStringLiteral("FILE"),
                 QStringLiteral("none"),
                 QStringLiteral("INI configuration file; empty = none. Not an INI key.")});
    list.append({flagOf(kConnectFlag),
                 envOf(kConnectFlag),
                 {},
                 {},
                 QStringLiteral("URL"),
                 QStringLiteral("none"),
                 QString::fromLatin1(kConnectHelp)});
    for (const auto &def : kOptions) {
        list.append({flagOf(def.name), envOf(def.name), QLatin1String(def.section),
                     iniKeyOf(def.name), def.metavar ? QLatin1String(def.metavar) : QString(),
                     defaultOf(def), QString::fromUtf8(def.help)});
    }
    return list;
}

namespace {

// Word-wraps `text` to lines of at most `width` characters, continuing at `indent`.
QString wrapped(const QString &text, int width, const QString &indent)
{
    QString out;
    int column = int(indent.size());
    for (const QString &word : text.split(u' ', Qt::SkipEmptyParts)) {
        if (column > indent.size() && column + 1 + word.size() > width) {
            out += u'\n' + indent;
            column = int(indent.size());
        } else if (column > indent.size()) {
            out += u' ';
            ++column;
        }
        out += word;
        column += int(word.size());
    }
    return out;
}

}  // namespace

QString ConfigLoader::helpText()
{
    constexpr int kColumn = 26;
    constexpr int kWidth = 100;
    const QString indent(kColumn, u' ');
    QString text;
    text += QStringLiteral(
        "Usage: sluice [OPTIONS] [COMMAND ...]\n"
        "\n"
        "Sluice, an LLM API gateway. Settings come from, in increasing precedence: built-in\n"
        "defaults, the INI file (--config), SLUICE_* environment variables, command-line flags.\n"
        "Every flag --foo-bar is also the variable SLUICE_FOO_BAR and the INI key foo_bar.\n"
        "\n"
        "  -h, --help              Show this help and exit.\n"
        "  -v, --version           Show the version and exit.\n");
    QString lastSection;
    for (const ConfigOption &opt : options()) {
        if (opt.section != lastSection) {
            text += QStringLiteral("\n[%1]\n").arg(opt.section);
            lastSection = opt.section;
        }
        QString head = QStringLiteral("  ") + opt.flag;
        if (!opt.metavar.isEmpty())
            head += u' ' + opt.metavar;
        if (head.size() < kColumn)
            text += head.leftJustified(kColumn);
        else
            text += head + u'\n' + indent;
        text += wrapped(opt.help, kWidth, indent) + u'\n';
        text += indent +
                wrapped(QStringLiteral("Default: %1. Env: %2.").arg(opt.defaultText, opt.envVar),
                        kWidth, indent) +
                u'\n';
    }
    text += QStringLiteral(
        "\nExit status: 0 on success, 2 on a bad command line or configuration.\n"
        "See docs/configuration.md for details.\n");
    return text;
}

}  // namespace sluice
