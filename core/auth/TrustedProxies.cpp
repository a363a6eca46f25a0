#include "TrustedProxies.h"

namespace sluice {

std::optional<TrustedProxies> TrustedProxies::parse(const QStringList &cidrs, QString *error)
{
    TrustedProxies proxies;
    for (const QString &raw : cidrs) {
        const QString entry = raw.trimmed();
        if (entry.isEmpty())
            continue;
        QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(entry);
        if (subnet.first.isNull() && !entry.contains(u'/')) {
            const QHostAddress single(entry);
            if (!single.isNull())
                subnet = {single, single.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32};
        }
        if (subnet.first.isNull()) {
            if (error)
                *error = QStringLiteral("\"%1\" is not an IP address or CIDR subnet").arg(entry);
            return std::nullopt;
        }
        proxies.m_subnets.append(subnet);
    }
    return proxies;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    // IPv4 clients reach a dual-stack socket as ::ffff:a.b.c.d.
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    const QHostAddress plain = mapped ? QHostAddress(v4) : address;
    for (const auto &subnet : m_subnets) {
        if (plain.isInSubnet(subnet))
            return true;
    }
    return false;
}

QByteArray TrustedProxies::clientAddress(QByteArrayView peer, QByteArrayView forwardedFor) const
{
    if (m_subnets.isEmpty() || forwardedFor.isEmpty() ||
        !contains(QHostAddress(QString::fromLatin1(peer))))
        return peer.toByteArray();
    QByteArray client = peer.toByteArray();
    const QList<QByteArray> hops = forwardedFor.toByteArray().split(',');
    for (auto it = hops.crbegin(); it != hops.crend(); ++it) {
        const QByteArray hop = it->trimmed();
        const QHostAddress address(QString::fromLatin1(hop));
        if (address.isNull())
            break;  // garbage: stop at the last address we could trust
        client = hop;
        if (!contains(address))
            break;
    }
    return client;
}

}  // namespace sluice
