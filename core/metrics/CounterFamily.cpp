#include "CounterFamily.h"

namespace sluice {

CounterFamily::CounterFamily(QByteArray name, QByteArray help, QList<QByteArray> labelNames)
    : MetricFamily(MetricType::Counter, std::move(name), std::move(help), std::move(labelNames))
{}

double CounterFamily::value(const LabelValues &values) const
{
    return mergedCell(values).value;
}

}  // namespace sluice
