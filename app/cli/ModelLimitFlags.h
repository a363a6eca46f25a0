#pragma once

#include "AdminService.h"
#include "CliArgs.h"

#include <QList>
#include <QString>
#include <optional>

namespace sluice {

// The shadow-mode and per-model flags of `tiers set`, `keys create` and `keys set`:
//   --shadow / --no-shadow (keys also --inherit-shadow: back to the tier's);
//   --model M: the limit flags set the entry of model M (a name or glob) instead of the
//   tier's or key's own fields, creating it; --remove-model M drops that entry.
class ModelLimitFlags
{
public:
    static QList<CliFlag> shadowFlags(bool inherit);
    static QList<CliFlag> modelFlags();

    // nullopt when no shadow flag is given; else the value (nullopt inside: --inherit-shadow).
    // False with *error when more than one is given.
    static bool readShadow(const CliArgs &args, std::optional<std::optional<bool>> *shadow,
                           QString *error);
    // The limit flags (LimitFlags::read) into *limits / *clear, or with --model into an edit of
    // *models; --remove-model adds a removal. False with *error on a bad value.
    static bool read(const CliArgs &args, LimitOverrides *limits, QStringList *clear,
                     ModelLimitsPatch *models, QString *error);

    static QString shadowHelpText(bool inherit);
    static QString modelHelpText();
};

}  // namespace sluice
