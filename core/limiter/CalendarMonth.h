#pragma once

#include <QtGlobal>

namespace sluice {

// UTC calendar months for monthly quotas, by arithmetic on epoch time (the same arithmetic the
// Redis script does, since Redis Lua has no os.date).
class CalendarMonth
{
public:
    // Months since January 1970 of the UTC month holding `epochUs`.
    static qint64 indexOf(qint64 epochUs);
    // Epoch µs at which month `index` starts.
    static qint64 startUs(qint64 index);
    // Epoch µs at which the month after the one holding `epochUs` starts.
    static qint64 nextStartUs(qint64 epochUs) { return startUs(indexOf(epochUs) + 1); }
};

}  // namespace sluice
