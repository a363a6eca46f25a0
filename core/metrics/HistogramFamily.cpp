#include "HistogramFamily.h"

namespace sluice {

HistogramFamily::HistogramFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames,
                                 std::vector<double> upperBounds)
    : MetricFamily(MetricType::Histogram, std::move(name), std::move(help), std::move(labelNames),
                   std::move(upperBounds))
{}

quint64 HistogramFamily::count(const LabelValues &values) const
{
    return mergedCell(values).count;
}

double HistogramFamily::sum(const LabelValues &values) const
{
    return mergedCell(values).value;
}

}  // namespace sluice
