#pragma once

#include "DashboardSource.h"

#include <QList>
#include <QTimer>
#include <QVariantMap>

namespace sluice::test {

// A DashboardSource with canned data for view-model and QML tests: every request is answered
// on the next event-loop turn from the members below; edits are recorded and answered with
// `editError` (empty = success, `editResult` as the resource).
class FakeDashboardSource : public DashboardSource
{
    Q_OBJECT
public:
    using DashboardSource::DashboardSource;

    QString gatewayBaseUrl() const override { return QStringLiteral("http://127.0.0.1:8081"); }
    bool isRemote() const override { return false; }

    void requestOverview() override
    {
        ++overviewRequests;
        later([this] { emit overviewReady(overview); });
    }
    void requestSeries(int seconds) override
    {
        seriesSeconds.append(seconds);
        later([this, seconds] {
            emit seriesReady(points.mid(qMax(0, int(points.size()) - seconds)));
        });
    }
    void requestTraffic(int) override
    {
        later([this] { emit trafficReady(traffic); });
    }
    void requestHealth() override
    {
        later([this] { emit healthReady(health); });
    }
    void checkHealthNow() override
    {
        ++healthChecks;
        requestHealth();
    }
    void requestKeys() override
    {
        ++keyRequests;
        later([this] { emit keysReady(keys); });
    }
    void requestLimitEvents(int) override
    {
        later([this] { emit limitEventsReady(violations, alerts); });
    }
    void submit(int ticket, const DashboardEdit &edit) override
    {
        edits.append(edit);
        later([this, ticket] {
            emit editFinished(ticket, editError.isEmpty() ? editResult : QJsonObject(), editError);
        });
    }

    // For QML tests: what the next edits answer, and the last edit made.
    Q_INVOKABLE void setEditError(const QString &error) { editError = error; }
    Q_INVOKABLE void setEditResult(const QVariantMap &result)
    {
        editResult = QJsonObject::fromVariantMap(result);
    }
    Q_INVOKABLE QVariantMap lastEdit() const
    {
        if (edits.isEmpty())
            return {};
        return {{QStringLiteral("kind"), int(edits.last().kind)},
                {QStringLiteral("target"), edits.last().target},
                {QStringLiteral("body"), edits.last().body.toVariantMap()}};
    }
    Q_INVOKABLE int editCount() const { return int(edits.size()); }

    QJsonObject overview;
    QList<SeriesPoint> points;
    QList<TrafficEntry> traffic;
    QJsonObject health;
    KeysSnapshot keys;
    QJsonArray violations;
    QJsonArray alerts;
    QList<DashboardEdit> edits;
    QString editError;
    QJsonObject editResult;
    QList<int> seriesSeconds;
    int overviewRequests = 0;
    int keyRequests = 0;
    int healthChecks = 0;

private:
    template <typename F>
    void later(F f)
    {
        QTimer::singleShot(0, this, f);
    }
};

}  // namespace sluice::test
