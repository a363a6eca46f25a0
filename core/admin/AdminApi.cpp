#include "AdminApi.h"

#include "DatabaseThread.h"
#include "IdentityJson.h"
#include "IdentityValidation.h"
#include "LimitEventQuery.h"
#include "LimitFields.h"
#include "LogCategories.h"
#include "Timestamp.h"
#include "UsageJson.h"
#include "UsageReport.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sluice {

namespace {

HttpResponse jsonResponse(int status, QByteArray body)
{
    HttpResponse response = HttpResponse::json(status, std::move(body));
    // Admin answers carry account data, and once a plaintext key: no cache may keep them.
    response.headers.add(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return response;
}

HttpResponse jsonResponse(int status, const QJsonObject &json)
{
    return jsonResponse(status, QJsonDocument(json).toJson(QJsonDocument::Compact));
}

// {"error":{"message","type","code","field"}}: OpenAI's error shape plus the field at fault.
HttpResponse errorResponse(int status, const QString &message, const char *type, const char *code,
                           const QString &field = QString())
{
    const QJsonObject error = {
        {QStringLiteral("message"), message},
        {QStringLiteral("type"), QLatin1String(type)},
        {QStringLiteral("code"), QLatin1String(code)},
        {QStringLiteral("field"), field.isEmpty() ? QJsonValue(QJsonValue::Null) : field}};
    return jsonResponse(status, {{QStringLiteral("error"), error}});
}

HttpResponse errorResponse(const AdminError &e)
{
    switch (e.kind) {
        case AdminError::Kind::Invalid:
            return errorResponse(e.httpStatus(), e.message, "invalid_request_error",
                                 "invalid_value", e.field);
        case AdminError::Kind::NotFound:
            return errorResponse(e.httpStatus(), e.message, "not_found_error", "not_found",
                                 e.field);
        case AdminError::Kind::Conflict:
            return errorResponse(e.httpStatus(), e.message, "conflict_error", "conflict", e.field);
        case AdminError::Kind::Internal:
            break;
    }
    // Database trouble: worth an operator's attention, not only the caller's.
    qCWarning(lcGateway).noquote() << "admin API:" << e.message;
    return errorResponse(e.httpStatus(), e.message, "server_error", "internal_error", e.field);
}

template <typename T>
HttpResponse answer(const AdminResult<T> &result, int status = 200)
{
    if (!result.ok())
        return errorResponse(*result.error);
    return jsonResponse(status, IdentityJson::toJson(*result.value));
}

// A 201 for a created resource, with its address.
template <typename T>
HttpResponse created(const AdminResult<T> &result, const char *collection, qint64 id)
{
    HttpResponse response = answer(result, 201);
    if (result.ok())
        response.headers.add(QByteArrayLiteral("Location"),
                             QByteArray(collection) + '/' + QByteArray::number(id));
    return response;
}

// {"data": [...], "next_after": id | null}. A full page may have more after it; the id of its
// last row is where the next page starts.
template <typename T>
HttpResponse listAnswer(const AdminResult<QList<T>> &result, int limit)
{
    if (!result.ok())
        return errorResponse(*result.error);
    QJsonArray data;
    for (const T &row : *result.value)
        data.append(IdentityJson::toJson(row));
    const bool full = !result.value->isEmpty() && result.value->size() >= limit;
    return jsonResponse(
        200, {{QStringLiteral("data"), data},
              {QStringLiteral("next_after"),
               full ? QJsonValue(result.value->last().id) : QJsonValue(QJsonValue::Null)}});
}

// PUT replaces: every limit the body does not set goes back to inheriting.
template <typename Patch>
void clearUnset(Patch &patch)
{
    for (const QString &name : LimitFields::names()) {
        if (LimitFields::value(patch.limits, name).isNull() && !patch.clearLimits.contains(name))
            patch.clearLimits << name;
    }
}

bool isPrincipal(const QString &name)
{
    return name == QLatin1String("user") || name == QLatin1String("key");
}

}  // namespace

AdminApi::AdminApi(DatabaseThread &db, const QString &token)
    : m_db(db), m_token(token), m_gate(std::make_shared<Gate>())
{}

AdminApi::~AdminApi()
{
    close();
}

void AdminApi::close()
{
    QMutexLocker lock(&m_gate->mutex);
    m_gate->open = false;
}

void AdminApi::registerRoutes(Router &router)
{
    struct Resource
    {
        QByteArray path;  // exact path, or with a trailing "/" the prefix of an item route
        QByteArray name;  // the route template: the label of metrics and the access log
        QList<QPair<QByteArray, Handler>> methods;
    };
    const Resource resources[] = {
        {"/admin/v1/users",
         "/admin/v1/users",
         {{"GET", &AdminApi::listUsers}, {"POST", &AdminApi::createUser}}},
        {"/admin/v1/users/",
         "/admin/v1/users/{id}",
         {{"GET", &AdminApi::getUser}, {"PATCH", &AdminApi::updateUser}}},
        {"/admin/v1/keys",
         "/admin/v1/keys",
         {{"GET", &AdminApi::listKeys}, {"POST", &AdminApi::createKey}}},
        {"/admin/v1/keys/",
         "/admin/v1/keys/{id}",
         {{"GET", &AdminApi::getKey},
          {"PATCH", &AdminApi::updateKey},
          {"DELETE", &AdminApi::revokeKey}}},
        {"/admin/v1/tiers", "/admin/v1/tiers", {{"GET", &AdminApi::listTiers}}},
        {"/admin/v1/tiers/",
         "/admin/v1/tiers/{name}",
         {{"GET", &AdminApi::getTier},
          {"PUT", &AdminApi::putTier},
          {"PATCH", &AdminApi::patchTier}}},
        {"/admin/v1/defaults", "/admin/v1/defaults", {{"GET", &AdminApi::getDefaults}}},
        {"/admin/v1/usage", "/admin/v1/usage", {{"GET", &AdminApi::usage}}},
        {"/admin/v1/violations", "/admin/v1/violations", {{"GET", &AdminApi::violations}}},
        {"/admin/v1/alerts", "/admin/v1/alerts", {{"GET", &AdminApi::alerts}}},
        {"/admin/v1/series", "/admin/v1/series", {{"GET", &AdminApi::series}}},
        {"/admin/v1/traffic", "/admin/v1/traffic", {{"GET", &AdminApi::traffic}}},
        {"/admin/v1/overview", "/admin/v1/overview", {{"GET", &AdminApi::overview}}},
        {"/admin/v1/health", "/admin/v1/health", {{"GET", &AdminApi::health}}},
        {"/admin/v1/health/check", "/admin/v1/health/check", {{"POST", &AdminApi::checkHealth}}},
        {"/admin/v1/serving",
         "/admin/v1/serving",
         {{"GET", &AdminApi::serving}, {"PUT", &AdminApi::setServing}}},
        {"/admin/v1/defaults/",
         "/admin/v1/defaults/{principal}",
         {{"GET", &AdminApi::getPrincipalDefaults},
          {"PUT", &AdminApi::putPrincipalDefaults},
          {"PATCH", &AdminApi::patchPrincipalDefaults}}},
    };
    // Every method on every resource gets a handler of ours, the wrong ones a 405, so the
    // token is checked before anything about a route is revealed.
    const QByteArray methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (const Resource &res : resources) {
        const bool item = res.path.endsWith('/');
        QByteArray allow;
        for (const auto &[method, handler] : res.methods)
            allow += (allow.isEmpty() ? "" : ", ") + method + (method == "GET" ? ", HEAD" : "");
        for (const QByteArray &method : methods) {
            RouteHandler handler = methodNotAllowed(allow);
            for (const auto &[m, h] : res.methods) {
                if (m == method)
                    handler = route(item ? res.path : QByteArray(), h);
            }
            if (item)
                router.addPrefix(method, res.path, res.name, std::move(handler));
            else
                router.add(method, res.path, res.name, std::move(handler));
        }
    }
    // Anything else under /admin/ (registered last: prefixes match in order).
    for (const QByteArray &method : methods)
        router.addPrefix(method, "/admin/", "none", route({}, &AdminApi::notFound));
}

RouteHandler AdminApi::route(const QByteArray &prefix, Handler handler)
{
    return [this, prefix, handler](HttpResponder responder) {
        if (!authorize(responder))
            return;
        const HttpRequest &request = responder.request();
        Call call{responder,
                  QStringLiteral("admin-api@") + QString::fromLatin1(request.peerAddress),
                  {},
                  QUrlQuery(QString::fromUtf8(request.head.query()))};
        if (!prefix.isEmpty()) {
            const QByteArrayView rest = request.path().sliced(prefix.size());
            if (rest.isEmpty() || rest.contains('/')) {
                notFound(call);
                return;
            }
            call.item = QString::fromUtf8(QByteArray::fromPercentEncoding(rest.toByteArray()));
        }
        (this->*handler)(call);
    };
}

RouteHandler AdminApi::methodNotAllowed(const QByteArray &allow)
{
    return [this, allow](HttpResponder responder) {
        if (!authorize(responder))
            return;
        const HttpRequest &request = responder.request();
        HttpResponse response = errorResponse(
            405,
            QStringLiteral("method %1 is not allowed on %2; allowed: %3")
                .arg(QString::fromLatin1(request.method()),
                     QString::fromUtf8(request.path().toByteArray()), QString::fromLatin1(allow)),
            "invalid_request_error", "method_not_allowed");
        response.headers.add(QByteArrayLiteral("Allow"), allow);
        responder.send(std::move(response));
    };
}

bool AdminApi::authorize(HttpResponder &responder) const
{
    const QByteArray challenge = QByteArrayLiteral("Bearer realm=\"sluice-admin\"");
    HttpResponse response;
    switch (m_token.check(responder.request().header("Authorization"))) {
        case AdminToken::Check::Ok:
            return true;
        case AdminToken::Check::NotConfigured:
            response = errorResponse(
                503,
                QStringLiteral("the admin API is disabled because no admin token is configured: "
                               "set SLUICE_ADMIN_TOKEN, --admin-token or admin_token in [admin] "
                               "of the INI file, then restart sluice"),
                "server_error", "admin_token_not_configured");
            break;
        case AdminToken::Check::Missing:
            response = errorResponse(
                401, QStringLiteral("missing admin token: send Authorization: Bearer <token>"),
                "authentication_error", "missing_admin_token");
            response.headers.add(QByteArrayLiteral("WWW-Authenticate"), challenge);
            break;
        case AdminToken::Check::Wrong:
            response = errorResponse(401, QStringLiteral("the admin token is not valid"),
                                     "authentication_error", "invalid_admin_token");
            response.headers.add(QByteArrayLiteral("WWW-Authenticate"),
                                 challenge + ", error=\"invalid_token\"");
            break;
    }
    responder.send(std::move(response));
    return false;
}

void AdminApi::run(Call &call, Job job)
{
    std::shared_ptr<Gate> gate = m_gate;
    {
        QMutexLocker lock(&gate->mutex);
        if (!gate->open) {
            call.responder.send(errorResponse(503, QStringLiteral("the gateway is shutting down"),
                                              "server_error", "shutting_down"));
            return;
        }
    }
    m_db.post([responder = call.responder, actor = call.actor, job = std::move(job),
               gate](DatabaseConnection &connection) {
        AdminService service(connection, actor);
        deliver(gate, responder, job(service));
    });
}

void AdminApi::runOnLedger(Call &call, LedgerJob job)
{
    // The ledger may live in a database of its own (--ledger-db).
    const std::shared_ptr<Gate> gate = m_gate;
    const bool posted = postIfOpen(
        gate, m_ledgerDb ? *m_ledgerDb : m_db,
        [responder = call.responder, job = std::move(job), gate](DatabaseConnection &connection) {
            deliver(gate, responder, job(connection));
        });
    if (!posted)
        call.responder.send(errorResponse(503, QStringLiteral("the gateway is shutting down"),
                                          "server_error", "shutting_down"));
}

bool AdminApi::postIfOpen(const std::shared_ptr<Gate> &gate, DatabaseThread &db,
                          DatabaseThread::Job job)
{
    // Under the gate's lock: once close() returned, no job reaches a database thread that may
    // be about to be destroyed.
    QMutexLocker lock(&gate->mutex);
    if (!gate->open)
        return false;
    db.post(std::move(job));
    return true;
}

void AdminApi::deliver(const std::shared_ptr<Gate> &gate, const HttpResponder &responder,
                       HttpResponse response)
{
    // Posting under the gate's lock: close() cannot return (and the workers cannot be
    // deleted) while a result is on its way to one.
    QMutexLocker lock(&gate->mutex);
    if (!gate->open)
        return;
    QMetaObject::invokeMethod(responder.context(), [responder = HttpResponder(responder),
                                                    response = std::move(response)]() mutable {
        responder.send(std::move(response));
    });
}

bool AdminApi::onlyParameters(Call &call, const QStringList &allowed)
{
    const auto items = call.query.queryItems(QUrl::FullyDecoded);
    for (const auto &[name, value] : items) {
        if (allowed.contains(name))
            continue;
        const QString expected = allowed.isEmpty() ? QStringLiteral("this route takes none")
                                                   : QStringLiteral("expected one of ") +
                                                         allowed.join(QStringLiteral(", "));
        call.responder.send(errorResponse(400,
                                          QStringLiteral("unknown query parameter %1; %2")
                                              .arg(IdentityValidation::quoted(name), expected),
                                          "invalid_request_error", "unknown_parameter", name));
        return false;
    }
    return true;
}

std::optional<QJsonObject> AdminApi::jsonBody(Call &call)
{
    const HttpRequest &request = call.responder.request();
    const QByteArray contentType = request.header("Content-Type");
    if (!contentType.isEmpty()) {
        const QByteArray media = contentType.split(';').first().trimmed().toLower();
        if (media != "application/json" && !media.endsWith("+json")) {
            call.responder.send(errorResponse(
                415,
                QStringLiteral("the body must be JSON sent with Content-Type: application/json, "
                               "got %1")
                    .arg(IdentityValidation::quoted(QString::fromLatin1(contentType))),
                "invalid_request_error", "unsupported_media_type"));
            return std::nullopt;
        }
    }
    QString problem;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (request.body.trimmed().isEmpty())
        problem = QStringLiteral("the request body is empty; expected a JSON object");
    else if (parseError.error != QJsonParseError::NoError)
        problem = QStringLiteral("the request body is not valid JSON: %1 at offset %2")
                      .arg(parseError.errorString())
                      .arg(parseError.offset);
    else if (!doc.isObject())
        problem = QStringLiteral("the request body must be a JSON object");
    if (problem.isEmpty())
        return doc.object();
    call.responder.send(errorResponse(400, problem, "invalid_request_error", "invalid_json"));
    return std::nullopt;
}

template <typename FromJson>
auto AdminApi::parsedBody(Call &call, FromJson fromJson)
    -> decltype(fromJson(QJsonObject(), nullptr))
{
    const std::optional<QJsonObject> body = jsonBody(call);
    if (!body)
        return std::nullopt;
    AdminError error;
    auto parsed = fromJson(*body, &error);
    if (!parsed)
        call.responder.send(errorResponse(error));
    return parsed;
}

std::optional<Page> AdminApi::page(Call &call)
{
    Page page;
    auto invalid = [&call](const QString &name, const QString &text) {
        call.responder.send(errorResponse(400,
                                          QStringLiteral("%1 must be a whole number, got %2")
                                              .arg(name, IdentityValidation::quoted(text)),
                                          "invalid_request_error", "invalid_value", name));
    };
    bool ok = true;
    const QString limit = QStringLiteral("limit");
    if (call.query.hasQueryItem(limit)) {
        const QString text = call.query.queryItemValue(limit, QUrl::FullyDecoded);
        page.limit = text.toInt(&ok);
        if (!ok) {
            invalid(limit, text);
            return std::nullopt;
        }
    }
    const QString after = QStringLiteral("after");
    if (call.query.hasQueryItem(after)) {
        const QString text = call.query.queryItemValue(after, QUrl::FullyDecoded);
        page.afterId = text.toLongLong(&ok);
        if (!ok) {
            invalid(after, text);
            return std::nullopt;
        }
    }
    if (const auto e = IdentityValidation::page(page.limit, page.afterId)) {
        call.responder.send(errorResponse(*e));
        return std::nullopt;
    }
    return page;
}

bool AdminApi::timeRange(Call &call, QDateTime *from, QDateTime *to)
{
    const QString fromName = QStringLiteral("from");
    const QString toName = QStringLiteral("to");
    auto invalid = [&call](const QString &field, const QString &message) {
        call.responder.send(
            errorResponse(400, message, "invalid_request_error", "invalid_value", field));
        return false;
    };
    for (const QString &name : {fromName, toName}) {
        if (!call.query.hasQueryItem(name))
            continue;
        const QString text = call.query.queryItemValue(name, QUrl::FullyDecoded);
        const QDateTime t = Timestamp::parse(text);
        if (!t.isValid()) {
            return invalid(name, QStringLiteral("%1 must be an ISO 8601 date (2025-05-01) or "
                                                "date-time (2025-05-01T12:00:00Z), got %2")
                                     .arg(name, IdentityValidation::quoted(text)));
        }
        *(name == fromName ? from : to) = t;
    }
    if (from->isValid() && to->isValid() && *from >= *to) {
        return invalid(toName, QStringLiteral("to (%1) must be after from (%2)")
                                   .arg(Timestamp::toText(*to), Timestamp::toText(*from)));
    }
    return true;
}

bool AdminApi::idParameter(Call &call, const QString &name, std::optional<qint64> *id)
{
    if (!call.query.hasQueryItem(name))
        return true;
    const QString text = call.query.queryItemValue(name, QUrl::FullyDecoded);
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < 1) {
        call.responder.send(errorResponse(400,
                                          QStringLiteral("%1 must be a whole number >= 1, got %2")
                                              .arg(name, IdentityValidation::quoted(text)),
                                          "invalid_request_error", "invalid_value", name));
        return false;
    }
    *id = value;
    return true;
}

