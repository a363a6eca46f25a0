#pragma once

#include "KeyAuthenticator.h"
#include "Router.h"

#include <functional>

namespace sluice {

class Router;
struct Principal;

// The client API: /v1/* for the OpenAI and Anthropic families, every route behind
// KeyAuthenticator. `forward` serves the POST routes, `models` GET /v1/models (the proxy);
// unknown /v1 paths answer 404 in OpenAI's shape once authenticated.
class ApiRoutes
{
public:
    using Handler = std::function<void(HttpResponder, const Principal &)>;
    // Answers a request authentication refused; none: its rejection is sent as it is.
    using Refuser = std::function<void(HttpResponder, KeyAuthenticator::Outcome)>;
    static void registerRoutes(Router &router, KeyAuthenticator &auth, Handler forward,
                               Handler models, Refuser refuse = {});
    // Wraps `handler` so it only runs for an authenticated principal.
    static RouteHandler authenticated(KeyAuthenticator &auth, Handler handler, Refuser refuse = {});
};

}  // namespace sluice
