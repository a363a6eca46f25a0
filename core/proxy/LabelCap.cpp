#include "LabelCap.h"

namespace sluice {

QByteArrayView LabelCap::admit(QByteArrayView value)
{
    Stripe &s = m_stripes[qHash(value) % kStripes];
    QMutexLocker lock(&s.mutex);
    const QByteArray key = value.toByteArray();
    if (s.values.contains(key))
        return value;
    if (s.values.size() >= m_perStripe)
        return "other";
    s.values.insert(key);
    return value;
}

}  // namespace sluice