// ---- users ----

void AdminApi::listUsers(Call &call)
{
    if (!onlyParameters(call,
                        {QStringLiteral("limit"), QStringLiteral("after"), QStringLiteral("tier"),
                         QStringLiteral("status"), QStringLiteral("name")}))
        return;
    const std::optional<Page> p = page(call);
    if (!p)
        return;
    UserFilter filter;
    filter.tier = call.query.queryItemValue(QStringLiteral("tier"), QUrl::FullyDecoded);
    filter.status = call.query.queryItemValue(QStringLiteral("status"), QUrl::FullyDecoded);
    filter.nameContains = call.query.queryItemValue(QStringLiteral("name"), QUrl::FullyDecoded);
    run(call,
        [filter, p = *p](AdminService &s) { return listAnswer(s.listUsers(filter, p), p.limit); });
}

void AdminApi::createUser(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    const std::optional<NewUser> user = parsedBody(call, IdentityJson::newUserFromJson);
    if (!user)
        return;
    run(call, [user = *user](AdminService &s) {
        const AdminResult<User> r = s.createUser(user);
        return created(r, "/admin/v1/users", r.ok() ? r.value->id : 0);
    });
}

void AdminApi::getUser(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [id = call.item](AdminService &s) { return answer(s.getUser(id)); });
}

