#pragma once

#include "AdminService.h"

#include <QString>
#include <optional>

namespace sluice {

// The value rules of identity edits, each returning the AdminError (Invalid, naming the field
// and the value) or nullopt. Shared by AdminService, the INI seeder and the JSON parsers so
// every entry point refuses the same things with the same words.
class IdentityValidation
{
public:
    // Names of users, tiers and keys: 1..64 characters from A-Z a-z 0-9 . _ @ -
    static std::optional<AdminError> name(const QString &field, const QString &value);
    // A user name is also never all digits: "123" would read as an id.
    static std::optional<AdminError> userName(const QString &field, const QString &value);
    // Optional (empty passes); otherwise local@domain.tld without spaces, at most 254 chars.
    static std::optional<AdminError> email(const QString &value);
    static std::optional<AdminError> userStatus(const QString &value);  // active | disabled
    static std::optional<AdminError> keyStatus(const QString &value);   // active | revoked
    // Set fields >= 0 (requests_per_second finite), clear names known and not also set.
    static std::optional<AdminError> limits(const LimitOverrides &limits,
                                            const QStringList &clear = {});
    // Every glob non-empty, without whitespace, at most 200 characters; at most 100 globs.
    static std::optional<AdminError> models(const QStringList &models);
    // Per-model limit edits: each model a glob as in models(), named once, its limits as in
    // limits() (a removal sets none); at most 100 entries once applied (`resulting`).
    static std::optional<AdminError> modelLimits(const ModelLimitsPatch &patch);
    static std::optional<AdminError> modelLimitCount(const QList<ModelLimit> &resulting);
    // Invalid passes (never expires); otherwise in the future and before year 10000.
    static std::optional<AdminError> expiresAt(const QDateTime &time);
    static std::optional<AdminError> page(int limit, qint64 afterId);

    // A numeric id ("42"), as opposed to a name or prefix.
    static bool isId(const QString &text);
    // `value` in double quotes for messages: one line, at most 80 characters.
    static QString quoted(const QString &value);
    static AdminError invalid(const QString &field, const QString &message);
};

}  // namespace sluice
