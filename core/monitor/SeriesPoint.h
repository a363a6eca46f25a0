#pragma once

#include <QMetaType>
#include <QtGlobal>

namespace sluice {

// One second of the dashboard's time series: rates of the /v1 traffic and token use.
struct SeriesPoint
{
    qint64 atMs = 0;                  // epoch ms of the end of the second
    double requestsPerSecond = 0;     // /v1/* requests answered in that second
    double rateLimitedPerSecond = 0;  // of them answered 429
    double errorsPerSecond = 0;       // of them answered 5xx
    double latencyP50Seconds = 0;     // over that second's /v1 requests; 0 when none
    double latencyP95Seconds = 0;
    double tokensPerMinute = 0;  // prompt + completion tokens over the last 60 s
};

}  // namespace sluice

Q_DECLARE_METATYPE(sluice::SeriesPoint)