void AdminApi::updateUser(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    const std::optional<UserPatch> patch = parsedBody(call, IdentityJson::userPatchFromJson);
    if (!patch)
        return;
    run(call, [id = call.item, patch = *patch](AdminService &s) {
        return answer(s.updateUser(id, patch));
    });
}

// ---- keys ----

void AdminApi::listKeys(Call &call)
{
    if (!onlyParameters(call,
                        {QStringLiteral("limit"), QStringLiteral("after"), QStringLiteral("user"),
                         QStringLiteral("tier"), QStringLiteral("status")}))
        return;
    const std::optional<Page> p = page(call);
    if (!p)
        return;
    KeyFilter filter;
    filter.userName = call.query.queryItemValue(QStringLiteral("user"), QUrl::FullyDecoded);
    filter.tier = call.query.queryItemValue(QStringLiteral("tier"), QUrl::FullyDecoded);
    filter.status = call.query.queryItemValue(QStringLiteral("status"), QUrl::FullyDecoded);
    run(call,
        [filter, p = *p](AdminService &s) { return listAnswer(s.listKeys(filter, p), p.limit); });
}

void AdminApi::createKey(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    const std::optional<NewKey> key = parsedBody(call, IdentityJson::newKeyFromJson);
    if (!key)
        return;
    // The only answer that carries the plaintext; it is built here and never logged.
    run(call, [key = *key](AdminService &s) {
        const AdminResult<CreatedKey> r = s.createKey(key);
        return created(r, "/admin/v1/keys", r.ok() ? r.value->key.id : 0);
    });
}

