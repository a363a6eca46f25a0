#pragma once

#include <QByteArray>
#include <QMutex>
#include <QSet>
#include <array>

namespace sluice {

// Bounds the values a metric label may take (user names, model names): the first `max` values
// are admitted, later new ones fold into "other", so invented model names or a flood of users
// cannot grow the registry without bound. Striped locks keep workers apart.
class LabelCap
{
public:
    explicit LabelCap(int max) : m_perStripe(qMax(1, max / kStripes)) {}
    QByteArrayView admit(QByteArrayView value);

private:
    static constexpr int kStripes = 16;
    struct Stripe
    {
        QMutex mutex;
        QSet<QByteArray> values;
    };
    int m_perStripe;
    std::array<Stripe, kStripes> m_stripes;
};

}  // namespace sluice
