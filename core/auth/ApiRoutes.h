#pragma once

#include "Router.h"

#include <functional>

namespace sluice {

class KeyAuthenticator;
class Router;
struct Principal;

// The client API: /v1/* for the OpenAI and Anthropic families, every route behind
// KeyAuthenticator. Until the proxy issue fills them, authenticated requests get 501 in the
// API's own error shape, so the authentication answers are testable end to end.
class ApiRoutes
{
public:
    using Handler = std::function<void(HttpResponder, const Principal &)>;
    static void registerRoutes(Router &router, KeyAuthenticator &auth);
    // Wraps `handler` so it only runs for an authenticated principal.
    static RouteHandler authenticated(KeyAuthenticator &auth, Handler handler);
};

}  // namespace sluice