void AdminApi::getKey(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [id = call.item](AdminService &s) { return answer(s.getKey(id)); });
}

void AdminApi::updateKey(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    const std::optional<KeyPatch> patch = parsedBody(call, IdentityJson::keyPatchFromJson);
    if (!patch)
        return;
    run(call, [id = call.item, patch = *patch](AdminService &s) {
        return answer(s.updateKey(id, patch));
    });
}

void AdminApi::revokeKey(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [id = call.item](AdminService &s) { return answer(s.revokeKey(id)); });
}

// ---- tiers ----

void AdminApi::listTiers(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [](AdminService &s) {
        const AdminResult<QList<Tier>> r = s.listTiers();
        if (!r.ok())
            return errorResponse(*r.error);
        QJsonArray data;
        for (const Tier &tier : *r.value)
            data.append(IdentityJson::toJson(tier));
        return jsonResponse(200, {{QStringLiteral("data"), data}});
    });
}

void AdminApi::getTier(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [name = call.item](AdminService &s) { return answer(s.getTier(name)); });
}

void AdminApi::putTier(Call &call)
{
    setTier(call, true);
}

void AdminApi::patchTier(Call &call)
{
    setTier(call, false);
}

void AdminApi::setTier(Call &call, bool replace)
{
    if (!onlyParameters(call, {}))
        return;
    const std::optional<QJsonObject> body = jsonBody(call);
    if (!body)
        return;
    // A tier as GET returns it may be sent back whole; its name must then be this one.
    const QJsonValue name = body->value(QStringLiteral("name"));
    if (!name.isUndefined() && name != QJsonValue(call.item)) {
        call.responder.send(
            errorResponse(400,
                          QStringLiteral("name in the body must match the tier in the path, %1")
                              .arg(IdentityValidation::quoted(call.item)),
                          "invalid_request_error", "invalid_value", QStringLiteral("name")));
        return;
    }
    AdminError error;
    std::optional<TierPatch> patch = IdentityJson::tierPatchFromJson(
        *body, &error,
        {QStringLiteral("name"), QStringLiteral("created_at"), QStringLiteral("updated_at")});
    if (!patch) {
        call.responder.send(errorResponse(error));
        return;
    }
    if (replace) {
        // What the body leaves out goes back to its default: inherit, not shadow, no models.
        clearUnset(*patch);
        patch->shadow = patch->shadow.value_or(false);
        patch->modelLimits.replace = true;
    }
    run(call, [name = call.item, patch = *patch](AdminService &s) {
        return answer(s.setTier(name, patch));
    });
}

