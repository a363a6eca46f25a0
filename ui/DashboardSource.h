#pragma once

#include "SeriesRecorder.h"
#include "TrafficTail.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

namespace sluice {

// What the Keys and Tiers pages are built from: the admin API's JSON shapes (IdentityJson), so a
// local gateway and a remote one look the same to the view models.
struct KeysSnapshot
{
    QJsonArray users;                     // IdentityJson::toJson(User)
    QJsonArray keys;                      // IdentityJson::toJson(ApiKey, effectiveTier)
    QJsonArray tiers;                     // IdentityJson::toJson(Tier)
    QJsonObject defaults;                 // {"user": {limits}, "key": {limits}}
    QJsonObject keyCounts;                // tier name -> keys on it
    QHash<qint64, qint64> monthRequests;  // key id -> requests this UTC month
    QHash<qint64, qint64> monthTokens;    // key id -> tokens this UTC month
};

// One identity edit, in the admin API's terms: the REST call it would be, with its JSON body.
struct DashboardEdit
{
    enum class Kind
    {
        CreateKey,   // POST /keys            body: IdentityJson::newKeyFromJson
        UpdateKey,   // PATCH /keys/{target}  body: keyPatchFromJson
        RevokeKey,   // DELETE /keys/{target}
        UpdateUser,  // PATCH /users/{target} body: userPatchFromJson
        PatchTier    // PATCH /tiers/{target} body: tierPatchFromJson
    };
    Kind kind = Kind::UpdateKey;
    QString target;  // key id or prefix, user name, tier name
    QJsonObject body;
};

// Where the dashboard's data comes from and where its edits go: the in-process gateway
// (LocalDashboardSource) or a remote one over its admin API (RemoteDashboardSource). Every
// request is answered later by a signal on the GUI thread; no call blocks on SQL or a socket.
class DashboardSource : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // "http://127.0.0.1:8081": what clients put in front of /v1 (snippets, headline). A remote
    // source learns it from the first overview: gatewayBaseUrlChanged() then.
    virtual QString gatewayBaseUrl() const = 0;
    virtual bool isRemote() const = 0;

    virtual void requestOverview() = 0;
    virtual void requestSeries(int seconds) = 0;
    virtual void requestTraffic(int limit) = 0;
    virtual void requestHealth() = 0;
    virtual void checkHealthNow() = 0;
    virtual void requestKeys() = 0;
    virtual void requestLimitEvents(int limit) = 0;
    // Pauses or resumes serving /v1 (Gateway::setPaused; PUT /admin/v1/serving remotely). The
    // overview's "paused" says where it stands. A source that cannot do it ignores the call.
    virtual void setPaused(bool paused) { Q_UNUSED(paused) }
    // Answered by editFinished(ticket, ...), exactly once.
    virtual void submit(int ticket, const sluice::DashboardEdit &edit) = 0;

signals:
    void overviewReady(const QJsonObject &overview);
    void seriesReady(const QList<sluice::SeriesPoint> &points);     // oldest first
    void trafficReady(const QList<sluice::TrafficEntry> &entries);  // newest first
    void healthReady(const QJsonObject &report);                    // HealthReport::toJson's shape
    void keysReady(const sluice::KeysSnapshot &snapshot);
    // LimitEventQuery::toJson rows, newest first.
    void limitEventsReady(const QJsonArray &violations, const QJsonArray &alerts);
    // result: the resource's JSON (a created key has "key", the plaintext); error: one line.
    void editFinished(int ticket, const QJsonObject &result, const QString &error);
    void quotaAlertRaised(const QJsonObject &alert);
    // The source cannot reach its data (remote gateway down, database error); cleared by ok.
    void connectionChanged(bool ok, const QString &message);
    void gatewayBaseUrlChanged();
};

}  // namespace sluice
