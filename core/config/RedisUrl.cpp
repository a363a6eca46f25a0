#include "RedisUrl.h"

#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

namespace sluice {

namespace {

const char kForms[] = "redis://[:password@]host[:port][/db] or unix:///path/to.sock[?db=N]";

std::optional<int> parseDb(const QString &s)
{
    static const QRegularExpression digits(QStringLiteral(R"(^\d{1,9}$)"));
    if (!digits.match(s).hasMatch())
        return std::nullopt;
    return s.toInt();
}

}  // namespace

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *expected)
{
    auto fail = [expected](const QString &why) -> std::optional<RedisUrl> {
        if (expected)
            *expected = why;
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    const QUrl url(trimmed, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("rediss"))
        return fail(QStringLiteral(
            "redis:// or unix:// (TLS is not supported by hiredis 0.14; use a TLS tunnel such "
            "as stunnel and point --redis at its local end)"));
    if (!url.isValid() || !url.fragment().isEmpty())
        return fail(QLatin1String(kForms));

    RedisUrl r;
    if (scheme == QLatin1String("redis")) {
        if (url.host().isEmpty() || url.hasQuery())
            return fail(QLatin1String(kForms));
        if (url.port() == 0)
            return fail(QStringLiteral("a port 1-65535 in redis://host:port"));
        // "redis://secret@host" would silently be a user name without password.
        if (!url.userName().isEmpty() && url.password().isEmpty())
            return fail(QStringLiteral(
                "redis://:password@host[:port][/db] (a password alone needs a leading colon)"));
        r.transport = Transport::Tcp;
        r.host = url.host();
        r.port = url.port(6379);
        r.username = url.userName();
        r.password = url.password();
        const QString path = url.path();
        if (!path.isEmpty() && path != QLatin1String("/")) {
            const auto db = parseDb(path.mid(1));
            if (!db)
                return fail(QStringLiteral("a database number in redis://host:port/db"));
            r.db = *db;
        }
        return r;
    }
    if (scheme == QLatin1String("unix")) {
        if (!url.host().isEmpty() || !url.userInfo().isEmpty() || !url.path().startsWith(u'/') ||
            url.path().size() < 2)
            return fail(QStringLiteral("unix:///absolute/path/to.sock[?db=N]"));
        r.transport = Transport::Unix;
        r.socketPath = url.path();
        const QUrlQuery query(url);
        for (const auto &[name, value] : query.queryItems(QUrl::FullyDecoded)) {
            if (name == QLatin1String("db")) {
                const auto db = parseDb(value);
                if (!db)
                    return fail(QStringLiteral("a database number in unix:///path.sock?db=N"));
                r.db = *db;
            } else if (name == QLatin1String("password")) {
                r.password = value;
            } else {
                return fail(QStringLiteral("only db and password query parameters in ") +
                            QLatin1String("unix:///path/to.sock?db=N&password=P"));
            }
        }
        return r;
    }
    return fail(QLatin1String(kForms));
}

QString RedisUrl::redacted() const
{
    if (transport == Transport::Unix) {
        QString s =
            QStringLiteral("unix://") + socketPath + QStringLiteral("?db=") + QString::number(db);
        if (!password.isEmpty())
            s += QStringLiteral("&password=***");
        return s;
    }
    QString s = QStringLiteral("redis://");
    if (!password.isEmpty())
        s += username + QStringLiteral(":***@");
    s += host.contains(u':') ? u'[' + host + u']' : host;
    s += u':' + QString::number(port) + u'/' + QString::number(db);
    return s;
}

}  // namespace sluice
