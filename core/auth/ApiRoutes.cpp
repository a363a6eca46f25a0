#include "ApiRoutes.h"

#include "ApiFamily.h"
#include "KeyAuthenticator.h"
#include "Principal.h"
#include "Router.h"

namespace sluice {

RouteHandler ApiRoutes::authenticated(KeyAuthenticator &auth, Handler handler, Refuser refuse)
{
    return [&auth, handler = std::move(handler), refuse = std::move(refuse)](HttpResponder r) {
        const ApiFamily family = apiFamilyOf(r.request());
        KeyAuthenticator::Outcome outcome = auth.authenticate(r.request(), family);
        if (!outcome.principal) {
            if (refuse)
                refuse(std::move(r), std::move(outcome));
            else
                r.send(std::move(*outcome.rejection));
            return;
        }
        r.setPrincipal(outcome.principal->userIdText, outcome.principal->keyIdText);
        handler(r, *outcome.principal);
    };
}

void ApiRoutes::registerRoutes(Router &router, KeyAuthenticator &auth, Handler forward,
                               Handler models, Refuser refuse)
{
    struct Route
    {
        const char *method;
        const char *path;
    };
    static constexpr Route routes[] = {
        {"POST", "/v1/chat/completions"},
        {"POST", "/v1/completions"},
        {"POST", "/v1/embeddings"},
        {"POST", "/v1/responses"},
        {"GET", "/v1/models"},
        {"POST", "/v1/messages"},
        {"POST", "/v1/messages/count_tokens"},
    };
    for (const Route &route : routes)
        router.add(
            route.method, route.path, route.path,
            authenticated(auth, qstrcmp(route.method, "GET") == 0 ? models : forward, refuse));

    // Any other /v1 path: authenticated first (no probing of the route table without a key),
    // then 404 in OpenAI's shape, for every method.
    const auto unknown = [](HttpResponder r, const Principal &) {
        r.send(apiError(ApiFamily::OpenAI, 404, "unknown_url",
                        QByteArray("Unknown request URL: ") + r.request().head.method + ' ' +
                            r.request().path().toByteArray()));
    };
    for (const char *method : {"GET", "POST", "PUT", "PATCH", "DELETE"})
        router.addPrefix(method, "/v1/", "/v1/*", authenticated(auth, unknown, refuse));
}

}  // namespace sluice
