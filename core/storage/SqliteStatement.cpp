#include "SqliteStatement.h"

#include <sqlite3.h>
#include <QSqlDatabase>
#include <QSqlDriver>

namespace sluice {

SqliteStatement::~SqliteStatement()
{
    sqlite3_finalize(m_stmt);
}

std::unique_ptr<SqliteStatement> SqliteStatement::prepare(const QSqlDatabase &db,
                                                          const QString &sql, QString *error)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0 || !db.isOpen()) {
        if (error)
            *error = QStringLiteral("not an open SQLite connection");
        return nullptr;
    }
    sqlite3 *raw = *static_cast<sqlite3 *const *>(handle.constData());
    const QByteArray text = sql.toUtf8();
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v3(raw, text.constData(), int(text.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
        if (error)
            *error = QString::fromUtf8(sqlite3_errmsg(raw));
        sqlite3_finalize(stmt);
        return nullptr;
    }
    return std::unique_ptr<SqliteStatement>(new SqliteStatement(raw, stmt));
}

bool SqliteStatement::bind(int index, const QVariant &v)
{
    if (v.isNull())
        return sqlite3_bind_null(m_stmt, index) == SQLITE_OK;
    switch (v.typeId()) {
        case QMetaType::Bool:
        case QMetaType::Int:
        case QMetaType::UInt:
        case QMetaType::Long:
        case QMetaType::LongLong:
        case QMetaType::ULongLong:
            return sqlite3_bind_int64(m_stmt, index, v.toLongLong()) == SQLITE_OK;
        case QMetaType::Double:
        case QMetaType::Float:
            return sqlite3_bind_double(m_stmt, index, v.toDouble()) == SQLITE_OK;
        case QMetaType::QByteArray: {
            const QByteArray b = v.toByteArray();
            return sqlite3_bind_blob64(m_stmt, index, b.constData(), sqlite3_uint64(b.size()),
                                       SQLITE_TRANSIENT) == SQLITE_OK;
        }
        default: {
            const QByteArray s = v.toString().toUtf8();
            return sqlite3_bind_text64(m_stmt, index, s.constData(), sqlite3_uint64(s.size()),
                                       SQLITE_TRANSIENT, SQLITE_UTF8) == SQLITE_OK;
        }
    }
}

bool SqliteStatement::exec(const QVariantList &values, QString *error)
{
    bool ok = values.size() == sqlite3_bind_parameter_count(m_stmt);
    for (qsizetype i = 0; ok && i < values.size(); ++i)
        ok = bind(int(i) + 1, values.at(i));
    int rc = SQLITE_DONE;
    if (ok) {
        while ((rc = sqlite3_step(m_stmt)) == SQLITE_ROW) {
        }
        ok = rc == SQLITE_DONE;
    }
    if (!ok && error) {
        *error = values.size() != sqlite3_bind_parameter_count(m_stmt)
                     ? QStringLiteral("%1 values for %2 placeholders")
                           .arg(values.size())
                           .arg(sqlite3_bind_parameter_count(m_stmt))
                     : QString::fromUtf8(sqlite3_errmsg(m_db));
    }
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    return ok;
}

}  // namespace sluice
