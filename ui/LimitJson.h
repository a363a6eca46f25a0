#pragma once

#include "IdentityTypes.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QVariantMap>

namespace sluice {

// The limit members of the admin API's JSON shapes, read back for display and written for
// edits. Reading reuses IdentityJson's parser; resolution reuses LimitResolver, so the
// dashboard shows the limits the gateway enforces.
class LimitJson
{
public:
    // The seven limit members of a resource (user, key, tier, a defaults half); null = inherit.
    static LimitOverrides overrides(const QJsonObject &resource);
    // key override > its tier > key default, as LimitResolver::forKey.
    static EffectiveLimits effective(const QJsonObject &key, const QJsonObject &tier,
                                     const QJsonObject &keyDefaults);
    // field name -> value (number), only the set fields.
    static QVariantMap toMap(const LimitOverrides &limits);
    static QVariantMap toMap(const EffectiveLimits &limits);
    // What an inline edit sends for `text`: null (empty: inherit), a number in the user's
    // locale or plain digits ("1,000"), or the text itself, which the admin service then
    // refuses with its message naming the field and the value.
    static QJsonValue valueForText(const QString &field, const QString &text);
};

}  // namespace sluice
