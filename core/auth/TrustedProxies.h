#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>

namespace sluice {

// Which peers may tell us the client's address through X-Forwarded-For ([server]
// trusted_proxies, a CIDR list). Anyone else could forge the header to dodge per-IP limits.
class TrustedProxies
{
public:
    TrustedProxies() = default;
    // Parses "10.0.0.0/8", "127.0.0.1", "::1/128"; nullopt with *error naming the bad entry.
    static std::optional<TrustedProxies> parse(const QStringList &cidrs, QString *error);

    bool isEmpty() const { return m_subnets.isEmpty(); }
    bool contains(const QHostAddress &address) const;
    // The client address: the TCP peer, unless the peer is trusted; then the right-most
    // X-Forwarded-For entry that is not itself a trusted proxy (entries left of it could be
    // forged by the client).
    QByteArray clientAddress(QByteArrayView peer, QByteArrayView forwardedFor) const;

private:
    QList<QPair<QHostAddress, int>> m_subnets;
};

}  // namespace sluice
