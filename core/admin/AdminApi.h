#pragma once

#include "AdminService.h"
#include "AdminToken.h"
#include "DatabaseThread.h"
#include "HttpResponder.h"
#include "Router.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QMutex>
#include <QString>
#include <QUrlQuery>
#include <functional>
#include <memory>
#include <optional>

namespace sluice {

// The admin REST API (/admin/v1): users, API keys, tiers and per-principal defaults as JSON,
// behind the admin bearer token. It only translates HTTP to AdminService calls and back; every
// call runs on a DatabaseThread, so the admin listener's HTTP thread never waits on SQL, and
// the answer is posted back to the worker that owns the request. docs/admin-api.md is the
// reference of the routes.
class AdminApi
{
public:
    // The admin listener's request body limit: admin bodies are small JSON objects, and the
    // server refuses a larger one with 413 before any handler (or the token check) runs.
    static constexpr qint64 MaxBodyBytes = 1024 * 1024;

    // `db` runs the AdminService calls and must outlive every job posted to it; `token` empty
    // means none is configured (every call answers 503).
    AdminApi(DatabaseThread &db, const QString &token);
    ~AdminApi();
    AdminApi(const AdminApi &) = delete;
    AdminApi &operator=(const AdminApi &) = delete;

    bool isTokenConfigured() const { return m_token.isConfigured(); }

    // The thread GET /admin/v1/usage reads the usage ledger on: a connection to the ledger
    // database (--ledger-db). Without one the ledger is read through `db`, which is right only
    // when the ledger shares the identity database (the default). Call it before
    // registerRoutes(); `ledger` must outlive every job posted to it, like `db`.
    void setLedgerDatabase(DatabaseThread *ledger) { m_ledgerDb = ledger; }

    // What the monitoring routes (series, traffic, overview, health) read; the Gateway sets
    // it. Every function is called on the admin listener's worker thread, so each must be
    // thread-safe. Without it those routes answer 503.
    struct Monitor
    {
        std::function<QJsonObject(int seconds)> series;  // {"interval_seconds","points"}
        std::function<QJsonArray(int limit)> traffic;    // newest first
        std::function<QJsonObject()> overview;
        std::function<bool()> paused;
        std::function<void(bool)> setPaused;  // any thread
        // Calls `done` on `context`'s thread with the health report's JSON; with `checkNow` a
        // new round is run first instead of answering from the cache.
        std::function<void(QObject *context, bool checkNow,
                           std::function<void(QByteArray json)> done)>
            health;
    };
    void setMonitor(Monitor monitor) { m_monitor = std::move(monitor); }

    // Adds every /admin/v1 route to the admin listener's router. The handlers use `this`, so
    // the AdminApi must outlive the front end serving that router.
    void registerRoutes(Router &router);

    // Stops handing database results to the HTTP workers, and refuses new calls with 503. Call
    // it (main thread) before the admin front end stops, since stopping deletes the workers a
    // late database job would otherwise post to.
    void close();

private:
    // One authenticated request on its way to a handler.
    struct Call
    {
        HttpResponder responder;
        QString actor;    // who the audit log names: "admin-api@PEER"
        QString item;     // the decoded {id}/{name} path segment of item routes
        QUrlQuery query;  // decoded query parameters
    };
    using Handler = void (AdminApi::*)(Call &);
    // Runs on the database thread and builds the whole answer there.
    using Job = std::function<HttpResponse(AdminService &)>;
    // The same on the ledger database's thread (violations, alerts).
    using LedgerJob = std::function<HttpResponse(DatabaseConnection &)>;

    // Whether results may still be posted to the workers; shared with queued jobs, which
    // may outlive the AdminApi.
    struct Gate
    {
        QMutex mutex;
        bool open = true;
    };

    RouteHandler route(const QByteArray &prefix, Handler handler);
    RouteHandler methodNotAllowed(const QByteArray &allow);
    bool authorize(HttpResponder &responder) const;
    void run(Call &call, Job job);
    void runOnLedger(Call &call, LedgerJob job);
    // Posts `job` to `db` unless the gate is closed (then false, nothing posted).
    static bool postIfOpen(const std::shared_ptr<Gate> &gate, DatabaseThread &db,
                           DatabaseThread::Job job);
    // Hands an answer built on a database thread to the responder's worker, unless the gate
    // closed meanwhile.
    static void deliver(const std::shared_ptr<Gate> &gate, const HttpResponder &responder,
                        HttpResponse response);

    // Request helpers; each answers the error itself and returns false / nullopt.
    static bool onlyParameters(Call &call, const QStringList &allowed);
    static std::optional<QJsonObject> jsonBody(Call &call);
    // jsonBody() read by `fromJson` (an IdentityJson reader: body, AdminError *).
    template <typename FromJson>
    static auto parsedBody(Call &call, FromJson fromJson)
        -> decltype(fromJson(QJsonObject(), nullptr));
    static std::optional<Page> page(Call &call);
    // from/to as GET /admin/v1/usage takes them (to after from); invalid when absent.
    static bool timeRange(Call &call, QDateTime *from, QDateTime *to);
    // A whole-number id parameter (user_id, key_id); nullopt when absent.
    static bool idParameter(Call &call, const QString &name, std::optional<qint64> *id);
    // A whole number in [1, max] (seconds, limit); `fallback` when absent.
    static std::optional<int> boundedParameter(Call &call, const QString &name, int fallback,
                                               int max);
    // False (and a 503 answered) when the Gateway set no monitor.
    bool monitorAvailable(Call &call) const;

    void listUsers(Call &call);
    void createUser(Call &call);
    void getUser(Call &call);
    void updateUser(Call &call);
    void listKeys(Call &call);
    void createKey(Call &call);
    void getKey(Call &call);
    void updateKey(Call &call);
    void revokeKey(Call &call);
    void listTiers(Call &call);
    void getTier(Call &call);
    void putTier(Call &call);
    void patchTier(Call &call);
    void setTier(Call &call, bool replace);
    void getDefaults(Call &call);
    void getPrincipalDefaults(Call &call);
    void putPrincipalDefaults(Call &call);
    void patchPrincipalDefaults(Call &call);
    void setPrincipalDefaults(Call &call, bool replace);
    void usage(Call &call);
    void violations(Call &call);
    void alerts(Call &call);
    void series(Call &call);
    void traffic(Call &call);
    void overview(Call &call);
    void serving(Call &call);
    void setServing(Call &call);
    void health(Call &call);
    void checkHealth(Call &call);
    void answerHealth(Call &call, bool checkNow);
    void notFound(Call &call);

    DatabaseThread &m_db;
    DatabaseThread *m_ledgerDb = nullptr;
    AdminToken m_token;
    std::shared_ptr<Gate> m_gate;
    Monitor m_monitor;
};

}  // namespace sluice
