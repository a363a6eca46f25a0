#include "KeyEditor.h"

#include "LimitJson.h"

#include <QTimer>

namespace sluice {

KeyEditor::KeyEditor(QObject *parent) : QObject(parent) {}

void KeyEditor::setSource(DashboardSource *source)
{
    if (m_source)
        disconnect(m_source, nullptr, this, nullptr);
    m_source = source;
    if (source)
        connect(source, &DashboardSource::editFinished, this, &KeyEditor::onFinished);
}

int KeyEditor::submit(DashboardEdit::Kind kind, const QString &target, const QJsonObject &body)
{
    if (!m_source)
        return refuse(QStringLiteral("not connected to a gateway"));
    const int ticket = m_nextTicket++;
    const bool wasBusy = busy();
    m_pending.insert(ticket);
    if (!wasBusy)
        emit busyChanged();
    m_source->submit(ticket, DashboardEdit{kind, target, body});
    return ticket;
}

int KeyEditor::refuse(const QString &message)
{
    const int ticket = m_nextTicket++;
    // Answered later like any edit, so callers have one path.
    QTimer::singleShot(0, this, [this, ticket, message] {
        m_lastError = message;
        emit finished(ticket, false, m_lastError, {});
    });
    return ticket;
}

void KeyEditor::onFinished(int ticket, const QJsonObject &result, const QString &error)
{
    if (!m_pending.remove(ticket))
        return;  // another editor's ticket
    if (!busy())
        emit busyChanged();
    m_lastError = error;
    const bool ok = error.isEmpty();
    emit finished(ticket, ok, error, result.toVariantMap());
    if (ok && m_creates.remove(ticket)) {
        emit keyCreated(ticket, result.value(QLatin1String("key")).toString(),
                        result.value(QLatin1String("prefix")).toString());
    }
    m_creates.remove(ticket);
    if (ok)
        emit changed();
}

int KeyEditor::createKey(const QString &userName, const QString &keyName, const QString &tier,
                         bool createUser)
{
    QJsonObject body{{QStringLiteral("user"), userName.trimmed()}};
    if (createUser)
        body.insert(QStringLiteral("create_user"), true);
    if (!keyName.trimmed().isEmpty())
        body.insert(QStringLiteral("name"), keyName.trimmed());
    if (!tier.isEmpty())
        body.insert(QStringLiteral("tier"), tier);
    const int ticket = submit(DashboardEdit::Kind::CreateKey, QString(), body);
    m_creates.insert(ticket);
    return ticket;
}

int KeyEditor::revokeKey(const QString &keyId)
{
    return submit(DashboardEdit::Kind::RevokeKey, keyId, {});
}

int KeyEditor::setKeyLimit(const QString &keyId, const QString &field, const QString &text)
{
    return submit(DashboardEdit::Kind::UpdateKey, keyId,
                  {{field, LimitJson::valueForText(field, text)}});
}

int KeyEditor::setKeyTier(const QString &keyId, const QString &tier)
{
    return submit(DashboardEdit::Kind::UpdateKey, keyId, {{QStringLiteral("tier"), tier}});
}

int KeyEditor::setUserLimit(const QString &userName, const QString &field, const QString &text)
{
    return submit(DashboardEdit::Kind::UpdateUser, userName,
                  {{field, LimitJson::valueForText(field, text)}});
}

int KeyEditor::setUserTier(const QString &userName, const QString &tier)
{
    return submit(DashboardEdit::Kind::UpdateUser, userName, {{QStringLiteral("tier"), tier}});
}

int KeyEditor::setUserIdentity(const QString &userName, const QString &newName,
                               const QString &email)
{
    // Trimmed like createKey's names; the service refuses an empty or malformed value.
    return submit(
        DashboardEdit::Kind::UpdateUser, userName,
        {{QStringLiteral("name"), newName.trimmed()}, {QStringLiteral("email"), email.trimmed()}});
}

int KeyEditor::setTierLimit(const QString &tierName, const QString &field, const QString &text)
{
    return submit(DashboardEdit::Kind::PatchTier, tierName,
                  {{field, LimitJson::valueForText(field, text)}});
}

int KeyEditor::createTier(const QString &name, const QStringList &existing)
{
    const QString trimmed = name.trimmed();
    if (existing.contains(trimmed))
        return refuse(
            QStringLiteral("a tier named \"%1\" already exists: edit it in its row").arg(trimmed));
    return submit(DashboardEdit::Kind::PatchTier, trimmed, {});
}

int KeyEditor::setTierShadow(const QString &tierName, bool shadow)
{
    return submit(DashboardEdit::Kind::PatchTier, tierName, {{QStringLiteral("shadow"), shadow}});
}

}  // namespace sluice
