#include "LimitJson.h"

#include "IdentityJson.h"
#include "LimitFields.h"
#include "LimitResolver.h"

#include <QLocale>

namespace sluice {

LimitOverrides LimitJson::overrides(const QJsonObject &resource)
{
    QJsonObject limitsOnly;
    for (const QString &name : LimitFields::names()) {
        const QJsonValue v = resource.value(name);
        if (v.isDouble())
            limitsOnly.insert(name, v);
    }
    AdminError error;
    const auto patch = IdentityJson::limitsPatchFromJson(limitsOnly, &error);
    return patch ? patch->limits : LimitOverrides{};
}

EffectiveLimits LimitJson::effective(const QJsonObject &key, const QJsonObject &tier,
                                     const QJsonObject &keyDefaults)
{
    return LimitResolver::resolve(
        overrides(keyDefaults).overlaidWith(overrides(tier)).overlaidWith(overrides(key)));
}

QVariantMap LimitJson::toMap(const LimitOverrides &limits)
{
    QVariantMap map;
    for (const QString &name : LimitFields::names()) {
        const QVariant v = LimitFields::value(limits, name);
        if (v.isValid())
            map.insert(name, v.toDouble());
    }
    return map;
}

QVariantMap LimitJson::toMap(const EffectiveLimits &e)
{
    // The admin API's names for the fields (IdentityJson), each value as a double.
    QVariantMap map;
    const QJsonObject json = IdentityJson::toJson(e);
    for (auto it = json.begin(); it != json.end(); ++it)
        map.insert(it.key(), it.value().toDouble());
    return map;
}

QJsonValue LimitJson::valueForText(const QString &field, const QString &text)
{
    QString t = text.trimmed();
    if (t.isEmpty())
        return QJsonValue(QJsonValue::Null);
    if (t.compare(QLatin1String("unlimited"), Qt::CaseInsensitive) == 0)
        return 0;
    // Thousands separators as typed or as shown ("1,000", "1 000").
    const QLocale locale;
    bool ok = false;
    const double localized = locale.toDouble(t, &ok);
    if (ok)
        t = QString::number(localized, 'g', 17);
    QString expected;
    const std::optional<QVariant> parsed = LimitFields::parse(field, t, &expected);
    if (!parsed || !parsed->isValid())
        return text.trimmed();  // refused by the service, with its message
    return parsed->toDouble();
}

}  // namespace sluice
