#include "UpstreamEndpoint.h"

namespace sluice {

QByteArray UpstreamEndpoint::hostHeader() const
{
    // An IPv6 literal is bracketed in a Host header, as in a URL.
    QByteArray out = host.contains(QLatin1Char(':'))
                         ? QByteArray("[") + host.toLatin1() + QByteArray("]")
                         : host.toLatin1();
    if (port != (tls ? 443 : 80)) {
        out += ':';
        out += QByteArray::number(port);
    }
    return out;
}

}  // namespace sluice
