#include "KeysCommand.h"

#include "CliIo.h"
#include "CliSession.h"
#include "CliValues.h"
#include "IdentityJson.h"
#include "LimitFlags.h"
#include "ModelLimitFlags.h"
#include "TextTable.h"
#include "Timestamp.h"

#include <QHash>
#include <QJsonArray>

namespace sluice {

namespace {

const QString kJson = QStringLiteral("json");
const QString kUser = QStringLiteral("user");

// Active keys past their expiry and keys of disabled users are refused too; say so.
QString displayStatus(const ApiKey &key, const User *user)
{
    if (key.status != QLatin1String("active"))
        return key.status;
    if (key.expiresAt.isValid() && key.expiresAt <= QDateTime::currentDateTimeUtc())
        return QStringLiteral("expired");
    if (user && user->status != QLatin1String("active"))
        return QStringLiteral("user-") + user->status;
    return key.status;
}

QString modelsText(const QStringList &models)
{
    return models.isEmpty() ? QStringLiteral("*") : models.join(u',');
}

// The effective shadow mode, "*" when set on the key.
QString shadowOf(const ApiKey &key, const User *owner, const LimitResolver::Tiers &tiers)
{
    const bool shadow =
        owner ? LimitResolver::shadowForKey(key, *owner, tiers) : key.shadow.value_or(false);
    return CliValues::shadowCell(shadow, key.shadow.has_value());
}

// The models with per-model limits (the tier's and the key's), most specific first; "-" none.
QString modelLimitsOf(const ApiKey &key, const User *owner, const LimitResolver::Tiers &tiers)
{
    QStringList models;
    if (owner) {
        for (const ResolvedModelLimit &m : LimitResolver::modelLimitsForKey(key, *owner, tiers))
            models << m.model;
    }
    return CliValues::cell(models.join(u','));
}

}  // namespace

CliGroup KeysCommand::group() const
{
    QList<CliFlag> createFlags = {{kUser},
                                  {QStringLiteral("name")},
                                  {QStringLiteral("tier")},
                                  {QStringLiteral("models")},
                                  {QStringLiteral("expires")},
                                  {QStringLiteral("create-user"), false},
                                  {kJson, false}};
    createFlags += LimitFlags::flags();
    createFlags += ModelLimitFlags::shadowFlags(false);
    QList<CliFlag> setFlags = {{kJson, false}};
    setFlags += LimitFlags::flags();
    setFlags += ModelLimitFlags::shadowFlags(true);
    setFlags += ModelLimitFlags::modelFlags();
    return CliGroup(
        QStringLiteral("keys"),
        QStringLiteral("API keys authenticate requests (Authorization: Bearer KEY or x-api-key: "
                       "KEY). A key is shown\nonce, when it is created; the database keeps only "
                       "its SHA-256 hash and a short display prefix."),
        {
            {QStringLiteral("create"),
             // Two lines, aligned under the first for "Usage: sluice keys create ".
             QStringLiteral("--user NAME [--name N] [--tier T] [limits] [--models GLOBS]\n"
                            "                          [--expires DATE] [--shadow | --no-shadow] "
                            "[--create-user] [--json]"),
             QStringLiteral("create a key; the key alone on the last line of stdout"),
             QStringLiteral(
                 "Creates an API key for the user NAME and prints it on stdout, alone on the "
                 "last line\n(`sluice keys create --user alice | tail -1` captures it), or as "
                 "the \"key\" member of a JSON\nobject with --json. Details go to stderr. The "
                 "key cannot be shown again: store it now.\nA key without --tier follows its "
                 "user's tier; limit flags set overrides on the key."),
             createFlags,
             QStringLiteral(
                 "  --user NAME             the owner (required)\n"
                 "  --create-user           create the user (on tier free) when it does not "
                 "exist\n"
                 "  --name N                a label to tell keys apart\n"
                 "  --tier T                a tier for this key instead of the user's\n"
                 "  --models GLOBS          comma-separated model globs the key may use, e.g.\n"
                 "                          \"gpt-4o*,claude-*\"; default every model\n"
                 "  --expires DATE          ISO 8601 date (2026-12-31 = midnight UTC) or "
                 "date-time\n"
                 "                          (2026-12-31T18:00:00Z; UTC unless an offset is "
                 "given)\n"
                 "  --json                  print {\"key\": ..., ...} instead of the bare key\n"
                 "  --shadow, --no-shadow   shadow mode on or off for this key (default: the "
                 "tier's)\n"
                 "\n") +
                 LimitFlags::helpText(),
             [this](const CliArgs &a) { return create(a); }},
            {QStringLiteral("set"),
             QStringLiteral("ID|PREFIX [limits] [--model M | --remove-model M]\n"
                            "                          [--shadow | --no-shadow | "
                            "--inherit-shadow] [--json]"),
             QStringLiteral("change a key's limits, per-model limits or shadow mode"),
             QStringLiteral("Changes the key named by its id or display prefix. Only what is "
                            "given changes; a limit\nset to \"inherit\" (or \"\") goes back "
                            "to the tier's value. With --model M the limit flags set\nthe key's "
                            "limits for the model M, field by field over its tier's entry for M. "
                            "Running\ngateways apply the change within a second."),
             setFlags,
             QStringLiteral("  --json                  print the key as JSON\n") +
                 ModelLimitFlags::shadowHelpText(true) + ModelLimitFlags::modelHelpText() +
                 QStringLiteral("\n") + LimitFlags::helpText(),
             [this](const CliArgs &a) { return set(a); }},
            {QStringLiteral("list"),
             QStringLiteral("[--user NAME] [--status active|revoked] [--json]"),
             QStringLiteral("list keys (prefixes only, never the keys themselves)"),
             QStringLiteral(
                 "Lists keys with their effective tier and limits: the key's override, else its "
                 "tier's value,\nelse the per-key default. \"*\" marks an override set on the "
                 "key, \"unlimited\" a limit of 0,\nMODELS \"*\" every model. STATUS is active, "
                 "revoked, expired or user-disabled. SHADOW is the\neffective shadow mode (\"*\": "
                 "set on the key), MODEL-LIMITS the models with per-model limits\n(the tier's and "
                 "the key's), most specific first. Times are UTC."),
             {{kUser}, {QStringLiteral("status")}, {kJson, false}},
             QStringLiteral("  --user NAME             only this user's keys\n"
                            "  --status S              only active or revoked keys\n"
                            "  --json                  print a JSON array (with \"effective\" "
                            "limits)\n"),
             [this](const CliArgs &a) { return list(a); }},
            {QStringLiteral("revoke"),
             QStringLiteral("ID|PREFIX [--json]"),
             QStringLiteral("revoke a key by its id or display prefix"),
             QStringLiteral("Revokes a key, named by its id or its display prefix as \"sluice "
                            "keys list\" shows them\n(or by the whole key, e.g. a leaked one). "
                            "Running gateways refuse it within a second.\nRevoking cannot be "
                            "undone."),
             {{kJson, false}},
             QStringLiteral("  --json                  print the revoked key as JSON\n"),
             [this](const CliArgs &a) { return revoke(a); }},
        });
}

int KeysCommand::create(const CliArgs &args) const
{
    QString error;
    NewKey key;
    QStringList cleared;  // a new key inherits everything it does not set
    if (!args.expectPositional(0, QStringLiteral("sluice keys create --user NAME [options]"),
                               &error) ||
        !LimitFlags::read(args, &key.limits, &cleared, &error))
        return CliIo::usageError(error);
    key.userName = args.value(kUser);
    if (key.userName.trimmed().isEmpty())
        return CliIo::usageError(
            QStringLiteral("--user NAME is required (see sluice keys create --help)"));
    std::optional<std::optional<bool>> shadow;
    if (!ModelLimitFlags::readShadow(args, &shadow, &error))
        return CliIo::usageError(error);
    key.shadow = shadow.value_or(std::nullopt);
    key.createUser = args.has(QStringLiteral("create-user"));
    key.name = args.value(QStringLiteral("name"));
    key.tier = args.value(QStringLiteral("tier"));
    key.models = CliValues::parseModels(args.value(QStringLiteral("models")));
    if (args.has(QStringLiteral("expires"))) {
        const QString text = args.value(QStringLiteral("expires"));
        key.expiresAt = Timestamp::parse(text);
        if (!key.expiresAt.isValid()) {
            return CliIo::usageError(
                QStringLiteral("invalid value \"%1\" for --expires: expected an ISO 8601 date "
                               "(2026-12-31) or date-time (2026-12-31T18:00:00Z)")
                    .arg(text));
        }
        if (key.expiresAt <= QDateTime::currentDateTimeUtc()) {
            return CliIo::usageError(QStringLiteral("--expires %1 is in the past")
                                         .arg(Timestamp::toText(key.expiresAt)));
        }
    }

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    // Only to say so in the details; createKey() itself decides inside its transaction.
    const bool newUser = key.createUser && !session.admin().getUser(key.userName).ok();
    const AdminResult<CreatedKey> created = session.admin().createKey(key);
    if (!created.ok())
        return CliIo::adminError(*created.error);
    const ApiKey &k = created.value->key;

    // Details are best effort: whatever happens, the key itself must reach stdout.
    std::optional<EffectiveLimits> effective;
    std::optional<User> owner;
    LimitResolver::Tiers tiers;
    PrincipalDefaults defaults;
    if (const AdminResult<User> u = session.admin().getUser(key.userName); u.ok())
        owner = *u.value;
    if (owner && session.loadResolution(&tiers, &defaults, &error))
        effective = LimitResolver::forKey(k, *owner, tiers, defaults);

    QString details = QStringLiteral("created key %1 (%2) for user %3%4\n")
                          .arg(QString::number(k.id), k.prefix, key.userName,
                               newUser ? QStringLiteral(" (new user, tier %1)")
                                             .arg(owner ? owner->tier : QStringLiteral("free"))
                                       : QString());
    const QString tier = owner ? LimitResolver::effectiveTier(k, *owner) : k.tier;
    details += QStringLiteral("  tier:    %1%2\n")
                   .arg(tier, k.tier.isEmpty() ? QStringLiteral(" (the user's)") : QString());
    if (effective) {
        QStringList parts;
        const QStringList cells = CliValues::limitCells(*effective, k.limits);
        const QList<LimitFlags::Field> fields = LimitFlags::fields();
        for (qsizetype i = 0; i < fields.size(); ++i)
            parts << QStringLiteral("%1 %2").arg(QLatin1String(fields.at(i).flag), cells.value(i));
        details += QStringLiteral("  limits:  %1 (* = set on this key)\n")
                       .arg(parts.join(QStringLiteral(", ")));
    }
    if (owner)
        details += QStringLiteral("  shadow:  %1\n")
                       .arg(CliValues::shadowCell(LimitResolver::shadowForKey(k, *owner, tiers),
                                                  k.shadow.has_value()));
    details += QStringLiteral("  models:  %1\n")
                   .arg(k.models.isEmpty() ? QStringLiteral("every model")
                                           : k.models.join(QStringLiteral(", ")));
    details +=
        QStringLiteral("  expires: %1\n")
            .arg(k.expiresAt.isValid() ? Timestamp::toText(k.expiresAt) : QStringLiteral("never"));
    details += QStringLiteral("Store the key now: it cannot be shown again.\n");
    CliIo::err(details);

    if (args.has(kJson)) {
        QJsonObject o = IdentityJson::toJson(*created.value, tier);
        if (effective)
            o.insert(QStringLiteral("effective"), IdentityJson::toJson(*effective));
        CliIo::json(o);
    } else {
        CliIo::out(created.value->plaintext + u'\n');
    }
    return CliIo::kOk;
}

int KeysCommand::list(const CliArgs &args) const
{
    QString error;
    if (!args.expectPositional(0, QStringLiteral("sluice keys list"), &error))
        return CliIo::usageError(error);
    KeyFilter filter;
    filter.userName = args.value(kUser);
    filter.status = args.value(QStringLiteral("status"));

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    // The owners, to resolve each key's tier and limits.
    QHash<qint64, User> users;
    if (!filter.userName.isEmpty()) {
        const AdminResult<User> u = session.admin().getUser(filter.userName);
        if (!u.ok())
            return CliIo::adminError(*u.error);
        users.insert(u.value->id, *u.value);
    } else {
        const AdminResult<QList<User>> listed = session.allUsers({});
        if (!listed.ok())
            return CliIo::adminError(*listed.error);
        for (const User &u : *listed.value)
            users.insert(u.id, u);
    }
    const AdminResult<QList<ApiKey>> listed = session.allKeys(filter);
    if (!listed.ok())
        return CliIo::adminError(*listed.error);
    const QList<ApiKey> &keys = *listed.value;
    LimitResolver::Tiers tiers;
    PrincipalDefaults defaults;
    if (!session.loadResolution(&tiers, &defaults, &error))
        return CliIo::failure(error);

    auto effectiveOf = [&](const ApiKey &k, const User *owner) {
        return owner ? LimitResolver::forKey(k, *owner, tiers, defaults)
                     : LimitResolver::resolve(k.limits);
    };
    if (args.has(kJson)) {
        QJsonArray array;
        for (const ApiKey &k : keys) {
            const auto it = users.constFind(k.userId);
            const User *owner = it == users.cend() ? nullptr : &*it;
            QJsonObject o =
                IdentityJson::toJson(k, owner ? LimitResolver::effectiveTier(k, *owner) : k.tier);
            o.insert(QStringLiteral("effective"), IdentityJson::toJson(effectiveOf(k, owner)));
            if (owner) {
                o.insert(QStringLiteral("effective_shadow"),
                         LimitResolver::shadowForKey(k, *owner, tiers));
                o.insert(QStringLiteral("effective_model_limits"),
                         IdentityJson::toJson(LimitResolver::modelLimitsForKey(k, *owner, tiers)));
            }
            array.append(o);
        }
        CliIo::json(array);
        return CliIo::kOk;
    }
    QStringList headers = {QStringLiteral("ID"),   QStringLiteral("PREFIX"),
                           QStringLiteral("USER"), QStringLiteral("NAME"),
                           QStringLiteral("TIER"), QStringLiteral("STATUS")};
    for (const LimitFlags::Field &f : LimitFlags::fields())
        headers << QLatin1String(f.header);
    headers << QStringLiteral("MODELS") << QStringLiteral("SHADOW")
            << QStringLiteral("MODEL-LIMITS") << QStringLiteral("CREATED")
            << QStringLiteral("LAST-USED") << QStringLiteral("EXPIRES");
    TextTable table(headers);
    table.setRightAligned(0);
    for (int i = 6; i < 6 + LimitFlags::fields().size(); ++i)
        table.setRightAligned(i);
    for (const ApiKey &k : keys) {
        const auto it = users.constFind(k.userId);
        const User *owner = it == users.cend() ? nullptr : &*it;
        table.addRow(QStringList{QString::number(k.id), k.prefix, k.userName,
                                 CliValues::cell(k.name),
                                 owner ? LimitResolver::effectiveTier(k, *owner) : k.tier,
                                 displayStatus(k, owner)} +
                     CliValues::limitCells(effectiveOf(k, owner), k.limits) +
                     QStringList{modelsText(k.models), shadowOf(k, owner, tiers),
                                 modelLimitsOf(k, owner, tiers),
                                 CliValues::formatDate(k.createdAt, QStringLiteral("-")),
                                 CliValues::formatDate(k.lastUsedAt, QStringLiteral("never")),
                                 CliValues::formatDate(k.expiresAt, QStringLiteral("never"))});
    }
    CliIo::out(table.render());
    return CliIo::kOk;
}

int KeysCommand::set(const CliArgs &args) const
{
    QString error;
    KeyPatch patch;
    if (!args.expectPositional(1, QStringLiteral("sluice keys set ID|PREFIX [options]"), &error) ||
        !ModelLimitFlags::read(args, &patch.limits, &patch.clearLimits, &patch.modelLimits,
                               &error) ||
        !ModelLimitFlags::readShadow(args, &patch.shadow, &error))
        return CliIo::usageError(error);
    if (patch.limits.isEmpty() && patch.clearLimits.isEmpty() && patch.modelLimits.isEmpty() &&
        !patch.shadow) {
        return CliIo::usageError(
            QStringLiteral("nothing to change: give a limit option, --model, --remove-model or "
                           "a shadow option (see sluice keys set --help)"));
    }

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<ApiKey> updated = session.admin().updateKey(args.positional().first(), patch);
    if (!updated.ok())
        return CliIo::adminError(*updated.error);
    const ApiKey &k = *updated.value;
    if (args.has(kJson)) {
        CliIo::json(IdentityJson::toJson(k));
        return CliIo::kOk;
    }
    CliIo::out(QStringLiteral("updated key %1 (%2): %3; shadow %4\n%5")
                   .arg(QString::number(k.id), k.prefix, CliValues::storedSummary(k.limits),
                        k.shadow ? CliValues::shadowCell(*k.shadow) : QStringLiteral("inherit"),
                        CliValues::modelLimitLines(k.modelLimits, QStringLiteral("inherit"))));
    return CliIo::kOk;
}

int KeysCommand::revoke(const CliArgs &args) const
{
    QString error;
    if (!args.expectPositional(1, QStringLiteral("sluice keys revoke ID|PREFIX"), &error))
        return CliIo::usageError(error);

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<ApiKey> revoked = session.admin().revokeKey(args.positional().first());
    if (!revoked.ok())
        return CliIo::adminError(*revoked.error);
    const ApiKey &k = *revoked.value;
    if (args.has(kJson))
        CliIo::json(IdentityJson::toJson(k));
    else
        CliIo::out(QStringLiteral("revoked key %1 (%2) of user %3\n")
                       .arg(QString::number(k.id), k.prefix, k.userName));
    return CliIo::kOk;
}

}  // namespace sluice
