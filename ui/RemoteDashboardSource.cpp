#include "RemoteDashboardSource.h"

#include "LogCategories.h"

#include <QDate>
#include <QDateTime>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <algorithm>
#include <memory>

namespace sluice {

namespace {

constexpr int kPageSize = 1000;  // the admin API's largest page
constexpr int kHealthCheckTimeoutMs = 30000;
const QString kApi = QStringLiteral("/admin/v1");

QString monthStartText()
{
    const QDate today = QDateTime::currentDateTimeUtc().date();
    return QDate(today.year(), today.month(), 1).toString(Qt::ISODate);
}

QString segment(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

qint64 idOf(const QJsonValue &v)
{
    return v.isString() ? v.toString().toLongLong() : v.toInteger();
}

// The pieces of one Keys snapshot, gathered by parallel requests and delivered once all are in.
struct KeysJob
{
    KeysSnapshot snapshot;
    int pending = 0;
    QString error;
};

}  // namespace

RemoteDashboardSource::RemoteDashboardSource(const QUrl &adminUrl, const QByteArray &token,
                                             QObject *parent)
    : DashboardSource(parent), m_base(adminUrl), m_authorization("Bearer " + token)
{
    QString path = m_base.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    m_base.setPath(path);
    m_base.setQuery(QString());
    m_base.setFragment(QString());
    m_base.setUserInfo(QString());
}

RemoteDashboardSource::~RemoteDashboardSource() = default;

void RemoteDashboardSource::trustCertificates(const QList<QSslCertificate> &certificates)
{
    m_tls.addCaCertificates(certificates);
}

void RemoteDashboardSource::call(const QByteArray &verb, const QString &path,
                                 const QUrlQuery &query, const QJsonObject *body, bool dedupe,
                                 Handler handler)
{
    QUrl url = m_base;
    url.setPath(m_base.path() + kApi + path, QUrl::TolerantMode);
    if (!query.isEmpty())
        url.setQuery(query);
    const QString flightKey = QString::fromLatin1(verb) + u' ' + url.toString();
    if (dedupe) {
        if (m_inFlight.contains(flightKey))
            return;
        m_inFlight.insert(flightKey);
    }
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", m_authorization);
    request.setRawHeader("Accept", "application/json");
    request.setSslConfiguration(m_tls);
    // The token goes to this server only: a redirect is an error, not followed.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(path == QLatin1String("/health/check")
                                   ? std::max(m_timeoutMs, kHealthCheckTimeoutMs)
                                   : m_timeoutMs);
    QByteArray payload;
    if (body) {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        payload = QJsonDocument(*body).toJson(QJsonDocument::Compact);
    }
    QNetworkReply *reply = body ? m_network.sendCustomRequest(request, verb, payload)
                                : m_network.sendCustomRequest(request, verb);
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, dedupe, flightKey, handler = std::move(handler)] {
                reply->deleteLater();
                if (dedupe)
                    m_inFlight.remove(flightKey);
                const Answer answer = answerOf(reply);
                track(answer);
                handler(answer);
            });
}

RemoteDashboardSource::Answer RemoteDashboardSource::answerOf(QNetworkReply *reply) const
{
    Answer a;
    a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray bytes = reply->readAll();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    a.json = doc.object();
    if (a.status == 0) {
        const QString where = m_base.toDisplayString();
        a.error = reply->error() == QNetworkReply::OperationCanceledError
                      ? QStringLiteral("%1: no answer within %2 s")
                            .arg(where)
                            .arg(double(reply->request().transferTimeout()) / 1000.0)
                  : reply->error() == QNetworkReply::SslHandshakeFailedError
                      ? QStringLiteral(
                            "%1: %2 (for a self-signed or private-CA certificate, "
                            "pass its CA with --admin-ca)")
                            .arg(where, reply->errorString())
                      : QStringLiteral("%1: %2").arg(where, reply->errorString());
        return a;
    }
    if (a.ok()) {
        if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
            a.status = 0;  // not the admin API
            a.error = QStringLiteral("%1: the answer is not JSON (is this the admin listener?)")
                          .arg(m_base.toDisplayString());
        }
        return a;
    }
    const QString message =
        a.json.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString();
    a.error = message.isEmpty() ? QStringLiteral("HTTP %1 from %2 (is this the admin listener?)")
                                      .arg(a.status)
                                      .arg(m_base.toDisplayString())
                                : message;
    return a;
}

void RemoteDashboardSource::track(const Answer &answer)
{
    // No answer at all, a refused token or a gateway without one: nothing works until fixed.
    const bool down = answer.status == 0 || answer.status == 401 || answer.status == 503;
    if (down) {
        if (m_state == State::Down && m_downMessage == answer.error)
            return;
        m_state = State::Down;
        m_downMessage = answer.error;
        emit connectionChanged(false, answer.error);
        return;
    }
    if (m_state != State::Up) {
        m_state = State::Up;
        m_downMessage.clear();
        emit connectionChanged(true, QString());
    }
}

