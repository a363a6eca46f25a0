#pragma once

#include "HttpMessage.h"
#include "HttpResponse.h"

namespace sluice {

// Which API a request speaks, so the gateway's own errors come back in the shape that API's
// SDK parses: OpenAI {"error":{"message","type","param","code"}} or Anthropic
// {"type":"error","error":{"type","message"}}.
enum class ApiFamily
{
    OpenAI,
    Anthropic
};

// /v1/messages* is Anthropic; /v1/models is Anthropic when the request carries Anthropic's
// headers (its SDK calls the same path); everything else is OpenAI.
ApiFamily apiFamilyOf(const HttpRequest &request);

// An error in the family's shape. `code` is OpenAI's code ("invalid_api_key"); the OpenAI
// type and the Anthropic type follow from the status (401 authentication_error, 429
// rate_limit_error, ...).
HttpResponse apiError(ApiFamily family, int status, QByteArrayView code, QByteArrayView message);
// Same, with OpenAI's `type` given ("insufficient_quota" for a spent monthly quota, "requests"
// or "tokens" for rate limits, as api.openai.com answers).
HttpResponse apiError(ApiFamily family, int status, QByteArrayView code, QByteArrayView message,
                      QByteArrayView openAiType);

}  // namespace sluice
