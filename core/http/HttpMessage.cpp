#include "HttpMessage.h"

namespace sluice {

QByteArrayView HttpMessageHead::path() const
{
    QByteArrayView t(target);
    const qsizetype q = t.indexOf('?');
    return q < 0 ? t : t.first(q);
}

QByteArrayView HttpMessageHead::query() const
{
    QByteArrayView t(target);
    const qsizetype q = t.indexOf('?');
    return q < 0 ? QByteArrayView() : t.sliced(q + 1);
}

}  // namespace sluice