// ---- per-principal defaults ----

void AdminApi::getDefaults(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    run(call, [](AdminService &s) { return answer(s.getDefaults()); });
}

void AdminApi::getPrincipalDefaults(Call &call)
{
    if (!onlyParameters(call, {}))
        return;
    if (!isPrincipal(call.item)) {
        notFound(call);
        return;
    }
    run(call, [principal = call.item](AdminService &s) {
        const AdminResult<PrincipalDefaults> r = s.getDefaults();
        if (!r.ok())
            return errorResponse(*r.error);
        return jsonResponse(
            200, IdentityJson::toJson(principal == QLatin1String("user") ? r.value->user
                                                                         : r.value->key));
    });
}

void AdminApi::putPrincipalDefaults(Call &call)
{
    setPrincipalDefaults(call, true);
}

void AdminApi::patchPrincipalDefaults(Call &call)
{
    setPrincipalDefaults(call, false);
}

void AdminApi::setPrincipalDefaults(Call &call, bool replace)
{
    if (!onlyParameters(call, {}))
        return;
    if (!isPrincipal(call.item)) {
        notFound(call);
        return;
    }
    std::optional<LimitsPatch> patch =
        parsedBody(call, [](const QJsonObject &body, AdminError *error) {
            return IdentityJson::limitsPatchFromJson(body, error);
        });
    if (!patch)
        return;
    if (replace)
        clearUnset(*patch);
    run(call, [principal = call.item, patch = *patch](AdminService &s) {
        const AdminResult<PrincipalDefaults> r =
            s.setDefaults(principal, patch.limits, patch.clearLimits);
        if (!r.ok())
            return errorResponse(*r.error);
        return jsonResponse(
            200, IdentityJson::toJson(principal == QLatin1String("user") ? r.value->user
                                                                         : r.value->key));
    });
}

