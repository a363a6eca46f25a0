#include "RedisConnection.h"

#include "CounterFamily.h"
#include "HistogramFamily.h"
#include "LogCategories.h"
#include "RedisMetrics.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <QSocketNotifier>
#include <algorithm>
#include <chrono>

namespace sluice {
namespace {

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

qint64 steadyMs()
{
    return steadyNs() / 1'000'000;
}

constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 5000;

}  // namespace

struct RedisConnection::Pending
{
    RedisConnection *owner = nullptr;
    Callback callback;  // empty for AUTH/SELECT: a failure there drops the connection
    const char *name = "";
    qint64 sentNs = 0;
    qint64 deadlineMs = 0;
    bool done = false;
    bool setup = false;  // AUTH or SELECT of a new connection
    bool sent = false;   // handed to hiredis (which then owns its end: onReply() runs once)
    // A command made while AUTH/SELECT are unanswered waits here: sent behind them, it would
    // run as the wrong user or in the wrong database when they fail.
    QList<QByteArray> held;
};

RedisConnection::RedisConnection(Options options, RedisMetrics *metrics, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_metrics(metrics)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &RedisConnection::onTimeoutCheck);
}

RedisConnection::~RedisConnection()
{
    // Nobody is left to hear the answers: drop the callbacks, then free the context (which
    // runs onReply() for each pending command with a null reply).
    for (Pending *p : m_inflight) {
        p->done = true;
        p->callback = nullptr;
    }
    if (m_ctx)
        redisAsyncFree(m_ctx);
    for (Pending *p : m_inflight)
        delete p;
    m_inflight.clear();
}

RedisConnection::Pending *RedisConnection::newPending(const char *name, Callback callback)
{
    auto *p = new Pending;
    p->owner = this;
    p->callback = std::move(callback);
    p->name = name;
    p->sentNs = steadyNs();
    p->deadlineMs = steadyMs() + m_options.commandTimeoutMs;
    return p;
}

