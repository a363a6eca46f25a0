#include "IdentityTransaction.h"

#include "DatabaseConnection.h"
#include "LogCategories.h"
#include "Timestamp.h"

#include <QJsonDocument>

namespace sluice {

namespace {

// Key of the PostgreSQL advisory lock every identity edit takes ("sluice.i" in ASCII). Edits
// are rare; serializing them costs nothing.
constexpr qint64 kEditLockKey = 0x736c756963652e69;

}  // namespace

AdminError IdentityTransaction::internalError(const QString &why)
{
    qCWarning(lcIdentity).noquote() << "identity edit failed:" << why;
    return AdminError{AdminError::Kind::Internal, QString(), why};
}

IdentityTransaction::IdentityTransaction(DatabaseConnection &db, const QString &actor)
    : m_db(db), m_actor(actor.isEmpty() ? QStringLiteral("unknown") : actor)
{}

IdentityTransaction::~IdentityTransaction()
{
    if (m_open)
        m_db.rollback(nullptr);
}

bool IdentityTransaction::begin(AdminError *error)
{
    QString why;
    if (!m_db.beginTransaction(&why)) {
        *error = internalError(why);
        return false;
    }
    m_open = true;
    if (m_db.isPostgres() &&
        !m_db.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kEditLockKey), {},
                   &why)) {
        *error = internalError(why);
        return false;
    }
    return true;
}

bool IdentityTransaction::audit(const QString &action, const QString &targetType,
                                const QString &targetId, const QJsonObject &details,
                                AdminError *error)
{
    const QString json = QString::fromUtf8(QJsonDocument(details).toJson(QJsonDocument::Compact));
    QString why;
    if (!m_db.exec(
            QStringLiteral("INSERT INTO audit_log (at, actor, action, target_type, "
                           "target_id, details) VALUES (?, ?, ?, ?, ?, ?)"),
            {Timestamp::toText(Timestamp::now()), m_actor, action, targetType, targetId, json},
            &why)) {
        *error = internalError(why);
        return false;
    }
    qCInfo(lcIdentity).noquote() << action << targetType << targetId << "by" << m_actor << json;
    m_changed = true;
    return true;
}

bool IdentityTransaction::commit(AdminError *error)
{
    QString why;
    if (m_changed &&
        !m_db.exec(
            QStringLiteral("UPDATE identity_revision SET revision = revision + 1 WHERE id = 1"), {},
            &why)) {
        *error = internalError(why);
        return false;
    }
    if (!m_db.commit(&why)) {
        *error = internalError(why);
        return false;
    }
    m_open = false;
    return true;
}

}  // namespace sluice