// ---- usage ----

void AdminApi::usage(Call &call)
{
    const QString user = QStringLiteral("user");
    const QString key = QStringLiteral("key");
    const QString model = QStringLiteral("model");
    const QString from = QStringLiteral("from");
    const QString to = QStringLiteral("to");
    const QString groupBy = QStringLiteral("group_by");
    if (!onlyParameters(call, {user, key, model, from, to, groupBy}))
        return;
    auto invalid = [&call](const QString &field, const QString &message) {
        call.responder.send(
            errorResponse(400, message, "invalid_request_error", "invalid_value", field));
    };
    UsageReport::Request request;
    request.user = call.query.queryItemValue(user, QUrl::FullyDecoded);
    request.key = call.query.queryItemValue(key, QUrl::FullyDecoded);
    request.model = call.query.queryItemValue(model, QUrl::FullyDecoded);
    for (const QString &name : {from, to}) {
        if (!call.query.hasQueryItem(name))
            continue;
        const QString text = call.query.queryItemValue(name, QUrl::FullyDecoded);
        const QDateTime t = Timestamp::parse(text);
        if (!t.isValid()) {
            invalid(name, QStringLiteral("%1 must be an ISO 8601 date (2025-05-01) or date-time "
                                         "(2025-05-01T12:00:00Z), got %2")
                              .arg(name, IdentityValidation::quoted(text)));
            return;
        }
        (name == from ? request.from : request.to) = t;
    }
    if (request.from.isValid() && request.to.isValid() && request.from >= request.to) {
        invalid(to, QStringLiteral("to (%1) must be after from (%2)")
                        .arg(Timestamp::toText(request.to), Timestamp::toText(request.from)));
        return;
    }
    const QString groupText = call.query.queryItemValue(groupBy, QUrl::FullyDecoded);
    const std::optional<UsageGrouping> grouping = UsageQuery::groupingFromText(groupText);
    if (!grouping) {
        invalid(groupBy, QStringLiteral("group_by must be day, model, key or user, got %1")
                             .arg(IdentityValidation::quoted(groupText)));
        return;
    }

    // Names become ids on the identity database, the ledger (maybe another database) is
    // queried on its own thread, and ids of key and user groups become names again.
    DatabaseThread *identityDb = &m_db;
    DatabaseThread *ledgerDb = m_ledgerDb ? m_ledgerDb : &m_db;
    const std::shared_ptr<Gate> gate = m_gate;
    const HttpResponder responder = call.responder;
    const QString actor = call.actor;
    const UsageGrouping g = *grouping;
    auto queryFailed = [](const QString &why) {
        return errorResponse(AdminError{AdminError::Kind::Internal, QString(),
                                        QStringLiteral("cannot read usage: %1").arg(why)});
    };
    auto labelled = [g](AdminService &admin, const QList<UsageRow> &rows,
                        const UsageFilter &filter) {
        return jsonResponse(
            200,
            UsageJson::answer(UsageReport::rowsToJson(rows, g, UsageReport::labels(admin, rows, g)),
                              filter, g));
    };
    const bool posted = postIfOpen(gate, *identityDb, [=](DatabaseConnection &connection) {
        AdminService admin(connection, actor);
        const AdminResult<UsageFilter> filter = UsageReport::resolve(admin, request);
        if (!filter.ok()) {
            deliver(gate, responder, errorResponse(*filter.error));
            return;
        }
        if (ledgerDb == identityDb) {
            QString why;
            const auto rows = UsageQuery(connection).aggregate(*filter.value, g, &why);
            deliver(gate, responder,
                    rows ? labelled(admin, *rows, *filter.value) : queryFailed(why));
            return;
        }
        postIfOpen(gate, *ledgerDb, [=, filter = *filter.value](DatabaseConnection &ledger) {
            QString why;
            const auto rows = UsageQuery(ledger).aggregate(filter, g, &why);
            if (!rows) {
                deliver(gate, responder, queryFailed(why));
                return;
            }
            postIfOpen(gate, *identityDb, [=, rows = *rows](DatabaseConnection &identity) {
                AdminService names(identity, actor);
                deliver(gate, responder, labelled(names, rows, filter));
            });
        });
    });
    if (!posted)
        call.responder.send(errorResponse(503, QStringLiteral("the gateway is shutting down"),
                                          "server_error", "shutting_down"));
}

