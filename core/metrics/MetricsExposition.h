#pragma once

#include "MetricSnapshot.h"

#include <QByteArray>
#include <QByteArrayView>
#include <vector>

namespace sluice {

// Renders snapshots (already sorted by name, series sorted by labels) as Prometheus text
// format 0.0.4 or OpenMetrics 1.0.0.
class MetricsExposition
{
public:
    static QByteArray text(const std::vector<MetricSnapshot> &families);
    static QByteArray openMetrics(const std::vector<MetricSnapshot> &families);

    // Sample values: integers without exponent or decimal point, +Inf, -Inf, NaN, otherwise
    // the shortest round-trip form rendered like Go's %g (what Prometheus clients print).
    static void appendNumber(QByteArray &out, double v);
    // Go's strconv.FormatFloat(v, 'g', -1, 64): the text format's "le" values.
    static void appendGoFloat(QByteArray &out, double v);
    // OpenMetrics canonical "le" values: Go's %g with ".0" added when it looks like an
    // integer ("1.0", "0.25", "1e+06").
    static void appendCanonicalFloat(QByteArray &out, double v);

    static void appendLabelValue(QByteArray &out, QByteArrayView value);      // \\ \" \n
    static void appendTextHelp(QByteArray &out, QByteArrayView help);         // \\ \n
    static void appendOpenMetricsHelp(QByteArray &out, QByteArrayView help);  // \\ \" \n
};

}  // namespace sluice
