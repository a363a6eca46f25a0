#include "AdminToken.h"

#include "ApiKeyCodec.h"

#include <QCryptographicHash>

namespace sluice {

namespace {

QByteArray digestOf(QByteArrayView bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

}  // namespace

AdminToken::AdminToken(const QString &token)
{
    if (!token.isEmpty())
        m_digest = digestOf(token.toUtf8());
}

AdminToken::Check AdminToken::check(QByteArrayView authorization) const
{
    if (m_digest.isEmpty())
        return Check::NotConfigured;
    const QByteArrayView value = authorization.trimmed();
    constexpr QByteArrayView scheme("bearer ");
    if (value.size() <= scheme.size() ||
        value.first(scheme.size()).compare(scheme, Qt::CaseInsensitive) != 0)
        return Check::Missing;
    const QByteArrayView presented = value.sliced(scheme.size()).trimmed();
    if (presented.isEmpty())
        return Check::Missing;
    return ApiKeyCodec::constantTimeEquals(digestOf(presented), m_digest) ? Check::Ok
                                                                          : Check::Wrong;
}

}  // namespace sluice
