#include "TiersCommand.h"

#include "CliIo.h"
#include "CliSession.h"
#include "CliValues.h"
#include "IdentityJson.h"
#include "LimitFlags.h"
#include "TextTable.h"

#include <QHash>
#include <QJsonArray>

namespace sluice {

namespace {

const QString kJson = QStringLiteral("json");

}  // namespace

CliGroup TiersCommand::group() const
{
    QList<CliFlag> setFlags = {{kJson, false}};
    setFlags += LimitFlags::flags();
    return CliGroup(
        QStringLiteral("tiers"),
        QStringLiteral("Tiers carry the limits of the users and keys on them. A field a tier "
                       "leaves empty (\"inherit\")\nfalls back to the per-user or per-key "
                       "default; 0 means unlimited."),
        {
            {QStringLiteral("list"),
             QStringLiteral("[--json]"),
             QStringLiteral("list tiers, their limits and how many keys use each"),
             QStringLiteral("Lists every tier with its stored limits (\"inherit\" = the "
                            "per-principal default applies),\nthe number of keys on it, and "
                            "the per-user and per-key defaults as the last two rows."),
             {{kJson, false}},
             QStringLiteral("  --json                  print a JSON array\n"),
             [this](const CliArgs &a) { return list(a); }},
            {QStringLiteral("set"), QStringLiteral("NAME [limits] [--json]"),
             QStringLiteral("change a tier's limits; creates the tier when it does not exist"),
             QStringLiteral("Sets limits of the tier NAME, creating it when it does not exist. "
                            "Only the limits given\nchange. Running gateways apply the change "
                            "within a second."),
             setFlags,
             QStringLiteral("  --json                  print the tier as JSON\n\n") +
                 LimitFlags::helpText(),
             [this](const CliArgs &a) { return set(a); }},
        });
}

int TiersCommand::list(const CliArgs &args) const
{
    QString error;
    if (!args.expectPositional(0, QStringLiteral("sluice tiers list"), &error))
        return CliIo::usageError(error);

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<QList<Tier>> tiers = session.admin().listTiers();
    if (!tiers.ok())
        return CliIo::adminError(*tiers.error);
    const auto counts = session.admin().keyCountsByTier();
    if (!counts.ok())
        return CliIo::adminError(*counts.error);
    QHash<QString, qint64> keysOn;
    for (const auto &[name, count] : *counts.value)
        keysOn.insert(name, count);

    if (args.has(kJson)) {
        QJsonArray array;
        for (const Tier &t : *tiers.value) {
            QJsonObject o = IdentityJson::toJson(t);
            o.insert(QStringLiteral("keys"), keysOn.value(t.name));
            array.append(o);
        }
        CliIo::json(array);
        return CliIo::kOk;
    }
    const AdminResult<PrincipalDefaults> defaults = session.admin().getDefaults();
    if (!defaults.ok())
        return CliIo::adminError(*defaults.error);
    QStringList headers = {QStringLiteral("NAME")};
    for (const LimitFlags::Field &f : LimitFlags::fields())
        headers << QLatin1String(f.header);
    headers << QStringLiteral("KEYS");
    TextTable table(headers);
    for (int i = 1; i <= LimitFlags::fields().size() + 1; ++i)  // the limits and KEYS
        table.setRightAligned(i);
    for (const Tier &t : *tiers.value) {
        table.addRow(QStringList{t.name} + CliValues::storedCells(t.limits) +
                     QStringList{QString::number(keysOn.value(t.name))});
    }
    // What "inherit" resolves to, so the table answers its own question.
    table.addRow(QStringList{QStringLiteral("(user default)")} +
                 CliValues::storedCells(defaults.value->user));
    table.addRow(QStringList{QStringLiteral("(key default)")} +
                 CliValues::storedCells(defaults.value->key));
    CliIo::out(table.render());
    return CliIo::kOk;
}

int TiersCommand::set(const CliArgs &args) const
{
    QString error;
    LimitOverrides limits;
    QStringList cleared;
    if (!args.expectPositional(1, QStringLiteral("sluice tiers set NAME [limits]"), &error) ||
        !LimitFlags::read(args, &limits, &cleared, &error))
        return CliIo::usageError(error);
    const QString name = args.positional().first();

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const bool existed = session.admin().getTier(name).ok();
    const AdminResult<Tier> tier = session.admin().setTier(name, limits, cleared);
    if (!tier.ok())
        return CliIo::adminError(*tier.error);
    if (args.has(kJson)) {
        CliIo::json(IdentityJson::toJson(*tier.value));
    } else {
        CliIo::out(QStringLiteral("%1 tier %2: %3\n")
                       .arg(existed ? QStringLiteral("updated") : QStringLiteral("created"),
                            tier.value->name, CliValues::storedSummary(tier.value->limits)));
    }
    return CliIo::kOk;
}

}  // namespace sluice
