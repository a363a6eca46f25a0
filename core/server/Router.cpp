#include "Router.h"

namespace sluice {

void Router::add(QByteArray method, QByteArray path, QByteArray name, RouteHandler handler)
{
    m_routes.push_back(
        {std::move(method), std::move(path), false, std::move(name), std::move(handler)});
}

void Router::addPrefix(QByteArray method, QByteArray prefix, QByteArray name, RouteHandler handler)
{
    m_routes.push_back(
        {std::move(method), std::move(prefix), true, std::move(name), std::move(handler)});
}

bool Router::pathMatches(const Route &r, QByteArrayView path)
{
    return r.prefix ? path.startsWith(r.path) : path == QByteArrayView(r.path);
}

Router::Match Router::match(QByteArrayView method, QByteArrayView path) const
{
    Match m;
    // Exact routes win over prefixes, whatever the registration order.
    for (int pass = 0; pass < 2; ++pass) {
        const bool wantPrefix = pass == 1;
        for (const Route &r : m_routes) {
            if (r.prefix != wantPrefix || !pathMatches(r, path))
                continue;
            if (method == QByteArrayView(r.method) || (method == "HEAD" && r.method == "GET")) {
                m.kind = Match::Kind::Found;
                m.route = &r;
                return m;
            }
            m.kind = Match::Kind::MethodNotAllowed;
            if (!m.allow.contains(r.method)) {
                if (!m.allow.isEmpty())
                    m.allow += ", ";
                m.allow += r.method;
                if (r.method == "GET")
                    m.allow += ", HEAD";
            }
        }
        if (m.kind == Match::Kind::MethodNotAllowed)
            return m;
    }
    return m;
}

}  // namespace sluice
