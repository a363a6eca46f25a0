#include "HttpResponse.h"

#include "LogSetup.h"

namespace sluice {

HttpResponse HttpResponse::json(int status, QByteArray body)
{
    HttpResponse r;
    r.status = status;
    r.headers.add(QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json"));
    r.body = std::move(body);
    return r;
}

QByteArray HttpResponse::openAiErrorBody(QByteArrayView message, QByteArrayView type,
                                         QByteArrayView code)
{
    QByteArray body;
    body.reserve(message.size() + 96);
    body += "{\"error\":{\"message\":";
    LogSetup::appendJsonString(body, message);
    body += ",\"type\":";
    LogSetup::appendJsonString(body, type);
    body += ",\"param\":null,\"code\":";
    LogSetup::appendJsonString(body, code);
    body += "}}";
    return body;
}

HttpResponse HttpResponse::jsonError(int status, QByteArrayView message, QByteArrayView type,
                                     QByteArrayView code)
{
    return json(status, openAiErrorBody(message, type, code));
}

}  // namespace sluice
