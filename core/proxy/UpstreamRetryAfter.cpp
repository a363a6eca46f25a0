#include "UpstreamRetryAfter.h"

#include "HttpHeaders.h"

#include <QDateTime>
#include <algorithm>
#include <cctype>

namespace sluice {
namespace {

// Epoch ms of an RFC 3339 or HTTP date, or -1.
qint64 parseTimeMs(QByteArrayView text)
{
    const QString s = QString::fromLatin1(text).trimmed();
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::RFC2822Date);
    return t.isValid() ? t.toMSecsSinceEpoch() : -1;
}

// The wait until the reset of one limit family ("requests", "tokens", ...), or -1.
struct Reset
{
    qint64 waitMs = -1;
    bool exhausted = false;
};

}  // namespace

qint64 UpstreamRetryAfter::parseDurationMs(QByteArrayView text)
{
    const QByteArray s = text.trimmed().toByteArray();
    if (s.isEmpty())
        return -1;
    double total = 0;
    qsizetype i = 0;
    while (i < s.size()) {
        const qsizetype start = i;
        while (i < s.size() && (std::isdigit(uchar(s[i])) || s[i] == '.'))
            ++i;
        bool ok = false;
        const double n = s.mid(start, i - start).toDouble(&ok);
        if (!ok)
            return -1;
        if (s.mid(i).startsWith("ms")) {
            total += n;
            i += 2;
        } else if (i < s.size() && s[i] == 's') {
            total += n * 1000;
            ++i;
        } else if (i < s.size() && s[i] == 'm') {
            total += n * 60'000;
            ++i;
        } else if (i < s.size() && s[i] == 'h') {
            total += n * 3'600'000;
            ++i;
        } else {
            return -1;
        }
    }
    return qint64(total + 0.5);
}

qint64 UpstreamRetryAfter::waitMs(const HttpHeaders &h, qint64 nowMs)
{
    const auto clamp = [](qint64 ms) { return std::clamp<qint64>(ms, 0, kMaxMs); };
    bool ok = false;
    const double ms = h.value("retry-after-ms").trimmed().toDouble(&ok);
    if (ok && ms >= 0)
        return clamp(qint64(ms));
    const QByteArray retryAfter = h.value("Retry-After").trimmed();
    if (!retryAfter.isEmpty()) {
        const qint64 seconds = retryAfter.toLongLong(&ok);
        if (ok && seconds >= 0)
            return clamp(seconds * 1000);
        if (const qint64 at = parseTimeMs(retryAfter); at >= 0)
            return clamp(at - nowMs);
    }
    // The provider's per-limit resets: the latest among exhausted limits, else the latest.
    QList<Reset> resets;
    for (const char *family : {"requests", "tokens"}) {
        Reset r;
        const QByteArray f(family);
        r.waitMs = parseDurationMs(h.value("x-ratelimit-reset-" + f));
        r.exhausted = h.value("x-ratelimit-remaining-" + f).trimmed() == "0";
        resets << r;
    }
    for (const char *family : {"requests", "tokens", "input-tokens", "output-tokens"}) {
        Reset r;
        const QByteArray prefix = "anthropic-ratelimit-" + QByteArray(family);
        if (const qint64 at = parseTimeMs(h.value(prefix + "-reset")); at >= 0)
            r.waitMs = std::max<qint64>(0, at - nowMs);
        r.exhausted = h.value(prefix + "-remaining").trimmed() == "0";
        resets << r;
    }
    qint64 exhausted = -1;
    qint64 any = -1;
    for (const Reset &r : resets) {
        any = std::max(any, r.waitMs);
        if (r.exhausted)
            exhausted = std::max(exhausted, r.waitMs);
    }
    if (exhausted >= 0)
        return clamp(exhausted);
    if (any >= 0)
        return clamp(any);
    return kDefaultMs;
}

}  // namespace sluice
