#pragma once

#include "HttpResponder.h"

#include <QByteArray>
#include <functional>
#include <vector>

namespace sluice {

using RouteHandler = std::function<void(HttpResponder)>;

// Maps method + path to a handler and a route name (the label used in metrics and logs, never
// the raw path). Built before the workers start and read-only afterwards, so workers share it
// without locks. GET routes answer HEAD too.
class Router
{
public:
    struct Route
    {
        QByteArray method;
        QByteArray path;  // exact path, or prefix when `prefix` is set
        bool prefix = false;
        QByteArray name;
        RouteHandler handler;
    };

    struct Match
    {
        enum class Kind
        {
            Found,
            NotFound,
            MethodNotAllowed
        };
        Kind kind = Kind::NotFound;
        const Route *route = nullptr;
        QByteArray allow;  // for 405: "GET, HEAD"
    };

    void add(QByteArray method, QByteArray path, QByteArray name, RouteHandler handler);
    // Matches `prefix` itself and every path below it ("/v1/" matches "/v1/anything").
    void addPrefix(QByteArray method, QByteArray prefix, QByteArray name, RouteHandler handler);

    Match match(QByteArrayView method, QByteArrayView path) const;

private:
    static bool pathMatches(const Route &r, QByteArrayView path);
    std::vector<Route> m_routes;
};

}  // namespace sluice
