#pragma once

#include "CliArgs.h"
#include "IdentityTypes.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace sluice {

// The seven limit flags shared by `users add/set`, `keys create` and `tiers set`:
// --rps --burst --rpm --tpm --monthly-requests --monthly-tokens --concurrent-requests (the
// rates abbreviated, the other fields by their column name). A value is a number >= 0
// (0 or "unlimited" = no limit); "" or "inherit" clears an override, so the field inherits again.
class LimitFlags
{
public:
    static QList<CliFlag> flags();

    // Reads the limit flags present in `args`: numbers into *limits, cleared fields (by their
    // column name, "requests_per_second", ...) into *clear. False with *error on a bad value.
    static bool read(const CliArgs &args, LimitOverrides *limits, QStringList *clear,
                     QString *error);

    // Usage lines for --help.
    static QString helpText();

    // The column / JSON name of each field, in LimitFields::names() order, with its flag.
    struct Field
    {
        const char *flag;    // "rps"
        const char *column;  // "requests_per_second"
        const char *header;  // "RPS" (table heading)
    };
    static QList<Field> fields();
};

}  // namespace sluice
