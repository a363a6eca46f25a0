#pragma once

#include "RedisUrl.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>

struct redisAsyncContext;
struct redisReply;
class QSocketNotifier;

namespace sluice {

struct RedisMetrics;

// One asynchronous hiredis connection driven by the Qt event loop of the thread it lives in.
//
// hiredis 0.14.1's own adapters/qt.h touches freed memory once Redis drops the connection, so
// this class is its own adapter: two QSocketNotifiers switched by hiredis's addRead/delRead/
// addWrite/delWrite hooks, and a cleanup hook that forgets the context the moment hiredis frees
// it. Async commands have no timeout in hiredis: every command carries a deadline, and when the
// oldest one passes, the connection is dropped (everything behind it would wait just as long),
// its commands fail, and the next command reconnects, no sooner than an exponential backoff
// (100 ms doubling to 5 s) allows. Commands wait for AUTH and SELECT to succeed before they are
// sent, so a failed one never lets them run as another user or in another database.
class RedisConnection : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        RedisUrl url;
        int commandTimeoutMs = 50;
        int connectTimeoutMs = 1000;
        // Wait before reconnecting after a failure (100 ms doubling to 5 s). Off when someone
        // else paces the attempts (the fallback store's probe).
        bool backoff = true;
    };
    // `reply` is null when the command failed; then `error` says why (an error reply's text,
    // "timeout", "connection lost", "not connected").
    using Callback = std::function<void(const redisReply *reply, const QByteArray &error)>;

    RedisConnection(Options options, RedisMetrics *metrics, QObject *parent = nullptr);
    ~RedisConnection() override;

    // Sends `argv`; connects first when needed (AUTH and SELECT go ahead of it). `name` is the
    // metrics label ("evalsha", "ping"). The callback runs exactly once, on this thread, never
    // before command() returns.
    void command(const QList<QByteArray> &argv, const char *name, Callback callback);

    bool isConnected() const { return m_ctx != nullptr; }
    int pending() const { return int(m_inflight.size()); }
    // Drops the connection now; pending commands fail with `why`.
    void disconnectNow(const QByteArray &why);

private:
    struct Pending;
    bool connectIfNeeded(QByteArray *why);
    Pending *newPending(const char *name, Callback callback);
    bool send(Pending *p, const QList<QByteArray> &argv);
    QByteArray sendError() const;
    void failSoon(const char *name, Callback callback, const QByteArray &why);
    void setupDone(Pending *p, bool ok, const QByteArray &error);
    void failHeld(const QByteArray &why);
    void onTimeoutCheck();
    void armTimer();
    void finish(Pending *p, const redisReply *reply, const QByteArray &error);
    void scheduleRetry(const QByteArray &why);

    // hiredis hooks (privdata = this)
    static void hookAddRead(void *self);
    static void hookDelRead(void *self);
    static void hookAddWrite(void *self);
    static void hookDelWrite(void *self);
    static void hookCleanup(void *self);
    static void onReply(redisAsyncContext *ctx, void *reply, void *privdata);
    static void onConnected(const redisAsyncContext *ctx, int status);
    static void onDisconnected(const redisAsyncContext *ctx, int status);

    Options m_options;
    RedisMetrics *m_metrics;
    redisAsyncContext *m_ctx = nullptr;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
    std::deque<Pending *> m_inflight;  // in send order: Redis answers in order
    QTimer m_timer;
    qint64 m_retryAtMs = 0;  // no reconnect before this (steady clock)
    int m_backoffMs = 0;
    bool m_connected = false;  // the TCP/Unix connect completed
    int m_setupLeft = 0;       // AUTH/SELECT of this connection not answered yet
    QByteArray m_setupError;   // set when one of them failed, until the connection is dropped
    QByteArray m_lastError;
};

}  // namespace sluice
