#include "RedisCheck.h"

#include <hiredis/hiredis.h>
#include <QElapsedTimer>
#include <memory>

namespace sluice {

RedisCheck::RedisCheck(RedisUrl url, int timeoutMs, std::function<QByteArray()> fallbackReason)
    : HealthCheck(QStringLiteral("redis"), QStringLiteral("redis"), false),
      m_url(std::move(url)),
      m_timeoutMs(timeoutMs),
      m_fallbackReason(std::move(fallbackReason))
{}

HealthResult RedisCheck::probe()
{
    HealthResult r;
    QElapsedTimer t;
    t.start();
    const timeval tv{m_timeoutMs / 1000, (m_timeoutMs % 1000) * 1000};
    std::unique_ptr<redisContext, decltype(&redisFree)> c(
        m_url.transport == RedisUrl::Transport::Unix
            ? redisConnectUnixWithTimeout(m_url.socketPath.toLocal8Bit().constData(), tv)
            : redisConnectWithTimeout(m_url.host.toUtf8().constData(), m_url.port, tv),
        &redisFree);
    QByteArray error;
    if (!c || c->err) {
        error = c ? QByteArray(c->errstr) : QByteArray("out of memory");
    } else {
        redisSetTimeout(c.get(), tv);
        const auto call = [&](const QList<QByteArray> &argv) -> bool {
            std::vector<const char *> args;
            std::vector<size_t> lens;
            for (const QByteArray &a : argv) {
                args.push_back(a.constData());
                lens.push_back(size_t(a.size()));
            }
            auto *reply = static_cast<redisReply *>(
                redisCommandArgv(c.get(), int(args.size()), args.data(), lens.data()));
            if (!reply) {
                error = c->errstr;
                return false;
            }
            const bool ok = reply->type != REDIS_REPLY_ERROR;
            if (!ok)
                error = QByteArray(reply->str, qsizetype(reply->len));
            freeReplyObject(reply);
            return ok;
        };
        if (!m_url.password.isEmpty()) {
            call(m_url.username.isEmpty()
                     ? QList<QByteArray>{"AUTH", m_url.password.toUtf8()}
                     : QList<QByteArray>{"AUTH", m_url.username.toUtf8(), m_url.password.toUtf8()});
        }
        if (error.isEmpty())
            call({"PING"});
    }
    r.latencyMs = double(t.nsecsElapsed()) / 1e6;
    const QByteArray fallback = m_fallbackReason ? m_fallbackReason() : QByteArray();
    if (!error.isEmpty()) {
        r.status = HealthStatus::Degraded;
        r.message = QStringLiteral("%1 unreachable (%2); rate limits are decided from memory")
                        .arg(m_url.redacted(), QString::fromUtf8(error));
    } else if (!fallback.isEmpty()) {
        r.status = HealthStatus::Degraded;
        r.message = QStringLiteral(
                        "%1 answers again; rate limits still decided from memory "
                        "until the limiter's probe switches back (last error: %2)")
                        .arg(m_url.redacted(), QString::fromUtf8(fallback));
    } else {
        r.status = HealthStatus::Healthy;
        r.message =
            QStringLiteral("%1 answers; rate limits are shared through it").arg(m_url.redacted());
    }
    return r;
}

}  // namespace sluice