bool RedisConnection::send(Pending *p, const QList<QByteArray> &argv)
{
    std::vector<const char *> args;
    std::vector<size_t> lens;
    args.reserve(size_t(argv.size()));
    lens.reserve(size_t(argv.size()));
    for (const QByteArray &a : argv) {
        args.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    if (redisAsyncCommandArgv(m_ctx, &RedisConnection::onReply, p, int(args.size()), args.data(),
                              lens.data()) != REDIS_OK)
        return false;
    p->sent = true;
    return true;
}

QByteArray RedisConnection::sendError() const
{
    // A context refuses commands once it is disconnecting (its errstr says why) or being freed
    // (errstr empty).
    return m_ctx && m_ctx->errstr[0] ? QByteArray(m_ctx->errstr) : QByteArray("connection closing");
}

void RedisConnection::failSoon(const char *name, Callback callback, const QByteArray &why)
{
    m_metrics->commands.inc({name});
    m_metrics->errors.inc({name});
    if (callback) {
        QMetaObject::invokeMethod(
            this, [callback = std::move(callback), why] { callback(nullptr, why); },
            Qt::QueuedConnection);
    }
}

bool RedisConnection::connectIfNeeded(QByteArray *why)
{
    if (m_ctx)
        return true;
    const qint64 now = steadyMs();
    if (now < m_retryAtMs) {
        *why = "not connected (" + m_lastError + "); next attempt in " +
               QByteArray::number(m_retryAtMs - now) + " ms";
        return false;
    }
    const RedisUrl &url = m_options.url;
    redisAsyncContext *ctx = url.transport == RedisUrl::Transport::Unix
                                 ? redisAsyncConnectUnix(url.socketPath.toLocal8Bit().constData())
                                 : redisAsyncConnect(url.host.toUtf8().constData(), url.port);
    if (!ctx || ctx->err) {
        scheduleRetry(ctx ? QByteArray(ctx->errstr) : QByteArray("out of memory"));
        if (ctx)
            redisAsyncFree(ctx);
        *why = "cannot connect: " + m_lastError;
        return false;
    }
    m_ctx = ctx;
    m_connected = false;
    ctx->data = this;
    ctx->ev.data = this;
    ctx->ev.addRead = &RedisConnection::hookAddRead;
    ctx->ev.delRead = &RedisConnection::hookDelRead;
    ctx->ev.addWrite = &RedisConnection::hookAddWrite;
    ctx->ev.delWrite = &RedisConnection::hookDelWrite;
    ctx->ev.cleanup = &RedisConnection::hookCleanup;
    const int fd = ctx->c.fd;
    m_read = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    m_read->setEnabled(false);
    connect(m_read, &QSocketNotifier::activated, this, [this] {
        if (m_ctx)
            redisAsyncHandleRead(m_ctx);  // may free the context: hookCleanup nulls m_ctx
    });
    m_write = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    m_write->setEnabled(false);
    connect(m_write, &QSocketNotifier::activated, this, [this] {
        if (m_ctx)
            redisAsyncHandleWrite(m_ctx);
    });
    redisAsyncSetConnectCallback(ctx, &RedisConnection::onConnected);
    redisAsyncSetDisconnectCallback(ctx, &RedisConnection::onDisconnected);

    // AUTH and SELECT go first on the new connection; commands wait until they succeeded.
    m_setupLeft = 0;
    m_setupError.clear();
    QList<QList<QByteArray>> setup;
    if (!url.password.isEmpty()) {
        setup << (url.username.isEmpty()
                      ? QList<QByteArray>{"AUTH", url.password.toUtf8()}
                      : QList<QByteArray>{"AUTH", url.username.toUtf8(), url.password.toUtf8()});
    }
    if (url.db != 0)
        setup << QList<QByteArray>{"SELECT", QByteArray::number(url.db)};
    for (const QList<QByteArray> &argv : setup) {
        Pending *p = newPending(argv.first() == "AUTH" ? "auth" : "select", nullptr);
        p->setup = true;
        if (!send(p, argv)) {  // a fresh context takes commands; be safe anyway
            delete p;
            *why = "cannot connect: " + sendError();
            scheduleRetry(*why);
            disconnectNow(*why);
            return false;
        }
        m_inflight.push_back(p);
        ++m_setupLeft;
    }
    if (!m_timer.isActive())
        armTimer();
    return true;
}

void RedisConnection::command(const QList<QByteArray> &argv, const char *name, Callback callback)
{
    QByteArray why;
    if (!connectIfNeeded(&why)) {
        failSoon(name, std::move(callback), why);
        return;
    }
    if (!m_setupError.isEmpty()) {  // AUTH or SELECT failed: this connection is being dropped
        failSoon(name, std::move(callback), m_setupError);
        return;
    }
    Pending *p = newPending(name, std::move(callback));
    if (m_setupLeft > 0) {
        p->held = argv;  // sent once AUTH and SELECT succeeded
    } else if (!send(p, argv)) {
        failSoon(name, std::move(p->callback), sendError());
        delete p;
        return;
    }
    m_inflight.push_back(p);
    if (!m_timer.isActive())
        armTimer();
}

void RedisConnection::setupDone(Pending *p, bool ok, const QByteArray &error)
{
    if (ok) {
        // (A SELECT may still succeed after a failed AUTH, as the default user.)
        if (--m_setupLeft > 0 || !m_setupError.isEmpty())
            return;
        // Connected as the right user to the right database: send what waited, in order.
        const std::deque<Pending *> waiting = m_inflight;  // (a failed send may run callbacks)
        for (Pending *w : waiting) {
            if (w->sent || w->done || w->setup)
                continue;
            if (send(w, w->held)) {
                w->held.clear();
                continue;
            }
            m_inflight.erase(std::find(m_inflight.begin(), m_inflight.end(), w));
            failSoon(w->name, std::move(w->callback), sendError());
            w->done = true;
            delete w;
        }
        return;
    }
    if (!m_setupError.isEmpty())
        return;  // SELECT after a failed AUTH: said already
    // Nothing on this connection can work: what waited fails, and the connection is dropped
    // (not from inside hiredis's callback).
    m_setupError = p->name + QByteArray(" failed: ") + error;
    qCWarning(lcGateway).noquote() << "redis" << m_setupError;
    scheduleRetry(m_setupError);
    failHeld(m_setupError);
    QTimer::singleShot(0, this, [this, ctx = m_ctx] {
        if (m_ctx && m_ctx == ctx && !m_setupError.isEmpty())
            disconnectNow(m_setupError);
    });
}

void RedisConnection::failHeld(const QByteArray &why)
{
    // Taken out first: their callbacks may send new commands.
    std::vector<Pending *> held;
    for (auto it = m_inflight.begin(); it != m_inflight.end();) {
        if (!(*it)->sent && !(*it)->setup) {
            held.push_back(*it);
            it = m_inflight.erase(it);
        } else {
            ++it;
        }
    }
    for (Pending *p : held) {
        finish(p, nullptr, why);
        delete p;
    }
}

void RedisConnection::finish(Pending *p, const redisReply *reply, const QByteArray &error)
{
    if (p->done)
        return;
    p->done = true;
    m_metrics->commands.inc({p->name});
    if (reply) {
        m_metrics->duration.observe({}, double(steadyNs() - p->sentNs) / 1e9);
        m_backoffMs = 0;
    } else {
        m_metrics->errors.inc({p->name});
    }
    if (p->setup) {
        setupDone(p, reply != nullptr, error);
    } else if (p->callback) {
        Callback cb = std::move(p->callback);
        cb(reply, error);
    }
}

void RedisConnection::onReply(redisAsyncContext *ctx, void *r, void *privdata)
{
    auto *p = static_cast<Pending *>(privdata);
    RedisConnection *self = p->owner;
    auto it = std::find(self->m_inflight.begin(), self->m_inflight.end(), p);
    if (it != self->m_inflight.end())
        self->m_inflight.erase(it);
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply) {
        const QByteArray why = ctx && ctx->err && ctx->errstr ? QByteArray(ctx->errstr)
                                                              : QByteArray("connection lost");
        if (!p->done)
            self->scheduleRetry(why);
        self->finish(p, nullptr, "connection lost: " + why);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        self->finish(p, nullptr, QByteArray(reply->str, qsizetype(reply->len)));
    } else {
        self->finish(p, reply, {});
    }
    delete p;
}