// ---- rate-limit violations and quota alerts ----

namespace {

HttpResponse readFailed(const char *what, const QString &why)
{
    return errorResponse(
        AdminError{AdminError::Kind::Internal, QString(),
                   QStringLiteral("cannot read %1: %2").arg(QLatin1String(what), why)});
}

// {"data": [...], "next_after": id | null}, newest first: the next page holds older rows.
template <typename Row>
HttpResponse newestFirst(const QList<Row> &rows, int limit)
{
    QJsonArray data;
    for (const Row &row : rows)
        data.append(LimitEventQuery::toJson(row));
    const bool full = !rows.isEmpty() && rows.size() >= limit;
    return jsonResponse(200, {{QStringLiteral("data"), data},
                              {QStringLiteral("next_after"),
                               full ? QJsonValue(rows.last().id) : QJsonValue(QJsonValue::Null)}});
}

}  // namespace

void AdminApi::violations(Call &call)
{
    const QString userId = QStringLiteral("user_id");
    const QString keyId = QStringLiteral("key_id");
    const QString limitName = QStringLiteral("limit_name");
    const QString shadow = QStringLiteral("shadow");
    if (!onlyParameters(
            call, {QStringLiteral("from"), QStringLiteral("to"), userId, keyId, limitName, shadow,
                   QStringLiteral("limit"), QStringLiteral("after")}))
        return;
    const std::optional<Page> p = page(call);
    if (!p)
        return;
    ViolationFilter filter;
    if (!timeRange(call, &filter.from, &filter.to) || !idParameter(call, userId, &filter.userId) ||
        !idParameter(call, keyId, &filter.keyId))
        return;
    filter.limitName = call.query.queryItemValue(limitName, QUrl::FullyDecoded);
    if (call.query.hasQueryItem(shadow)) {
        const QString text = call.query.queryItemValue(shadow, QUrl::FullyDecoded);
        if (text != QLatin1String("true") && text != QLatin1String("false")) {
            call.responder.send(errorResponse(400,
                                              QStringLiteral("shadow must be true or false, got %1")
                                                  .arg(IdentityValidation::quoted(text)),
                                              "invalid_request_error", "invalid_value", shadow));
            return;
        }
        filter.shadow = text == QLatin1String("true");
    }
    runOnLedger(call, [filter, p = *p](DatabaseConnection &db) {
        QString why;
        const auto rows = LimitEventQuery(db).violations(filter, p.limit, p.afterId, &why);
        return rows ? newestFirst(*rows, p.limit) : readFailed("violations", why);
    });
}

