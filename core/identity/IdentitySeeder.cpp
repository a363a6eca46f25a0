#include "IdentitySeeder.h"

#include "ConfigValues.h"
#include "DatabaseConnection.h"
#include "IdentityJson.h"
#include "IdentityRows.h"
#include "IdentityTransaction.h"
#include "IdentityValidation.h"
#include "LimitFields.h"
#include "ModelLimitRows.h"
#include "Timestamp.h"

#include <QJsonObject>
#include <QStringList>

namespace sluice {

namespace {

constexpr QLatin1String kTierPrefix("tier.");
constexpr QLatin1String kDefaultsPrefix("defaults.");
constexpr QLatin1String kModelInfix(".model.");
constexpr QLatin1String kShadow("shadow");

LimitOverrides perMinuteAndMonth(qint64 perMinute, qint64 perMonth)
{
    LimitOverrides l;
    l.requestsPerMinute = perMinute;
    l.monthlyRequests = perMonth;
    return l;
}

// 0 everywhere: unlimited whatever the per-principal defaults say.
LimitOverrides unlimited()
{
    LimitOverrides l;
    l.requestsPerSecond = 0;
    l.burst = 0;
    l.requestsPerMinute = 0;
    l.tokensPerMinute = 0;
    l.monthlyRequests = 0;
    l.monthlyTokens = 0;
    l.concurrentRequests = 0;
    return l;
}

// QSettings turns an unquoted "1,000" into a QStringList; show and parse it as written.
QString iniText(const QVariant &value)
{
    if (value.metaType().id() == QMetaType::QStringList)
        return value.toStringList().join(u',');
    return value.toString();
}

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

QString inSection(const QString &section, const QString &source)
{
    return source.isEmpty() ? QStringLiteral("[%1]").arg(section)
                            : QStringLiteral("[%1] of %2").arg(section, source);
}

// Applies one section's keys to `limits`; false with *error on an unknown key or a bad value.
// `others`: the keys the section takes besides the limit fields, for the message.
bool applySection(const QString &section, const QMap<QString, QVariant> &keys,
                  LimitOverrides *limits, QString *error, const QString &source,
                  const QStringList &others = {})
{
    for (auto it = keys.cbegin(); it != keys.cend(); ++it) {
        if (!LimitFields::isName(it.key())) {
            setError(error, QStringLiteral("unknown key \"%1\" in %2: expected one of %3")
                                .arg(it.key(), inSection(section, source),
                                     (LimitFields::names() + others).join(QStringLiteral(", "))));
            return false;
        }
        const QString text = iniText(it.value());
        QString expected;
        const std::optional<QVariant> value = LimitFields::parse(it.key(), text, &expected);
        if (!value) {
            setError(error, QStringLiteral("invalid value %1 for %2 in %3: expected %4")
                                .arg(IdentityValidation::quoted(text), it.key(),
                                     inSection(section, source), expected));
            return false;
        }
        LimitFields::setValue(*limits, it.key(), *value);
    }
    return true;
}

// [tier.NAME] takes `shadow` besides the limit fields: read and removed from *keys.
bool takeShadow(const QString &section, QMap<QString, QVariant> *keys, bool *shadow, QString *error,
                const QString &source)
{
    if (!keys->contains(kShadow))
        return true;
    const QString text = iniText(keys->take(kShadow));
    QString expected;
    const std::optional<bool> value = ConfigValues::parseBool(text, &expected);
    if (!value) {
        setError(error,
                 QStringLiteral("invalid value %1 for shadow in %2: expected %3")
                     .arg(IdentityValidation::quoted(text), inSection(section, source), expected));
        return false;
    }
    *shadow = *value;
    return true;
}

// INSERT ... ON CONFLICT DO NOTHING: a concurrent start (two gateways on one PostgreSQL)
// inserting the same row waits for the other and then does nothing instead of failing.
// *added tells whether this call inserted the row.
bool insertIfMissing(DatabaseConnection &db, const QString &sql, const QVariantList &values,
                     bool *added, QString *error)
{
    auto q = db.query(sql, values, error);
    if (!q)
        return false;
    *added = q->numRowsAffected() > 0;
    return true;
}

}  // namespace

QMap<QString, LimitOverrides> IdentitySeeder::builtInTiers()
{
    LimitOverrides anonymous;
    anonymous.requestsPerMinute = 100;
    return {
        {QStringLiteral("free"), perMinuteAndMonth(100, 50000)},
        {QStringLiteral("pro"), perMinuteAndMonth(1000, 1000000)},
        {QStringLiteral("enterprise"), unlimited()},
        {QStringLiteral("partner"), unlimited()},
        {QStringLiteral("anonymous"), anonymous},
    };
}

PrincipalDefaults IdentitySeeder::builtInDefaults()
{
    PrincipalDefaults d;
    d.user.requestsPerSecond = 100;
    d.user.burst = 200;
    d.key.requestsPerSecond = 50;
    d.key.burst = 100;
    return d;
}

std::optional<IdentitySeeder::Seed> IdentitySeeder::fromIni(const IniSections &sections,
                                                            QString *error, const QString &source)
{
    Seed out;
    out.tiers = builtInTiers();
    out.defaults = builtInDefaults();
    for (auto it = sections.cbegin(); it != sections.cend(); ++it) {
        const QString &section = it.key();
        if (section.startsWith(kTierPrefix)) {
            // [tier.NAME] or [tier.NAME.model.MODEL]
            const qsizetype infix = section.indexOf(kModelInfix, kTierPrefix.size());
            const QString name =
                section.mid(kTierPrefix.size(), infix < 0 ? -1 : infix - kTierPrefix.size());
            if (auto e = IdentityValidation::name(QStringLiteral("name"), name)) {
                setError(error,
                         QStringLiteral("invalid tier name %1 in section %2: expected 1 "
                                        "to 64 characters from A-Z a-z 0-9 . _ @ -")
                             .arg(IdentityValidation::quoted(name), inSection(section, source)));
                return std::nullopt;
            }
            // Field by field over the built-in tier of that name, if any.
            LimitOverrides limits = out.tiers.value(name);
            QMap<QString, QVariant> keys = it.value();
            if (infix >= 0) {
                ModelLimit entry{section.mid(infix + kModelInfix.size()), {}};
                ModelLimitsPatch check;
                check.edits.append({entry.model, false, {}, {}});
                if (IdentityValidation::modelLimits(check)) {
                    setError(error, QStringLiteral("invalid model %1 in section %2: expected a "
                                                   "model name or glob without whitespace")
                                        .arg(IdentityValidation::quoted(entry.model),
                                             inSection(section, source)));
                    return std::nullopt;
                }
                if (!applySection(section, keys, &entry.limits, error, source))
                    return std::nullopt;
                out.modelLimits[name].append(entry);
            } else {
                bool shadow = out.shadowTiers.contains(name);
                if (!takeShadow(section, &keys, &shadow, error, source) ||
                    !applySection(section, keys, &limits, error, source, {kShadow}))
                    return std::nullopt;
                if (shadow)
                    out.shadowTiers.insert(name);
            }
            out.tiers.insert(name, limits);
        } else if (section.startsWith(kDefaultsPrefix)) {
            const QString principal = section.mid(kDefaultsPrefix.size());
            LimitOverrides *limits = principal == QLatin1String("user")  ? &out.defaults.user
                                     : principal == QLatin1String("key") ? &out.defaults.key
                                                                         : nullptr;
            if (!limits) {
                setError(error, QStringLiteral("unknown section %1: expected [defaults.user] or "
                                               "[defaults.key]")
                                    .arg(inSection(section, source)));
                return std::nullopt;
            }
            if (!applySection(section, it.value(), limits, error, source))
                return std::nullopt;
        }
    }
    return out;
}

bool IdentitySeeder::seed(DatabaseConnection &db, const IniSections &sections, QString *error,
                          int *inserted)
{
    const std::optional<Seed> s = fromIni(sections, error);
    return s && seed(db, *s, error, inserted);
}

bool IdentitySeeder::seed(DatabaseConnection &db, const Seed &plan, QString *error, int *inserted)
{
    int added = 0;
    AdminError err;
    IdentityTransaction tx(db, QStringLiteral("config"));
    auto failed = [&]() {
        setError(error, err.message);
        return false;
    };
    if (!tx.begin(&err))
        return failed();
    const QString now = Timestamp::toText(Timestamp::now());
    for (auto it = plan.tiers.cbegin(); it != plan.tiers.cend(); ++it) {
        const bool shadow = plan.shadowTiers.contains(it.key());
        const QList<ModelLimit> models = plan.modelLimits.value(it.key());
        QVariantList values = {it.key()};
        values << IdentityRows::limitValues(it.value()) << now << now
               << IdentityRows::shadowValue(shadow);
        bool isNew = false;
        if (!insertIfMissing(
                db,
                QStringLiteral("INSERT INTO tiers (name, %1, created_at, updated_at, shadow) "
                               "VALUES (?, %2, ?, ?, ?) "
                               "ON CONFLICT (name) DO NOTHING")
                    .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders()),
                values, &isNew, error))
            return false;
        if (isNew) {
            ++added;
            QJsonObject details = IdentityJson::toJson(it.value());
            if (shadow)
                details.insert(kShadow, true);
            if (!models.isEmpty())
                details.insert(QStringLiteral("model_limits"), IdentityJson::toJson(models));
            if (!ModelLimitRows::replace(db, ModelLimitRows::Owner::Tier, it.key(), models, error))
                return false;
            if (!tx.audit(QStringLiteral("tier.seed"), QStringLiteral("tier"), it.key(), details,
                          &err))
                return failed();
        }
    }
    const QList<QPair<QString, LimitOverrides>> defaults = {
        {QStringLiteral("user"), plan.defaults.user}, {QStringLiteral("key"), plan.defaults.key}};
    for (const auto &[principal, limits] : defaults) {
        QVariantList values = {principal};
        values << IdentityRows::limitValues(limits) << now;
        bool isNew = false;
        if (!insertIfMissing(
                db,
                QStringLiteral("INSERT INTO principal_defaults (principal, %1, "
                               "updated_at) VALUES (?, %2, ?) "
                               "ON CONFLICT (principal) DO NOTHING")
                    .arg(IdentityRows::limitColumns(), IdentityRows::limitPlaceholders()),
                values, &isNew, error))
            return false;
        if (isNew) {
            ++added;
            if (!tx.audit(QStringLiteral("defaults.seed"), QStringLiteral("defaults"), principal,
                          IdentityJson::toJson(limits), &err))
                return failed();
        }
    }
    if (!tx.commit(&err))
        return failed();
    if (inserted)
        *inserted = added;
    return true;
}

}  // namespace sluice
