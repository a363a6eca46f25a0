#include "RedisLimitStore.h"

#include "LimitScripts.h"
#include "MemoryLimitStore.h"

#include <hiredis/hiredis.h>
#include <QMetaObject>

namespace sluice {
namespace {

constexpr int kMaxRememberedDenials = 10000;  // per thread; cleared when full
// Tokens come back when requests settle, on any worker of any gateway: a denial by a token
// limit may lift long before the time it names (the end of the month), so it is remembered
// only briefly.
constexpr qint64 kTokenDenialMemoryUs = 1'000'000;

int kindCode(LimitKind kind)
{
    switch (kind) {
        case LimitKind::RequestRate:
            return 0;
        case LimitKind::RequestsPerMinute:
            return 1;
        case LimitKind::TokensPerMinute:
            return 2;
        case LimitKind::MonthlyRequests:
            return 3;
        case LimitKind::MonthlyTokens:
            return 4;
        case LimitKind::Concurrency:
            return 5;
    }
    return 0;
}

QByteArray num(double v)
{
    return QByteArray::number(v, 'g', 17);
}

bool sameRules(const std::vector<LimitRule> &a, const std::vector<LimitRule> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].key != b[i].key || a[i].kind != b[i].kind || a[i].limit != b[i].limit ||
            a[i].burst != b[i].burst)
            return false;
    }
    return true;
}

}  // namespace

RedisLimitStore::RedisLimitStore(Options options, RedisMetrics &metrics)
    : m_options(std::move(options)),
      m_metrics(metrics),
      m_decideSha(LimitScripts::sha1(LimitScripts::decide())),
      m_settleSha(LimitScripts::sha1(LimitScripts::settle())),
      m_seedSha(LimitScripts::sha1(LimitScripts::seedMonthly())),
      m_releaseSha(LimitScripts::sha1(LimitScripts::release()))
{}

RedisLimitStore::~RedisLimitStore()
{
    // Worker threads' states went with their threads; this one's goes now.
    if (m_threads.hasLocalData())
        m_threads.setLocalData(nullptr);
}

RedisLimitStore::ThreadState &RedisLimitStore::state()
{
    if (!m_threads.hasLocalData()) {
        auto *s = new ThreadState;
        s->connection = std::make_unique<RedisConnection>(
            // No reconnect backoff: while Redis is away the fallback store decides and paces
            // the probes; once it is back, every worker reconnects at once.
            RedisConnection::Options{m_options.url, m_options.timeoutMs, m_options.timeoutMs,
                                     false},
            &m_metrics);
        m_threads.setLocalData(s);
    }
    return *m_threads.localData();
}

void RedisLimitStore::evalScript(const QByteArray &script, const QByteArray &sha,
                                 const QList<QByteArray> &keys, const QList<QByteArray> &args,
                                 RedisConnection::Callback callback)
{
    QList<QByteArray> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv << "EVALSHA" << sha << QByteArray::number(keys.size());
    argv << keys << args;
    RedisConnection *conn = state().connection.get();
    conn->command(argv, "evalsha",
                  [conn, script, argv, callback = std::move(callback)](
                      const redisReply *reply, const QByteArray &error) mutable {
                      if (reply || !error.startsWith("NOSCRIPT")) {
                          callback(reply, error);
                          return;
                      }
                      // Script cache flushed (SCRIPT FLUSH, a restarted Redis): EVAL carries
                      // the script and loads it again for every later EVALSHA.
                      argv[0] = "EVAL";
                      argv[1] = script;
                      conn->command(argv, "eval", std::move(callback));
                  });
}

LimitDecision RedisLimitStore::parse(const LimitRequest &request, const redisReply *reply) const
{
    LimitDecision d;
    d.store = "redis";
    d.rules = request.rules;
    d.cost = request.cost;
    d.tokenEstimate = request.tokenEstimate;
    const size_t n = request.rules.size();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 + 5 * n) {
        d.failed = true;
        d.error = "unexpected reply to the decision script";
        return d;
    }
    const auto at = [reply](size_t i) {
        const redisReply *e = reply->element[i];
        return e->type == REDIS_REPLY_INTEGER ? e->integer : 0;
    };
    d.allowed = at(0) == 1;
    d.nowUs = at(1);
    d.statuses.resize(n);
    // The denial the answer names, as MemoryLimitStore: a rule the request never fits (waiting
    // will not help), else the longest wait.
    std::pair<bool, qint64> worst{false, -1};
    for (size_t i = 0; i < n; ++i) {
        LimitStatus &st = d.statuses[i];
        const size_t b = 2 + 5 * i;
        st.rule = int(i);
        st.allowed = at(b) == 1;
        st.remaining = double(at(b + 1));
        st.resetUs = at(b + 2);
        st.retryAfterUs = at(b + 3);
        st.neverFits = at(b + 4) == 1;
        if (!st.allowed && std::pair<bool, qint64>{st.neverFits, st.retryAfterUs} > worst) {
            worst = {st.neverFits, st.retryAfterUs};
            d.denied = int(i);
        }
    }
    return d;
}