void RemoteDashboardSource::setGatewayBaseUrl(const QString &listen)
{
    if (listen.isEmpty())
        return;
    const qsizetype colon = listen.lastIndexOf(u':');
    QString host = colon < 0 ? listen : listen.left(colon);
    const QString port = colon < 0 ? QString() : listen.mid(colon);
    // A wildcard is where the gateway listens, not an address to call: the admin host is.
    if (host.isEmpty() || host == QLatin1String("*") || host == QLatin1String("0.0.0.0") ||
        host == QLatin1String("[::]") || host == QLatin1String("::")) {
        host = m_base.host(QUrl::FullyEncoded);
        if (host.contains(u':'))
            host = u'[' + host + u']';
    }
    const QString url = QStringLiteral("http://") + host + port;
    if (url == m_gatewayBaseUrl)
        return;
    m_gatewayBaseUrl = url;
    emit gatewayBaseUrlChanged();
}

void RemoteDashboardSource::requestOverview()
{
    call("GET", QStringLiteral("/overview"), {}, nullptr, true, [this](const Answer &a) {
        if (!a.ok())
            return;
        setGatewayBaseUrl(a.json.value(QLatin1String("listen")).toString());
        emit overviewReady(a.json);
    });
}

void RemoteDashboardSource::requestSeries(int seconds)
{
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("seconds"), QString::number(std::clamp(seconds, 1, 3600)));
    call("GET", QStringLiteral("/series"), query, nullptr, true, [this](const Answer &a) {
        if (a.ok())
            emit seriesReady(SeriesRecorder::fromJson(a.json));
    });
}

void RemoteDashboardSource::requestTraffic(int limit)
{
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("limit"), QString::number(std::clamp(limit, 1, 500)));
    call("GET", QStringLiteral("/traffic"), query, nullptr, true, [this](const Answer &a) {
        if (a.ok())
            emit trafficReady(TrafficTail::fromJson(a.json.value(QLatin1String("data")).toArray()));
    });
}

void RemoteDashboardSource::requestHealth()
{
    call("GET", QStringLiteral("/health"), {}, nullptr, true, [this](const Answer &a) {
        if (a.ok())
            emit healthReady(a.json);
    });
}

void RemoteDashboardSource::checkHealthNow()
{
    const QJsonObject none;
    call("POST", QStringLiteral("/health/check"), {}, &none, true, [this](const Answer &a) {
        if (a.ok())
            emit healthReady(a.json);
    });
}

void RemoteDashboardSource::setPaused(bool paused)
{
    const QJsonObject body{{QStringLiteral("paused"), paused}};
    call("PUT", QStringLiteral("/serving"), {}, &body, false, [this](const Answer &a) {
        if (a.ok())
            requestOverview();  // the overview carries the new state
    });
}

void RemoteDashboardSource::requestKeys()
{
    if (m_keysPending)
        return;
    m_keysPending = true;
    auto job = std::make_shared<KeysJob>();
    // Called once per finished part; the last one computes the tier counts and delivers.
    auto partDone = [this, job](const Answer &a) {
        if (!a.ok() && job->error.isEmpty())
            job->error = a.error;
        if (--job->pending > 0)
            return;
        m_keysPending = false;
        if (!job->error.isEmpty()) {
            // track() reported a transport failure; an admin error (its database down) is
            // logged, once per message, and the Keys page keeps what it had.
            if (job->error != m_keysError)
                qCWarning(lcGateway).noquote() << "dashboard: cannot read the keys:" << job->error;
            m_keysError = job->error;
            return;
        }
        m_keysError.clear();
        KeysSnapshot &s = job->snapshot;
        // As AdminService::keyCountsByTier: every tier, active keys by their effective tier.
        QHash<qint64, QString> userTier;
        for (const QJsonValue &u : std::as_const(s.users))
            userTier.insert(u[QLatin1String("id")].toInteger(),
                            u[QLatin1String("tier")].toString());
        for (const QJsonValue &t : std::as_const(s.tiers))
            s.keyCounts.insert(t[QLatin1String("name")].toString(), 0);
        for (const QJsonValue &k : std::as_const(s.keys)) {
            if (k[QLatin1String("status")].toString() != QLatin1String("active"))
                continue;
            QString tier = k[QLatin1String("tier")].toString();
            if (tier.isEmpty())
                tier = userTier.value(k[QLatin1String("user_id")].toInteger());
            s.keyCounts.insert(tier, s.keyCounts.value(tier).toInteger() + 1);
        }
        emit keysReady(s);
    };

    job->pending = 5;
    fetchPages(QStringLiteral("/users"), &job->snapshot.users, 0, partDone);
    fetchPages(QStringLiteral("/keys"), &job->snapshot.keys, 0, partDone);
    call("GET", QStringLiteral("/tiers"), {}, nullptr, false, [job, partDone](const Answer &a) {
        job->snapshot.tiers = a.json.value(QLatin1String("data")).toArray();
        partDone(a);
    });
    call("GET", QStringLiteral("/defaults"), {}, nullptr, false, [job, partDone](const Answer &a) {
        job->snapshot.defaults = a.json;
        partDone(a);
    });
    QUrlQuery usage;
    usage.addQueryItem(QStringLiteral("group_by"), QStringLiteral("key"));
    usage.addQueryItem(QStringLiteral("from"), monthStartText());
    call("GET", QStringLiteral("/usage"), usage, nullptr, false, [job, partDone](const Answer &a) {
        for (const QJsonValue &row : a.json.value(QLatin1String("data")).toArray()) {
            const qint64 key = idOf(row[QLatin1String("group")]);
            job->snapshot.monthRequests.insert(key, row[QLatin1String("requests")].toInteger());
            job->snapshot.monthTokens.insert(key, row[QLatin1String("total_tokens")].toInteger());
        }
        partDone(a);
    });
}

