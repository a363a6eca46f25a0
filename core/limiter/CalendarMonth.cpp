#include "CalendarMonth.h"

namespace sluice {
namespace {

constexpr qint64 kUsPerDay = 86'400'000'000LL;

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
qint64 daysFromCivil(qint64 y, qint64 m, qint64 d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const qint64 yoe = y - era * 400;
    const qint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const qint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civilFromDays(qint64 z, qint64 *y, qint64 *m)
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

}  // namespace

qint64 CalendarMonth::indexOf(qint64 epochUs)
{
    qint64 days = epochUs / kUsPerDay;
    if (epochUs < 0 && epochUs % kUsPerDay != 0)
        --days;
    qint64 y = 0;
    qint64 m = 0;
    civilFromDays(days, &y, &m);
    return (y - 1970) * 12 + (m - 1);
}

qint64 CalendarMonth::startUs(qint64 index)
{
    const qint64 y = 1970 + (index >= 0 ? index / 12 : (index - 11) / 12);
    const qint64 m = index - (y - 1970) * 12 + 1;
    return daysFromCivil(y, m, 1) * kUsPerDay;
}

}  // namespace sluice
