#include "ModelLimitFlags.h"

#include "LimitFlags.h"

namespace sluice {

namespace {

const QString kShadow = QStringLiteral("shadow");
const QString kNoShadow = QStringLiteral("no-shadow");
const QString kInheritShadow = QStringLiteral("inherit-shadow");
const QString kModel = QStringLiteral("model");
const QString kRemoveModel = QStringLiteral("remove-model");

}  // namespace

QList<CliFlag> ModelLimitFlags::shadowFlags(bool inherit)
{
    QList<CliFlag> flags = {{kShadow, false}, {kNoShadow, false}};
    if (inherit)
        flags.append({kInheritShadow, false});
    return flags;
}

QList<CliFlag> ModelLimitFlags::modelFlags()
{
    return {{kModel, true}, {kRemoveModel, true}};
}

bool ModelLimitFlags::readShadow(const CliArgs &args, std::optional<std::optional<bool>> *shadow,
                                 QString *error)
{
    const int given =
        int(args.has(kShadow)) + int(args.has(kNoShadow)) + int(args.has(kInheritShadow));
    if (given > 1) {
        *error = QStringLiteral("give only one of --shadow, --no-shadow and --inherit-shadow");
        return false;
    }
    if (args.has(kShadow) || args.has(kNoShadow))
        shadow->emplace(args.has(kShadow));
    else if (args.has(kInheritShadow))
        shadow->emplace(std::nullopt);
    return true;
}

bool ModelLimitFlags::read(const CliArgs &args, LimitOverrides *limits, QStringList *clear,
                           ModelLimitsPatch *models, QString *error)
{
    for (const QString &flag : {kModel, kRemoveModel}) {
        if (args.has(flag) && args.value(flag).trimmed().isEmpty()) {
            *error = QStringLiteral("--%1 needs a model name or glob, e.g. gpt-4o or \"claude-*\"")
                         .arg(flag);
            return false;
        }
    }
    if (args.has(kModel)) {
        ModelLimitEdit edit;
        edit.model = args.value(kModel).trimmed();
        if (!LimitFlags::read(args, &edit.limits, &edit.clearLimits, error))
            return false;
        models->edits.append(edit);
    } else if (!LimitFlags::read(args, limits, clear, error)) {
        return false;
    }
    if (args.has(kRemoveModel))
        models->edits.append({args.value(kRemoveModel).trimmed(), true, {}, {}});
    return true;
}

QString ModelLimitFlags::shadowHelpText(bool inherit)
{
    return QStringLiteral(
               "  --shadow                shadow mode: limits are checked and would-be denials "
               "counted\n"
               "                          and logged, but nothing is denied\n"
               "  --no-shadow             enforce the limits (the default)\n") +
           (inherit ? QStringLiteral("  --inherit-shadow        follow the tier's shadow mode "
                                     "again\n")
                    : QString());
}

QString ModelLimitFlags::modelHelpText()
{
    return QStringLiteral(
        "  --model M               the limit flags set the per-model limits of M (a model name "
        "or\n"
        "                          glob such as \"claude-*\") instead of the own ones\n"
        "  --remove-model M        remove the per-model limits of M\n");
}

}  // namespace sluice
