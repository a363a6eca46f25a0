#include "PgTestDatabase.h"

#include "TestFixtures.h"

#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTest>
#include <QtDebug>

namespace sluice::test {

PgSession::PgSession(const QUrl &url)
{
    static int counter = 0;
    m_name = QStringLiteral("pgsession_%1").arg(++counter);
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_name);
    db.setHostName(url.host());
    db.setPort(url.port(5432));
    db.setUserName(url.userName());
    db.setPassword(url.password());
    db.setDatabaseName(url.path().mid(1));
    if (!db.open())
        m_error =
            QStringLiteral("cannot connect to %1: %2").arg(url.toString(), db.lastError().text());
}

PgSession::~PgSession()
{
    QSqlDatabase::database(m_name, false).close();
    QSqlDatabase::removeDatabase(m_name);
}

bool PgSession::exec(const QString &sql, QString *error)
{
    QString why;
    const bool ok = rows(sql, &why).has_value();
    if (!ok && error)
        *error = why;
    return ok;
}

std::optional<QStringList> PgSession::rows(const QString &sql, QString *error,
                                           const QVariantList &values)
{
    if (!m_error.isEmpty()) {
        *error = m_error;
        return std::nullopt;
    }
    QSqlQuery q(QSqlDatabase::database(m_name, false));
    bool ok = false;
    if (values.isEmpty()) {
        ok = q.exec(sql);
    } else {
        q.prepare(sql);
        for (const QVariant &v : values)
            q.addBindValue(v);
        ok = q.exec();
    }
    if (!ok) {
        *error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        return std::nullopt;
    }
    QStringList out;
    while (q.next()) {
        QStringList cells;
        for (int i = 0; i < q.record().count(); ++i)
            cells << q.value(i).toString();
        out << cells.join(u'\t');
    }
    return out;
}

PgTestDatabase::PgTestDatabase(const QString &fixtureUrl, const QString &namePrefix)
    : m_fixture(fixtureUrl),
      m_name(QStringLiteral("%1_%2")
                 .arg(namePrefix)
                 .arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0')))
{}

std::unique_ptr<PgTestDatabase> PgTestDatabase::createForTest(const QString &namePrefix)
{
    QString why;
    const QString url = postgresUrl(&why);
    if (url.isEmpty()) {
        QTest::qFail(qPrintable(why), __FILE__, __LINE__);
        return nullptr;
    }
    auto db = std::make_unique<PgTestDatabase>(url, namePrefix);
    if (!db->create(&why)) {
        QTest::qFail(qPrintable(QStringLiteral("cannot create a test database: ") + why), __FILE__,
                     __LINE__);
        return nullptr;
    }
    return db;
}

PgTestDatabase::~PgTestDatabase()
{
    if (m_created)
        drop();
}

bool PgTestDatabase::execOn(const QUrl &url, const QString &sql, QString *error)
{
    return PgSession(url).exec(sql, error);
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
    return execOn(qurl(), sql, error);
}

QUrl PgTestDatabase::qurl() const
{
    QUrl u = m_fixture;
    u.setPath(u'/' + m_name);
    return u;
}

QString PgTestDatabase::url() const
{
    return qurl().toString();
}

}  // namespace sluice::test
