#pragma once

#include <QString>
#include <QVariantList>
#include <memory>

class QSqlDatabase;
struct sqlite3;
struct sqlite3_stmt;

namespace sluice {

// One statement prepared through SQLite's own API on the handle of an open Qt SQLite
// connection (same connection, same transactions). For statements run many times with many
// values, the ledger's multi-row INSERTs: Qt 6.4's SQLite driver looks every bound value up by
// parameter name and copies it through QVariant, which cost as much CPU as SQLite's own insert
// work (a tenth of the gateway's CPU under proxy load). Same thread rules as the connection.
class SqliteStatement
{
public:
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement &) = delete;
    SqliteStatement &operator=(const SqliteStatement &) = delete;

    // Null with *error set when `db` is not an open SQLite connection or `sql` does not compile.
    static std::unique_ptr<SqliteStatement> prepare(const QSqlDatabase &db, const QString &sql,
                                                    QString *error);

    // Binds `values` to the `?` placeholders in order (null, integers, doubles, text, blobs),
    // runs the statement to its end and resets it for the next call.
    bool exec(const QVariantList &values, QString *error);

private:
    SqliteStatement(sqlite3 *db, sqlite3_stmt *stmt) : m_db(db), m_stmt(stmt) {}
    bool bind(int index, const QVariant &value);

    sqlite3 *m_db;
    sqlite3_stmt *m_stmt;
};

}  // namespace sluice