void RemoteDashboardSource::fetchPages(const QString &path, QJsonArray *into, qint64 after,
                                       const Handler &done)
{
    // `into` lives in the job that `done` keeps alive.
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("limit"), QString::number(kPageSize));
    query.addQueryItem(QStringLiteral("after"), QString::number(after));
    call("GET", path, query, nullptr, false, [this, path, into, done](const Answer &a) {
        if (a.ok()) {
            for (const QJsonValue &v : a.json.value(QLatin1String("data")).toArray())
                into->append(v);
            const QJsonValue next = a.json.value(QLatin1String("next_after"));
            if (!next.isNull() && !next.isUndefined()) {
                fetchPages(path, into, idOf(next), done);
                return;
            }
        }
        done(a);
    });
}

void RemoteDashboardSource::noteAlerts(const QJsonArray &alerts)
{
    // Newest first; ids grow. The first poll only records where the history ends.
    qint64 newest = m_lastAlertId;
    QList<QJsonObject> fresh;
    for (const QJsonValue &v : alerts) {
        const qint64 id = v[QLatin1String("id")].toInteger();
        newest = std::max(newest, id);
        if (m_alertsSeen && id > m_lastAlertId)
            fresh.prepend(v.toObject());
    }
    m_lastAlertId = newest;
    m_alertsSeen = true;
    for (const QJsonObject &alert : std::as_const(fresh))
        emit quotaAlertRaised(alert);
}

void RemoteDashboardSource::requestLimitEvents(int limit)
{
    if (m_eventsPending)
        return;
    m_eventsPending = true;
    struct EventsJob
    {
        QJsonArray violations;
        QJsonArray alerts;
        int pending = 2;
        bool failed = false;
    };
    auto job = std::make_shared<EventsJob>();
    auto partDone = [this, job](const Answer &a) {
        if (!a.ok())
            job->failed = true;
        if (--job->pending > 0)
            return;
        m_eventsPending = false;
        if (job->failed)
            return;
        emit limitEventsReady(job->violations, job->alerts);
        noteAlerts(job->alerts);
    };
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("limit"), QString::number(std::clamp(limit, 1, 1000)));
    call("GET", QStringLiteral("/violations"), query, nullptr, false,
         [job, partDone](const Answer &a) {
             job->violations = a.json.value(QLatin1String("data")).toArray();
             partDone(a);
         });
    call("GET", QStringLiteral("/alerts"), query, nullptr, false, [job, partDone](const Answer &a) {
        job->alerts = a.json.value(QLatin1String("data")).toArray();
        partDone(a);
    });
}

void RemoteDashboardSource::submit(int ticket, const DashboardEdit &edit)
{
    QByteArray verb = "PATCH";
    QString path;
    bool withBody = true;
    switch (edit.kind) {
        case DashboardEdit::Kind::CreateKey:
            verb = "POST";
            path = QStringLiteral("/keys");
            break;
        case DashboardEdit::Kind::UpdateKey:
            path = QStringLiteral("/keys/") + segment(edit.target);
            break;
        case DashboardEdit::Kind::RevokeKey:
            verb = "DELETE";
            path = QStringLiteral("/keys/") + segment(edit.target);
            withBody = false;
            break;
        case DashboardEdit::Kind::UpdateUser:
            path = QStringLiteral("/users/") + segment(edit.target);
            break;
        case DashboardEdit::Kind::PatchTier:
            path = QStringLiteral("/tiers/") + segment(edit.target);
            break;
    }
    call(verb, path, {}, withBody ? &edit.body : nullptr, false, [this, ticket](const Answer &a) {
        emit editFinished(ticket, a.ok() ? a.json : QJsonObject(), a.error);
    });
}

}  // namespace sluice
