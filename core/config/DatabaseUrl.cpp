#include "DatabaseUrl.h"

#include <QDir>
#include <QFileInfo>
#include <QUrl>

namespace sluice {

std::optional<DatabaseUrl> DatabaseUrl::parse(const QString &text, QString *error)
{
    auto fail = [error](const QString &why) -> std::optional<DatabaseUrl> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    if (trimmed.startsWith(QLatin1String("sqlite://"))) {
        const QString rest = trimmed.mid(int(qstrlen("sqlite://")));
        if (rest.isEmpty() || rest == QLatin1String("/"))
            return fail(QStringLiteral("sqlite:///abs/path.db or sqlite://relative.db"));
        DatabaseUrl url;
        url.driver = Driver::Sqlite;
        // sqlite:///abs -> "/abs"; sqlite://rel -> "rel" resolved against the working directory.
        url.path = QDir::cleanPath(QFileInfo(rest).absoluteFilePath());
        return url;
    }
    if (trimmed.startsWith(QLatin1String("postgres://")) ||
        trimmed.startsWith(QLatin1String("postgresql://"))) {
        const QUrl qurl(trimmed, QUrl::StrictMode);
        const QString name = qurl.path().mid(1);
        if (!qurl.isValid() || qurl.host().isEmpty() || name.isEmpty() || name.contains(u'/'))
            return fail(QStringLiteral("postgres://user:pass@host:port/dbname"));
        if (qurl.port() == 0 || qurl.port() > 65535)
            return fail(QStringLiteral(
                "a port between 1 and 65535 in postgres://user:pass@host:port/dbname"));
        DatabaseUrl url;
        url.driver = Driver::Postgres;
        url.host = qurl.host();
        url.port = qurl.port(5432);
        url.user = qurl.userName();
        url.password = qurl.password();
        url.databaseName = name;
        return url;
    }
    return fail(
        QStringLiteral("a database URL: sqlite:///abs/path.db, sqlite://relative.db or "
                       "postgres://user:pass@host:port/dbname"));
}

QString DatabaseUrl::redacted() const
{
    if (driver == Driver::Sqlite)
        return QStringLiteral("sqlite://") + path;
    QString s = QStringLiteral("postgres://");
    if (!user.isEmpty()) {
        s += user;
        if (!password.isEmpty())
            s += QStringLiteral(":***");
        s += u'@';
    }
    s += host + u':' + QString::number(port) + u'/' + databaseName;
    return s;
}

QString DatabaseUrl::driverName() const
{
    return driver == Driver::Sqlite ? QStringLiteral("sqlite") : QStringLiteral("postgres");
}

}  // namespace sluice
