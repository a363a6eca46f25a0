#include "IdentityValidation.h"

#include "LimitFields.h"
#include "Timestamp.h"

#include <QRegularExpression>
#include <algorithm>

namespace sluice {

namespace {

constexpr int kMaxNameLength = 64;
constexpr int kMaxGlobLength = 200;
constexpr int kMaxGlobs = 100;
constexpr int kMaxPage = 1000;

bool isGlob(const QString &glob)
{
    const bool hasSpace =
        std::any_of(glob.cbegin(), glob.cend(), [](QChar c) { return c.isSpace(); });
    return !glob.isEmpty() && !hasSpace && glob.size() <= kMaxGlobLength;
}

}  // namespace

AdminError IdentityValidation::invalid(const QString &field, const QString &message)
{
    return AdminError{AdminError::Kind::Invalid, field, message};
}

QString IdentityValidation::quoted(const QString &value)
{
    QString s = value;
    s.replace(u'\n', u' ');
    s.replace(u'\r', u' ');
    if (s.size() > 80)
        s = s.left(77) + QStringLiteral("...");
    return u'"' + s + u'"';
}

bool IdentityValidation::isId(const QString &text)
{
    static const QRegularExpression re(QStringLiteral(R"(^[0-9]{1,18}$)"));
    return re.match(text).hasMatch();
}

std::optional<AdminError> IdentityValidation::name(const QString &field, const QString &value)
{
    static const QRegularExpression re(QStringLiteral(R"(^[A-Za-z0-9._@-]{1,64}$)"));
    if (re.match(value).hasMatch())
        return std::nullopt;
    return invalid(field, QStringLiteral("%1 must be 1 to %2 characters from A-Z a-z 0-9 . _ @ -, "
                                         "got %3")
                              .arg(field)
                              .arg(kMaxNameLength)
                              .arg(quoted(value)));
}

std::optional<AdminError> IdentityValidation::userName(const QString &field, const QString &value)
{
    if (auto e = name(field, value))
        return e;
    static const QRegularExpression digits(QStringLiteral(R"(^[0-9]+$)"));
    if (digits.match(value).hasMatch())
        return invalid(field,
                       QStringLiteral("%1 must not be all digits (it would read as a user id), "
                                      "got %2")
                           .arg(field, quoted(value)));
    return std::nullopt;
}

std::optional<AdminError> IdentityValidation::email(const QString &value)
{
    static const QRegularExpression re(QStringLiteral(R"(^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$)"));
    if (value.isEmpty() || (value.size() <= 254 && re.match(value).hasMatch()))
        return std::nullopt;
    return invalid(
        QStringLiteral("email"),
        QStringLiteral("email must look like name@example.com, got %1").arg(quoted(value)));
}

std::optional<AdminError> IdentityValidation::userStatus(const QString &value)
{
    if (value == QLatin1String("active") || value == QLatin1String("disabled"))
        return std::nullopt;
    return invalid(QStringLiteral("status"),
                   QStringLiteral("status must be active or disabled, got %1").arg(quoted(value)));
}

std::optional<AdminError> IdentityValidation::keyStatus(const QString &value)
{
    if (value == QLatin1String("active") || value == QLatin1String("revoked"))
        return std::nullopt;
    return invalid(QStringLiteral("status"),
                   QStringLiteral("status must be active or revoked, got %1").arg(quoted(value)));
}

std::optional<AdminError> IdentityValidation::limits(const LimitOverrides &limits,
                                                     const QStringList &clear)
{
    const QString bad = LimitFields::firstInvalid(limits);
    if (!bad.isEmpty())
        return invalid(bad, QStringLiteral("%1 must be %2, got %3")
                                .arg(bad, LimitFields::expectation(bad),
                                     LimitFields::value(limits, bad).toString()));
    for (const QString &field : clear) {
        if (!LimitFields::isName(field))
            return invalid(
                field, QStringLiteral("cannot clear %1: not a limit field (one of %2)")
                           .arg(quoted(field), LimitFields::names().join(QStringLiteral(", "))));
        if (!LimitFields::value(limits, field).isNull())
            return invalid(
                field,
                QStringLiteral("%1 is both set and cleared; give one or the other").arg(field));
    }
    return std::nullopt;
}

std::optional<AdminError> IdentityValidation::models(const QStringList &models)
{
    const QString field = QStringLiteral("models");
    if (models.size() > kMaxGlobs)
        return invalid(field, QStringLiteral("models must list at most %1 globs, got %2")
                                  .arg(kMaxGlobs)
                                  .arg(models.size()));
    for (const QString &glob : models) {
        if (!isGlob(glob))
            return invalid(field,
                           QStringLiteral("models must be non-empty globs without whitespace of "
                                          "at most %1 characters, got %2")
                               .arg(kMaxGlobLength)
                               .arg(quoted(glob)));
    }
    return std::nullopt;
}

std::optional<AdminError> IdentityValidation::modelLimits(const ModelLimitsPatch &patch)
{
    const QString field = QStringLiteral("model_limits");
    QStringList seen;
    for (const ModelLimitEdit &edit : patch.edits) {
        if (!isGlob(edit.model))
            return invalid(field, QStringLiteral("model_limits must be keyed by non-empty model "
                                                 "names or globs without whitespace of at most "
                                                 "%1 characters, got %2")
                                      .arg(kMaxGlobLength)
                                      .arg(quoted(edit.model)));
        if (seen.contains(edit.model))
            return invalid(
                field, QStringLiteral("model_limits names model %1 twice").arg(quoted(edit.model)));
        seen << edit.model;
        if (edit.remove && (!edit.limits.isEmpty() || !edit.clearLimits.isEmpty()))
            return invalid(field, QStringLiteral("model_limits: model %1 is both removed and given "
                                                 "limits; give one or the other")
                                      .arg(quoted(edit.model)));
        if (auto e = limits(edit.limits, edit.clearLimits)) {
            e->message =
                QStringLiteral("model_limits of %1: %2").arg(quoted(edit.model), e->message);
            e->field = field;
            return e;
        }
    }
    return std::nullopt;
}

std::optional<AdminError> IdentityValidation::modelLimitCount(const QList<ModelLimit> &resulting)
{
    if (resulting.size() <= kMaxGlobs)
        return std::nullopt;
    return invalid(QStringLiteral("model_limits"),
                   QStringLiteral("model_limits must hold at most %1 models, got %2")
                       .arg(kMaxGlobs)
                       .arg(resulting.size()));
}

std::optional<AdminError> IdentityValidation::expiresAt(const QDateTime &time)
{
    if (!time.isValid())
        return std::nullopt;
    const QString field = QStringLiteral("expires_at");
    if (time.toUTC().date().year() > 9999)
        return invalid(field, QStringLiteral("expires_at must be before the year 10000, got %1")
                                  .arg(quoted(time.toUTC().toString(Qt::ISODate))));
    if (time <= QDateTime::currentDateTimeUtc())
        return invalid(field, QStringLiteral("expires_at must be in the future, got %1")
                                  .arg(quoted(Timestamp::toText(time))));
    return std::nullopt;
}

std::optional<AdminError> IdentityValidation::page(int limit, qint64 afterId)
{
    if (limit < 1 || limit > kMaxPage)
        return invalid(
            QStringLiteral("limit"),
            QStringLiteral("limit must be between 1 and %1, got %2").arg(kMaxPage).arg(limit));
    if (afterId < 0)
        return invalid(QStringLiteral("after"),
                       QStringLiteral("after must be a key or user id >= 0, got %1").arg(afterId));
    return std::nullopt;
}

}  // namespace sluice
