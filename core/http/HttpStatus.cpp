#include "HttpStatus.h"

#include <http_parser.h>

namespace sluice {

QByteArray httpReasonPhrase(int status)
{
    if (status == 499)
        return QByteArrayLiteral("Client Closed Request");
    const char *s = http_status_str(static_cast<http_status>(status));
    if (!s || qstrcmp(s, "<unknown>") == 0)
        return QByteArrayLiteral("Unknown");
    return QByteArray(s);
}

}  // namespace sluice
