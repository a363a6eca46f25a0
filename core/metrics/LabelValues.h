#pragma once

#include <QByteArrayView>
#include <QList>
#include <array>
#include <initializer_list>

namespace sluice {

// The label values of one series, in the order of the family's label names. A fixed-size
// array of views: building one costs no allocation, so recording stays allocation-free.
// The viewed bytes only need to live for the duration of the call.
//   requests.inc({"POST", "200"});
class LabelValues
{
public:
    static constexpr qsizetype MaxSize = 8;

    LabelValues() = default;
    LabelValues(std::initializer_list<QByteArrayView> values)
    {
        Q_ASSERT_X(qsizetype(values.size()) <= MaxSize, "LabelValues", "too many labels");
        for (QByteArrayView v : values) {
            if (m_size == MaxSize)
                break;
            m_values[m_size++] = v;
        }
    }
    LabelValues(const QList<QByteArray> &values)
    {
        Q_ASSERT_X(values.size() <= MaxSize, "LabelValues", "too many labels");
        for (const QByteArray &v : values) {
            if (m_size == MaxSize)
                break;
            m_values[m_size++] = v;
        }
    }

    qsizetype size() const { return m_size; }
    QByteArrayView operator[](qsizetype i) const { return m_values[i]; }
    const QByteArrayView *begin() const { return m_values.data(); }
    const QByteArrayView *end() const { return m_values.data() + m_size; }

private:
    std::array<QByteArrayView, MaxSize> m_values{};
    qsizetype m_size = 0;
};

}  // namespace sluice
