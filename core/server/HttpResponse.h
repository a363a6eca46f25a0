#pragma once

#include "HttpHeaders.h"

#include <QByteArray>

namespace sluice {

// A complete (non-streaming) response as built by a handler.
struct HttpResponse
{
    int status = 200;
    HttpHeaders headers;
    QByteArray body;

    static HttpResponse json(int status, QByteArray body);
    // {"error":{"message":...,"type":...,"code":...}}: OpenAI's error shape, the default for
    // the gateway's own errors (routes of the Anthropic family use their own shape).
    static HttpResponse jsonError(int status, QByteArrayView message, QByteArrayView type,
                                  QByteArrayView code);
    static QByteArray openAiErrorBody(QByteArrayView message, QByteArrayView type,
                                      QByteArrayView code);
};

}  // namespace sluice
