#include "CliIo.h"

#include "AdminService.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>

namespace sluice {

void CliIo::out(const QString &text)
{
    std::fputs(text.toUtf8().constData(), stdout);
    std::fflush(stdout);
}

void CliIo::err(const QString &text)
{
    std::fputs(text.toUtf8().constData(), stderr);
    std::fflush(stderr);
}

void CliIo::json(const QJsonValue &value)
{
    const QJsonDocument doc =
        value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    std::fputs(doc.toJson(QJsonDocument::Indented).constData(), stdout);
    std::fflush(stdout);
}

int CliIo::usageError(const QString &message)
{
    return exitWith(kUsage, message);
}

int CliIo::failure(const QString &message)
{
    return exitWith(kFailed, message);
}

int CliIo::exitWith(int code, const QString &message)
{
    err(QStringLiteral("sluice: %1\n").arg(message));
    return code;
}

int CliIo::adminError(const AdminError &error)
{
    // Messages are one line by contract; make sure of it, the exit line is all a script sees.
    QString message = error.message;
    message.replace(u'\n', u' ');
    if (error.kind == AdminError::Kind::Internal)
        return failure(message);
    return usageError(message);
}

}  // namespace sluice