bool RedisLimitStore::answerFromDenials(ThreadState &s, const LimitRequest &request,
                                        const Done &done)
{
    if (s.denials.isEmpty())
        return false;
    const qint64 now = MemoryLimitStore::nowUs();
    for (const LimitRule &rule : request.rules) {
        auto it = s.denials.find(rule.key);
        if (it == s.denials.end())
            continue;
        if (it->untilUs <= now) {
            s.denials.erase(it);
            continue;
        }
        // Only the same rules (an edited limit goes to Redis) and a request at least as
        // large can be refused without asking.
        if (!sameRules(it->decision.rules, request.rules) || request.cost < it->cost ||
            request.tokenEstimate < it->tokens)
            continue;
        LimitDecision d = it->decision;
        const qint64 elapsed = now - it->atUs;
        d.nowUs += elapsed;
        for (LimitStatus &st : d.statuses) {
            st.resetUs = std::max<qint64>(0, st.resetUs - elapsed);
            st.retryAfterUs = std::max<qint64>(0, st.retryAfterUs - elapsed);
        }
        QMetaObject::invokeMethod(
            s.connection.get(), [done, d = std::move(d)]() mutable { done(std::move(d)); },
            Qt::QueuedConnection);
        return true;
    }
    return false;
}

void RedisLimitStore::rememberDenial(ThreadState &s, const LimitRequest &request,
                                     const LimitDecision &d)
{
    if (d.denied < 0)
        return;
    if (s.denials.size() >= kMaxRememberedDenials)
        s.denials.clear();
    const LimitRule &rule = request.rules[size_t(d.statuses[size_t(d.denied)].rule)];
    CachedDenial c;
    c.atUs = MemoryLimitStore::nowUs();
    c.untilUs = c.atUs + (rule.countsTokens() ? std::min(d.retryAfterUs(), kTokenDenialMemoryUs)
                                              : d.retryAfterUs());
    c.cost = request.cost;
    c.tokens = request.tokenEstimate;
    c.decision = d;
    s.denials.insert(rule.key, c);
}

void RedisLimitStore::decideArguments(const LimitRequest &request, const QByteArray &keyPrefix,
                                      QList<QByteArray> *keys, QList<QByteArray> *args)
{
    keys->reserve(qsizetype(request.rules.size()));
    args->reserve(2 + 3 * qsizetype(request.rules.size()));
    *args << num(request.cost) << num(request.tokenEstimate);
    for (const LimitRule &r : request.rules) {
        *keys << keyPrefix + r.key;
        *args << QByteArray::number(kindCode(r.kind)) << num(r.limit) << num(r.burst);
    }
}

void RedisLimitStore::decide(const LimitRequest &request, Done done)
{
    ThreadState &s = state();
    if (request.rules.empty()) {
        LimitDecision d;
        d.store = "redis";
        d.nowUs = MemoryLimitStore::nowUs();
        done(std::move(d));
        return;
    }
    if (answerFromDenials(s, request, done))
        return;
    QList<QByteArray> keys;
    QList<QByteArray> args;
    decideArguments(request, m_options.keyPrefix, &keys, &args);
    evalScript(
        LimitScripts::decide(), m_decideSha, keys, args,
        [this, request, done = std::move(done)](const redisReply *reply, const QByteArray &error) {
            LimitDecision d;
            if (reply) {
                d = parse(request, reply);
            } else {
                d.store = "redis";
                d.rules = request.rules;
                d.failed = true;
                d.error = error;
            }
            if (!d.failed && !d.allowed)
                rememberDenial(state(), request, d);
            done(std::move(d));
        });
}

void RedisLimitStore::settle(const LimitSettlement &settlement)
{
    QList<QByteArray> keys;
    QList<QByteArray> args{num(settlement.tokenDelta)};
    for (const LimitRule &r : settlement.rules) {
        if (!r.countsTokens())
            continue;
        keys << m_options.keyPrefix + r.key;
        args << QByteArray::number(kindCode(r.kind));
    }
    if (keys.isEmpty())
        return;
    if (settlement.tokenDelta < 0) {
        // Tokens given back may make room for a request this thread remembers as denied.
        ThreadState &s = state();
        for (const LimitRule &r : settlement.rules)
            s.denials.remove(r.key);
    }
    // Fire and forget: a lost settlement leaves the estimate in place, which errs on the safe
    // side (the reservation was at least the estimate).
    evalScript(LimitScripts::settle(), m_settleSha, keys, args,
               [](const redisReply *, const QByteArray &) {});
}

void RedisLimitStore::release(const std::vector<LimitRule> &rules, const char *)
{
    QList<QByteArray> keys;
    for (const LimitRule &r : rules) {
        if (r.kind == LimitKind::Concurrency)
            keys << m_options.keyPrefix + r.key;
    }
    if (!keys.isEmpty())
        evalScript(LimitScripts::release(), m_releaseSha, keys, {},
                   [](const redisReply *, const QByteArray &) {});
}

void RedisLimitStore::seedMonthly(const LimitRule &rule, double used)
{
    evalScript(LimitScripts::seedMonthly(), m_seedSha, {m_options.keyPrefix + rule.key},
               {num(used)}, [](const redisReply *, const QByteArray &) {});
}

}  // namespace sluice
