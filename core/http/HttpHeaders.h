#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <utility>
#include <vector>

namespace sluice {

// Header fields in arrival order. A flat vector: requests carry a dozen headers, so a linear,
// case-insensitive scan beats any map and keeps duplicates (Set-Cookie, repeated X-Forwarded-For).
class HttpHeaders
{
public:
    using Field = std::pair<QByteArray, QByteArray>;

    void add(QByteArray name, QByteArray value)
    {
        m_fields.emplace_back(std::move(name), std::move(value));
    }
    // Replaces every field named `name` with one field.
    void set(QByteArrayView name, QByteArray value);
    void remove(QByteArrayView name);
    bool contains(QByteArrayView name) const;
    // First value of `name`, or an empty array.
    QByteArray value(QByteArrayView name) const;
    // Whether a comma-separated header (Connection, Accept...) lists `token`, case-insensitively.
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    const std::vector<Field> &fields() const { return m_fields; }
    std::vector<Field> &fields() { return m_fields; }
    bool isEmpty() const { return m_fields.empty(); }
    void clear() { m_fields.clear(); }
    void reserve(size_t n) { m_fields.reserve(n); }

    static bool nameEquals(QByteArrayView a, QByteArrayView b);
    // Case-insensitive prefix test of a field name, without a lower-cased copy.
    static bool nameStartsWith(QByteArrayView name, QByteArrayView prefix);

private:
    std::vector<Field> m_fields;
};

}  // namespace sluice
