#include "HttpHeaders.h"

#include <algorithm>

namespace sluice {

bool HttpHeaders::nameStartsWith(QByteArrayView name, QByteArrayView prefix)
{
    return name.size() >= prefix.size() &&
           qstrnicmp(name.data(), prefix.data(), size_t(prefix.size())) == 0;
}

bool HttpHeaders::nameEquals(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), b.data(), size_t(a.size())) == 0;
}

void HttpHeaders::set(QByteArrayView name, QByteArray value)
{
    remove(name);
    m_fields.emplace_back(name.toByteArray(), std::move(value));
}

void HttpHeaders::remove(QByteArrayView name)
{
    m_fields.erase(std::remove_if(m_fields.begin(), m_fields.end(),
                                  [name](const Field &f) { return nameEquals(f.first, name); }),
                   m_fields.end());
}

bool HttpHeaders::contains(QByteArrayView name) const
{
    return std::any_of(m_fields.begin(), m_fields.end(),
                       [name](const Field &f) { return nameEquals(f.first, name); });
}

QByteArray HttpHeaders::value(QByteArrayView name) const
{
    for (const auto &f : m_fields) {
        if (nameEquals(f.first, name))
            return f.second;
    }
    return {};
}

bool HttpHeaders::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const auto &f : m_fields) {
        if (!nameEquals(f.first, name))
            continue;
        QByteArrayView rest(f.second);
        while (!rest.isEmpty()) {
            const qsizetype comma = rest.indexOf(',');
            QByteArrayView part = comma < 0 ? rest : rest.first(comma);
            rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);
            // "text/plain;q=0.5" lists "text/plain": parameters are not part of the token.
            const qsizetype semi = part.indexOf(';');
            if (semi >= 0)
                part = part.first(semi);
            if (nameEquals(part.trimmed(), token))
                return true;
        }
    }
    return false;
}

}  // namespace sluice
