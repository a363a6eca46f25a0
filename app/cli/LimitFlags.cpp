#include "LimitFlags.h"

#include "LimitFields.h"

#include <optional>

namespace sluice {

QList<LimitFlags::Field> LimitFlags::fields()
{
    return {{"rps", "requests_per_second", "RPS"},
            {"burst", "burst", "BURST"},
            {"rpm", "requests_per_minute", "RPM"},
            {"tpm", "tokens_per_minute", "TPM"},
            {"monthly-requests", "monthly_requests", "REQ/MONTH"},
            {"monthly-tokens", "monthly_tokens", "TOK/MONTH"},
            {"concurrent-requests", "concurrent_requests", "CONCURRENT"}};
}

QList<CliFlag> LimitFlags::flags()
{
    QList<CliFlag> out;
    for (const Field &f : fields())
        out.append({QLatin1String(f.flag), true});
    return out;
}

bool LimitFlags::read(const CliArgs &args, LimitOverrides *limits, QStringList *clear,
                      QString *error)
{
    for (const Field &f : fields()) {
        const QString flag = QLatin1String(f.flag);
        if (!args.has(flag))
            continue;
        const QString column = QLatin1String(f.column);
        const QString given = args.value(flag);
        // The words are the command line's own; numbers are read like INI values.
        QString text = given.trimmed();
        if (text == QLatin1String("inherit"))
            text.clear();
        else if (text == QLatin1String("unlimited"))
            text = QStringLiteral("0");
        QString expected;
        const std::optional<QVariant> value = LimitFields::parse(column, text, &expected);
        if (!value) {
            *error = QStringLiteral(
                         "invalid value \"%1\" for --%2: expected %3 (0 or "
                         "\"unlimited\" = no limit, \"inherit\" or \"\" = clear the "
                         "override)")
                         .arg(given, flag, expected);
            return false;
        }
        if (value->isNull())
            *clear << column;
        else
            LimitFields::setValue(*limits, column, *value);
    }
    return true;
}

QString LimitFlags::helpText()
{
    return QStringLiteral(
        "Limits (0 or \"unlimited\" = no limit; \"\" or \"inherit\" = clear the override):\n"
        "  --rps R                 requests per second (fractions allowed)\n"
        "  --burst N               requests allowed at once above the per-second rate\n"
        "  --rpm N                 requests per minute\n"
        "  --tpm N                 tokens per minute\n"
        "  --monthly-requests N    requests per month\n"
        "  --monthly-tokens N      tokens per month\n"
        "  --concurrent-requests N requests in flight at once\n");
}

}  // namespace sluice
