#include "GaugeFamily.h"

namespace sluice {

GaugeFamily::GaugeFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames)
    : MetricFamily(MetricType::Gauge, std::move(name), std::move(help), std::move(labelNames))
{}

double GaugeFamily::value(const LabelValues &values) const
{
    return mergedCell(values).value;
}

}  // namespace sluice
