#include "PgTestDatabase.h"

#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QtDebug>

namespace sluice::test {

PgTestDatabase::PgTestDatabase(const QString &fixtureUrl, const QString &namePrefix)
    : m_fixture(fixtureUrl),
      m_name(QStringLiteral("%1_%2")
                 .arg(namePrefix)
                 .arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0')))
{}

PgTestDatabase::~PgTestDatabase()
{
    if (m_created)
        drop();
}

bool PgTestDatabase::execOn(const QUrl &url, const QString &sql, QString *error)
{
    static int counter = 0;
    const QString connection = QStringLiteral("pgtest_%1").arg(++counter);
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(url.host());
        db.setPort(url.port(5432));
        db.setUserName(url.userName());
        db.setPassword(url.password());
        db.setDatabaseName(url.path().mid(1));
        if (!db.open()) {
            if (error)
                *error = QStringLiteral("cannot connect to %1: %2")
                             .arg(url.toString(), db.lastError().text());
        } else {
            QSqlQuery q(db);
            ok = q.exec(sql);
            if (!ok && error)
                *error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    return ok;
}

bool PgTestDatabase::create(QString *error)
{
    m_created = execOn(m_fixture, QStringLiteral("CREATE DATABASE %1").arg(m_name), error);
    return m_created;
}

bool PgTestDatabase::drop(QString *error)
{
    QString why;
    const bool ok = execOn(
        m_fixture, QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(m_name), &why);
    if (ok)
        m_created = false;
    else if (error)
        *error = why;
    else
        qWarning().noquote() << "cannot drop" << m_name << ":" << why;
    return ok;
}

bool PgTestDatabase::exec(const QString &sql, QString *error)
{
    QUrl u = m_fixture;
    u.setPath(u'/' + m_name);
    return execOn(u, sql, error);
}

QString PgTestDatabase::url() const
{
    QUrl u = m_fixture;
    u.setPath(u'/' + m_name);
    return u.toString();
}

}  // namespace sluice::test
