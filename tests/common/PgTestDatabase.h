#pragma once

#include <QString>
#include <QUrl>

namespace sluice::test {

// A PostgreSQL database of its own for one test, on the ctest fixture's cluster: created on
// demand, dropped WITH (FORCE) at the end (that also ends the gateway's sessions, like an
// operator pulling the plug).
class PgTestDatabase
{
public:
    // `fixtureUrl`: from postgresUrl() in TestFixtures.h.
    explicit PgTestDatabase(const QString &fixtureUrl,
                            const QString &namePrefix = QStringLiteral("sluice_t"));
    ~PgTestDatabase();
    PgTestDatabase(const PgTestDatabase &) = delete;
    PgTestDatabase &operator=(const PgTestDatabase &) = delete;

    bool create(QString *error);
    bool drop(QString *error = nullptr);
    // Runs one statement in this database (on a connection of the calling thread).
    bool exec(const QString &sql, QString *error);
    QString url() const;
    const QString &name() const { return m_name; }

private:
    static bool execOn(const QUrl &url, const QString &sql, QString *error);
    QUrl m_fixture;
    QString m_name;
    bool m_created = false;
};

}  // namespace sluice::test