void RedisConnection::armTimer()
{
    for (const Pending *p : m_inflight) {
        if (!p->done) {
            m_timer.start(int(std::max<qint64>(0, p->deadlineMs - steadyMs())));
            return;
        }
    }
}

void RedisConnection::onTimeoutCheck()
{
    const qint64 now = steadyMs();
    const Pending *oldest = nullptr;
    for (const Pending *p : m_inflight) {
        if (!p->done) {
            oldest = p;
            break;
        }
    }
    if (!oldest)
        return;
    if (oldest->deadlineMs > now) {
        armTimer();
        return;
    }
    // The oldest command is late, and every later one waits behind it on this connection.
    scheduleRetry("timeout after " + QByteArray::number(m_options.commandTimeoutMs) + " ms");
    disconnectNow("timeout");
}

void RedisConnection::disconnectNow(const QByteArray &why)
{
    if (m_ctx && (m_ctx->c.flags & REDIS_IN_CALLBACK)) {
        // hiredis would only free the context once its callback returned, after a new one may
        // have taken its place: drop it from the event loop instead.
        QTimer::singleShot(0, this, [this, why, ctx = m_ctx] {
            if (m_ctx == ctx)
                disconnectNow(why);
        });
        return;
    }
    // Every pending command fails, but only once the context is gone: a callback that sends a
    // new command then starts a new connection instead of queueing on the dying one.
    std::vector<Callback> callbacks;
    for (auto it = m_inflight.begin(); it != m_inflight.end();) {
        Pending *p = *it;
        if (!p->done) {
            p->done = true;
            m_metrics->commands.inc({p->name});
            m_metrics->errors.inc({p->name});
            if (p->callback)
                callbacks.push_back(std::move(p->callback));
        }
        if (p->sent) {
            ++it;
        } else {
            // Never reached hiredis (waiting for AUTH/SELECT): ours to free.
            it = m_inflight.erase(it);
            delete p;
        }
    }
    if (m_ctx)
        redisAsyncFree(m_ctx);  // runs onReply() for what hiredis holds: all done, just freed
    m_ctx = nullptr;
    for (Callback &cb : callbacks)
        cb(nullptr, why);
}

void RedisConnection::scheduleRetry(const QByteArray &why)
{
    // Once per failure: several commands failing together do not multiply the backoff.
    m_lastError = why;
    if (!m_options.backoff)
        return;
    const qint64 now = steadyMs();
    if (m_retryAtMs > now)
        return;
    m_backoffMs = m_backoffMs ? std::min(m_backoffMs * 2, kMaxBackoffMs) : kFirstBackoffMs;
    m_retryAtMs = now + m_backoffMs;
}

void RedisConnection::hookAddRead(void *self)
{
    if (auto *c = static_cast<RedisConnection *>(self); c->m_read)
        c->m_read->setEnabled(true);
}

void RedisConnection::hookDelRead(void *self)
{
    if (auto *c = static_cast<RedisConnection *>(self); c->m_read)
        c->m_read->setEnabled(false);
}

void RedisConnection::hookAddWrite(void *self)
{
    if (auto *c = static_cast<RedisConnection *>(self); c->m_write)
        c->m_write->setEnabled(true);
}

void RedisConnection::hookDelWrite(void *self)
{
    if (auto *c = static_cast<RedisConnection *>(self); c->m_write)
        c->m_write->setEnabled(false);
}

void RedisConnection::hookCleanup(void *self)
{
    // hiredis is about to free the context: forget it, and never touch its socket again.
    auto *c = static_cast<RedisConnection *>(self);
    for (QSocketNotifier *n : {c->m_read, c->m_write}) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
        }
    }
    c->m_read = nullptr;
    c->m_write = nullptr;
    c->m_ctx = nullptr;
    c->m_connected = false;
    c->m_setupLeft = 0;
    c->m_setupError.clear();
}

void RedisConnection::onConnected(const redisAsyncContext *ctx, int status)
{
    auto *c = static_cast<RedisConnection *>(ctx->data);
    if (status == REDIS_OK) {
        c->m_connected = true;
    } else {
        c->scheduleRetry(ctx->errstr ? QByteArray(ctx->errstr) : QByteArray("connect failed"));
    }
}

void RedisConnection::onDisconnected(const redisAsyncContext *ctx, int status)
{
    auto *c = static_cast<RedisConnection *>(ctx->data);
    if (status != REDIS_OK) {
        c->m_lastError = ctx->errstr ? QByteArray(ctx->errstr) : QByteArray("connection lost");
        qCWarning(lcGateway).noquote() << "redis connection lost:" << c->m_lastError;
    }
}

}  // namespace sluice
