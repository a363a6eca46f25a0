#pragma once

#include "Router.h"

#include <functional>

namespace sluice {

class KeyAuthenticator;
class Router;
struct Principal;

// The client API: /v1/* for the OpenAI and Anthropic families, every route behind
// KeyAuthenticator. `forward` serves the POST routes, `models` GET /v1/models (the proxy);
// unknown /v1 paths answer 404 in OpenAI's shape once authenticated.
class ApiRoutes
{
public:
    using Handler = std::function<void(HttpResponder, const Principal &)>;
    static void registerRoutes(Router &router, KeyAuthenticator &auth, Handler forward,
                               Handler models);
    // Wraps `handler` so it only runs for an authenticated principal.
    static RouteHandler authenticated(KeyAuthenticator &auth, Handler handler);
};

}  // namespace sluice
