#pragma once

// Fresh, migrated and seeded identity databases for the data-driven SQLite/PostgreSQL tests of
// the identity layer (tst_adminservice, tst_identitystore, tst_identityseeder). Header-only:
// test support shared by three binaries.

#include "DatabaseConnection.h"
#include "DatabaseUrl.h"
#include "IdentitySeeder.h"
#include "Migrator.h"
#include "Schema.h"
#include "TestFixtures.h"

#include <QRandomGenerator>
#include <QSqlRecord>
#include <QStringList>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <optional>

namespace sluice::test {

class IdentityTestDatabases
{
public:
    // In initTestCase(): QVERIFY2(dbs.init(&why), ...). Fails when the PostgreSQL fixture is not
    // running: these tests must never pass without having run on PostgreSQL.
    bool init(QString *why)
    {
        if (!m_tmp.isValid()) {
            *why = QStringLiteral("cannot create a temporary directory");
            return false;
        }
        m_runId = QString::number(QRandomGenerator::global()->generate(), 36);
        const QString text = postgresUrl(why);
        if (text.isEmpty())
            return false;
        m_pgUrl = DatabaseUrl::parse(text, why);
        if (!m_pgUrl)
            return false;
        m_pgAdmin = std::make_unique<DatabaseConnection>(*m_pgUrl, QStringLiteral("admin"));
        return m_pgAdmin->open(why);
    }

    // In cleanupTestCase(): drops every PostgreSQL database made by fresh().
    void cleanup()
    {
        if (!m_pgAdmin)
            return;
        for (const QString &name : std::as_const(m_created)) {
            QString error;
            if (!m_pgAdmin->exec(
                    QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(name), {},
                    &error))
                qWarning("could not drop %s: %s", qPrintable(name), qPrintable(error));
        }
        m_created.clear();
        m_pgAdmin.reset();
    }

    // In every _data() slot.
    static void backends()
    {
        QTest::addColumn<DatabaseUrl::Driver>("driver");
        QTest::newRow("sqlite") << DatabaseUrl::Driver::Sqlite;
        QTest::newRow("postgres") << DatabaseUrl::Driver::Postgres;
    }

    // A new empty database of the current data row's backend.
    DatabaseUrl freshUrl()
    {
        QFETCH(DatabaseUrl::Driver, driver);
        if (driver == DatabaseUrl::Driver::Sqlite) {
            DatabaseUrl url;
            url.driver = DatabaseUrl::Driver::Sqlite;
            url.path = m_tmp.filePath(QStringLiteral("db%1/identity.db").arg(++m_sqliteCounter));
            return url;
        }
        DatabaseUrl url = *m_pgUrl;
        url.databaseName = QStringLiteral("sluice_id_%1_%2").arg(m_runId).arg(m_created.size());
        QString error;
        if (m_pgAdmin->exec(QStringLiteral("CREATE DATABASE %1").arg(url.databaseName), {}, &error))
            m_created << url.databaseName;
        else
            qWarning("CREATE DATABASE failed: %s", qPrintable(error));
        return url;
    }

    // Opens a fresh database of the row's backend, migrated (identity component) and, with
    // `seed`, seeded with the built-in tiers and defaults. nullptr with *why on failure.
    std::unique_ptr<DatabaseConnection> fresh(QString *why, bool seed = true)
    {
        auto conn = std::make_unique<DatabaseConnection>(freshUrl(), QStringLiteral("identity"));
        if (!conn->open(why) || !Migrator::migrate(*conn, Schema::identityComponent(),
                                                   Schema::identityMigrations(), why))
            return nullptr;
        if (seed && !IdentitySeeder::seed(*conn, IdentitySeeder::IniSections(), why))
            return nullptr;
        return conn;
    }

    // First column of the first row as a 64-bit integer; -1 on error (logged).
    static qint64 scalar(DatabaseConnection &conn, const QString &sql,
                         const QVariantList &values = {})
    {
        QString error;
        auto q = conn.query(sql, values, &error);
        if (!q) {
            qWarning("%s", qPrintable(error));
            return -1;
        }
        return q->next() ? q->value(0).toLongLong() : -1;
    }

    static qint64 revision(DatabaseConnection &conn)
    {
        return scalar(conn, QStringLiteral("SELECT revision FROM identity_revision WHERE id = 1"));
    }

    // Every value of every table, as text: for "the key is never stored" checks.
    static QString dumpAllTables(DatabaseConnection &conn)
    {
        QString error;
        const QString listSql =
            conn.isPostgres()
                ? QStringLiteral(
                      "SELECT table_name FROM information_schema.tables WHERE "
                      "table_schema = 'public'")
                : QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table'");
        QStringList tables;
        {
            auto q = conn.query(listSql, {}, &error);
            if (!q)
                return QStringLiteral("<error: %1>").arg(error);
            while (q->next())
                tables << q->value(0).toString();
        }
        tables.sort();  // the catalogs list tables in no fixed order
        QString dump;
        for (const QString &table : std::as_const(tables)) {
            auto q = conn.query(QStringLiteral("SELECT * FROM %1").arg(table), {}, &error);
            if (!q)
                return QStringLiteral("<error: %1>").arg(error);
            dump += QStringLiteral("[%1]\n").arg(table);
            while (q->next()) {
                QStringList row;
                for (int i = 0; i < q->record().count(); ++i)
                    row << q->value(i).toString();
                dump += row.join(u'|') + u'\n';
            }
        }
        return dump;
    }

private:
    QTemporaryDir m_tmp;
    std::optional<DatabaseUrl> m_pgUrl;
    std::unique_ptr<DatabaseConnection> m_pgAdmin;
    QStringList m_created;
    int m_sqliteCounter = 0;
    QString m_runId;
};

}  // namespace sluice::test
