#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantList>
#include <memory>
#include <optional>

namespace sluice::test {

// One connection of the test itself (not of the gateway) to a PostgreSQL database, on the
// calling thread. It stays open, with any transaction and lock it holds, until destroyed.
class PgSession
{
public:
    explicit PgSession(const QUrl &url);
    ~PgSession();
    PgSession(const PgSession &) = delete;
    PgSession &operator=(const PgSession &) = delete;

    // Runs one statement; false with *error (when given) on failure.
    bool exec(const QString &sql, QString *error);
    // Every row of `sql`, each column's text joined by tabs; nullopt with *error on failure.
    // With `values`, `sql` is prepared and they are bound in order (CREATE/DROP DATABASE
    // cannot be prepared: without values the statement runs as it is).
    std::optional<QStringList> rows(const QString &sql, QString *error,
                                    const QVariantList &values = {});

private:
    QString m_name;
    QString m_error;
};

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

    // For a test function: a database of its own, created on the fixture's cluster. nullptr,
    // with the current test failed and the reason, when there is no fixture or it cannot be
    // created.
    static std::unique_ptr<PgTestDatabase> createForTest(const QString &namePrefix);

    bool create(QString *error);
    bool drop(QString *error = nullptr);
    // Runs one statement in this database (on a connection of the calling thread).
    bool exec(const QString &sql, QString *error);
    QUrl qurl() const;
    QString url() const;
    const QString &name() const { return m_name; }

private:
    static bool execOn(const QUrl &url, const QString &sql, QString *error);
    QUrl m_fixture;
    QString m_name;
    bool m_created = false;
};

}  // namespace sluice::test