void AdminApi::alerts(Call &call)
{
    const QString userId = QStringLiteral("user_id");
    if (!onlyParameters(call, {QStringLiteral("from"), QStringLiteral("to"), userId,
                               QStringLiteral("limit"), QStringLiteral("after")}))
        return;
    const std::optional<Page> p = page(call);
    if (!p)
        return;
    AlertFilter filter;
    if (!timeRange(call, &filter.from, &filter.to) || !idParameter(call, userId, &filter.userId))
        return;
    runOnLedger(call, [filter, p = *p](DatabaseConnection &db) {
        QString why;
        const auto rows = LimitEventQuery(db).alerts(filter, p.limit, p.afterId, &why);
        return rows ? newestFirst(*rows, p.limit) : readFailed("quota alerts", why);
    });
}

// ---- monitoring: the dashboard's live data ----

std::optional<int> AdminApi::boundedParameter(Call &call, const QString &name, int fallback,
                                              int max)
{
    if (!call.query.hasQueryItem(name))
        return fallback;
    const QString text = call.query.queryItemValue(name, QUrl::FullyDecoded);
    bool ok = false;
    const int value = text.toInt(&ok);
    if (ok && value >= 1 && value <= max)
        return value;
    call.responder.send(errorResponse(400,
                                      QStringLiteral("%1 must be a whole number between 1 and "
                                                     "%2, got %3")
                                          .arg(name)
                                          .arg(max)
                                          .arg(IdentityValidation::quoted(text)),
                                      "invalid_request_error", "invalid_value", name));
    return std::nullopt;
}

bool AdminApi::monitorAvailable(Call &call) const
{
    if (m_monitor.series && m_monitor.traffic && m_monitor.overview && m_monitor.health &&
        m_monitor.paused && m_monitor.setPaused)
        return true;
    call.responder.send(errorResponse(503, QStringLiteral("monitoring is not available here"),
                                      "server_error", "monitor_unavailable"));
    return false;
}

void AdminApi::series(Call &call)
{
    const QString seconds = QStringLiteral("seconds");
    if (!onlyParameters(call, {seconds}) || !monitorAvailable(call))
        return;
    if (const std::optional<int> n = boundedParameter(call, seconds, 900, 3600))
        call.responder.send(jsonResponse(200, m_monitor.series(*n)));
}

void AdminApi::traffic(Call &call)
{
    const QString limit = QStringLiteral("limit");
    if (!onlyParameters(call, {limit}) || !monitorAvailable(call))
        return;
    if (const std::optional<int> n = boundedParameter(call, limit, 100, 500))
        call.responder.send(jsonResponse(200, {{QStringLiteral("data"), m_monitor.traffic(*n)}}));
}

void AdminApi::overview(Call &call)
{
    if (onlyParameters(call, {}) && monitorAvailable(call))
        call.responder.send(jsonResponse(200, m_monitor.overview()));
}

void AdminApi::serving(Call &call)
{
    if (onlyParameters(call, {}) && monitorAvailable(call))
        call.responder.send(jsonResponse(200, {{QStringLiteral("paused"), m_monitor.paused()}}));
}

void AdminApi::setServing(Call &call)
{
    if (!onlyParameters(call, {}) || !monitorAvailable(call))
        return;
    const std::optional<QJsonObject> body = jsonBody(call);
    if (!body)
        return;
    const QJsonValue paused = body->value(QStringLiteral("paused"));
    if (!paused.isBool() || body->size() != 1) {
        call.responder.send(
            errorResponse(400, QStringLiteral("the body must be {\"paused\": true|false}"),
                          "invalid_request_error", "invalid_value", QStringLiteral("paused")));
        return;
    }
    m_monitor.setPaused(paused.toBool());
    call.responder.send(jsonResponse(200, {{QStringLiteral("paused"), m_monitor.paused()}}));
}

void AdminApi::health(Call &call)
{
    answerHealth(call, false);
}

void AdminApi::checkHealth(Call &call)
{
    answerHealth(call, true);
}

void AdminApi::answerHealth(Call &call, bool checkNow)
{
    if (!onlyParameters(call, {}) || !monitorAvailable(call))
        return;
    // 200 whatever the status: the caller asked for the report, and it says how things are.
    // The report arrives on the responder's worker (its context), so it is sent from there.
    m_monitor.health(call.responder.context(), checkNow,
                     [responder = call.responder](QByteArray json) mutable {
                         responder.send(jsonResponse(200, std::move(json)));
                     });
}

void AdminApi::notFound(Call &call)
{
    call.responder.send(
        errorResponse(404,
                      QStringLiteral("no admin resource at %1 (see docs/admin-api.md)")
                          .arg(QString::fromUtf8(call.responder.request().path().toByteArray())),
                      "not_found_error", "not_found"));
}

}  // namespace sluice
