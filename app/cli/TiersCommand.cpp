#include "TiersCommand.h"

#include "CliIo.h"
#include "CliSession.h"
#include "CliValues.h"
#include "IdentityJson.h"
#include "LimitFlags.h"
#include "ModelLimitFlags.h"
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
    setFlags += ModelLimitFlags::shadowFlags(false);
    setFlags += ModelLimitFlags::modelFlags();
    return CliGroup(
        QStringLiteral("tiers"),
        QStringLiteral("Tiers carry the limits of the users and keys on them. A field a tier "
                       "leaves empty (\"inherit\")\nfalls back to the per-user or per-key "
                       "default; 0 means unlimited."),
        {
            {QStringLiteral("list"),
             QStringLiteral("[--json]"),
             QStringLiteral("list tiers, their limits and how many keys use each"),
             QStringLiteral("Lists every tier with its shadow mode, its stored limits "
                            "(\"inherit\" = the per-principal\ndefault applies), the number "
                            "of keys on it, and the per-user and per-key defaults as\nthe last "
                            "two rows; then the tiers' per-model limits, if any."),
             {{kJson, false}},
             QStringLiteral("  --json                  print a JSON array\n"),
             [this](const CliArgs &a) { return list(a); }},
            {QStringLiteral("set"),
             QStringLiteral("NAME [limits] [--model M | --remove-model M] [--shadow | "
                            "--no-shadow]\n                          [--json]"),
             QStringLiteral("change a tier's limits; creates the tier when it does not exist"),
             QStringLiteral("Sets limits of the tier NAME, creating it when it does not exist. "
                            "Only the limits given\nchange. With --model M they set the tier's "
                            "limits for the model M (a name or glob;\nunset fields are "
                            "unlimited) instead. Running gateways apply the change within a "
                            "second."),
             setFlags,
             QStringLiteral("  --json                  print the tier as JSON\n") +
                 ModelLimitFlags::shadowHelpText(false) + ModelLimitFlags::modelHelpText() +
                 QStringLiteral("\n") + LimitFlags::helpText(),
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
    QStringList limitHeaders;
    for (const LimitFlags::Field &f : LimitFlags::fields())
        limitHeaders << QLatin1String(f.header);
    TextTable table(QStringList{QStringLiteral("NAME"), QStringLiteral("SHADOW")} + limitHeaders +
                    QStringList{QStringLiteral("KEYS")});
    for (int i = 2; i <= LimitFlags::fields().size() + 2; ++i)  // the limits and KEYS
        table.setRightAligned(i);
    // Per-model limits: unset fields are unlimited (nothing to inherit from).
    TextTable models(QStringList{QStringLiteral("TIER"), QStringLiteral("MODEL")} + limitHeaders);
    const QString unlimited = QStringLiteral("unlimited");
    for (const Tier &t : *tiers.value) {
        table.addRow(QStringList{t.name, CliValues::shadowCell(t.shadow)} +
                     CliValues::storedCells(t.limits) +
                     QStringList{QString::number(keysOn.value(t.name))});
        for (const ModelLimit &m : t.modelLimits)
            models.addRow(QStringList{t.name, m.model} +
                          CliValues::storedCells(m.limits, unlimited));
    }
    // What "inherit" resolves to, so the table answers its own question.
    const QString none = QStringLiteral("-");
    table.addRow(QStringList{QStringLiteral("(user default)"), none} +
                 CliValues::storedCells(defaults.value->user));
    table.addRow(QStringList{QStringLiteral("(key default)"), none} +
                 CliValues::storedCells(defaults.value->key));
    QString text = table.render();
    if (models.rowCount() > 0)
        text += QStringLiteral("\nPer-model limits:\n") + models.render();
    CliIo::out(text);
    return CliIo::kOk;
}

int TiersCommand::set(const CliArgs &args) const
{
    QString error;
    TierPatch patch;
    std::optional<std::optional<bool>> shadow;
    if (!args.expectPositional(1, QStringLiteral("sluice tiers set NAME [limits]"), &error) ||
        !ModelLimitFlags::read(args, &patch.limits, &patch.clearLimits, &patch.modelLimits,
                               &error) ||
        !ModelLimitFlags::readShadow(args, &shadow, &error))
        return CliIo::usageError(error);
    if (shadow)
        patch.shadow = *shadow;
    const QString name = args.positional().first();

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const bool existed = session.admin().getTier(name).ok();
    const AdminResult<Tier> tier = session.admin().setTier(name, patch);
    if (!tier.ok())
        return CliIo::adminError(*tier.error);
    const Tier &t = *tier.value;
    if (args.has(kJson)) {
        CliIo::json(IdentityJson::toJson(t));
    } else {
        CliIo::out(
            QStringLiteral("%1 tier %2: %3; shadow %4\n%5")
                .arg(existed ? QStringLiteral("updated") : QStringLiteral("created"), t.name,
                     CliValues::storedSummary(t.limits), CliValues::shadowCell(t.shadow),
                     CliValues::modelLimitLines(t.modelLimits, QStringLiteral("unlimited"))));
    }
    return CliIo::kOk;
}

}  // namespace sluice
