#include "RequestId.h"

#include <QRandomGenerator>

namespace sluice::RequestId {

bool isSane(QByteArrayView id)
{
    if (id.isEmpty() || id.size() > 128)
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

QByteArray generate()
{
    // Not secret, only unique: a per-thread 64-bit generator avoids a lock per request.
    thread_local QRandomGenerator64 rng(QRandomGenerator::system()->generate64());
    static const char hex[] = "0123456789abcdef";
    QByteArray id(32, Qt::Uninitialized);
    char *out = id.data();
    for (int half = 0; half < 2; ++half) {
        quint64 v = rng.generate64();
        for (int i = 0; i < 16; ++i) {
            *out++ = hex[v & 0xf];
            v >>= 4;
        }
    }
    return id;
}

}  // namespace sluice::RequestId
