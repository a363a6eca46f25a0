#include "ApiFamily.h"

#include "LogSetup.h"

namespace sluice {
namespace {

QByteArrayView anthropicType(int status)
{
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 529:
            return "overloaded_error";
        default:
            return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

QByteArrayView openAiType(int status)
{
    switch (status) {
        case 401:
            return "invalid_request_error";  // what api.openai.com answers for a bad key
        case 403:
            return "permission_error";
        case 429:
            return "rate_limit_error";
        default:
            return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

}  // namespace

ApiFamily apiFamilyOf(const HttpRequest &request)
{
    const QByteArrayView path = request.path();
    if (path == "/v1/messages" || path.startsWith("/v1/messages/"))
        return ApiFamily::Anthropic;
    if (path == "/v1/models" || path.startsWith("/v1/models/")) {
        const HttpHeaders &h = request.head.headers;
        if (h.contains("anthropic-version") || h.contains("x-api-key"))
            return ApiFamily::Anthropic;
    }
    return ApiFamily::OpenAI;
}

HttpResponse apiError(ApiFamily family, int status, QByteArrayView code, QByteArrayView message)
{
    return apiError(family, status, code, message, openAiType(status));
}

HttpResponse apiError(ApiFamily family, int status, QByteArrayView code, QByteArrayView message,
                      QByteArrayView typeName)
{
    if (family == ApiFamily::OpenAI)
        return HttpResponse::jsonError(status, message, typeName, code);
    QByteArray body;
    body.reserve(message.size() + 80);
    body += "{\"type\":\"error\",\"error\":{\"type\":";
    LogSetup::appendJsonString(body, anthropicType(status));
    body += ",\"message\":";
    LogSetup::appendJsonString(body, message);
    body += "}}";
    return HttpResponse::json(status, std::move(body));
}

}  // namespace sluice
