#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace sluice {

// One rate-limit denial (or, in shadow mode, a would-be denial), as the proxy reports it to the
// ViolationLog. Stored aggregated: one row per minute, user, key, limit, route and shadow flag.
struct Violation
{
    qint64 atMs = 0;  // epoch ms of the decision; 0 = when it is recorded
    qint64 userId = 0;
    qint64 keyId = 0;
    QByteArray limitName;  // the rule's policy name: "key-rps", "user-monthly-tokens"
    QByteArray limitType;  // LimitRule::typeName(): user | key | model | ip | tokens | monthly
    QByteArray tier;       // the key's effective tier
    QByteArray route;      // the request path: "/v1/chat/completions"
    bool shadow = false;   // shadow mode: the request was let through
    qint64 count = 1;
};

}  // namespace sluice
