#pragma once

#include <QByteArray>
#include <QString>

namespace sluice {

// The admin API's bearer token. Only its SHA-256 is kept: comparing two digests of fixed
// length in constant time reveals neither the token's content nor its length.
class AdminToken
{
public:
    enum class Check
    {
        Ok,
        NotConfigured,  // no token set: the admin API refuses every call
        Missing,        // no "Authorization: Bearer ..." header
        Wrong
    };

    explicit AdminToken(const QString &token);

    bool isConfigured() const { return !m_digest.isEmpty(); }
    // `authorization` is the raw Authorization header value.
    Check check(QByteArrayView authorization) const;

private:
    QByteArray m_digest;  // empty when no token is configured
};

}  // namespace sluice
