#include "CliValues.h"

#include "LimitFields.h"
#include "LimitFlags.h"

namespace sluice {

namespace {

QString number(double value)
{
    return value == 0 ? QStringLiteral("unlimited") : QString::number(value, 'g', 15);
}

QList<double> effectiveValues(const EffectiveLimits &l)
{
    return {l.requestsPerSecond,         double(l.burst),           double(l.requestsPerMinute),
            double(l.tokensPerMinute),   double(l.monthlyRequests), double(l.monthlyTokens),
            double(l.concurrentRequests)};
}

}  // namespace

QStringList CliValues::parseModels(const QString &text)
{
    QStringList out;
    for (const QString &part : text.split(u',')) {
        const QString glob = part.trimmed();
        if (!glob.isEmpty())
            out << glob;
    }
    return out;
}

QString CliValues::cell(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : text;
}

QString CliValues::formatDate(const QDateTime &time, const QString &none)
{
    if (!time.isValid())
        return none;
    // One word, so `awk '{print $N}'` still finds every column.
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd'T'HH:mm'Z'"));
}

QStringList CliValues::limitCells(const EffectiveLimits &limits, const LimitOverrides &own)
{
    const QList<double> values = effectiveValues(limits);
    const QStringList &names = LimitFields::names();
    QStringList cells;
    for (qsizetype i = 0; i < values.size(); ++i) {
        const bool overridden = !LimitFields::value(own, names.value(i)).isNull();
        cells << number(values.at(i)) + (overridden ? QStringLiteral("*") : QString());
    }
    return cells;
}

QStringList CliValues::storedCells(const LimitOverrides &limits, const QString &unset)
{
    QStringList cells;
    for (const QString &name : LimitFields::names()) {
        const QVariant v = LimitFields::value(limits, name);
        cells << (v.isNull() ? unset : number(v.toDouble()));
    }
    return cells;
}

QString CliValues::storedSummary(const LimitOverrides &limits, const QString &unset)
{
    const QStringList cells = storedCells(limits, unset);
    const QList<LimitFlags::Field> fields = LimitFlags::fields();
    QStringList parts;
    for (qsizetype i = 0; i < fields.size(); ++i)
        parts << QStringLiteral("%1 %2").arg(QLatin1String(fields.at(i).flag), cells.value(i));
    return parts.join(QStringLiteral(", "));
}

QString CliValues::modelLimitLines(const QList<ModelLimit> &modelLimits, const QString &unset)
{
    QString lines;
    for (const ModelLimit &m : modelLimits)
        lines += QStringLiteral("  model %1: %2\n").arg(m.model, storedSummary(m.limits, unset));
    return lines;
}

QString CliValues::shadowCell(bool shadow, bool own)
{
    return (shadow ? QStringLiteral("on") : QStringLiteral("off")) +
           (own ? QStringLiteral("*") : QString());
}

}  // namespace sluice
