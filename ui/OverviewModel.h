#pragma once

#include "SeriesRecorder.h"

#include <QtQml/qqmlregistration.h>
#include <QAbstractSeries>
#include <QJsonObject>
#include <QList>
#include <QObject>

namespace sluice {

// The Overview page: headline numbers from Gateway::overview() and the per-second series of the
// chosen time range. Points arrive in batches (the whole range once, then the last seconds);
// merge() keeps them in order without duplicates and drops what fell out of the range.
class OverviewModel : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString version READ version NOTIFY overviewChanged)
    Q_PROPERTY(QString listen READ listen NOTIFY overviewChanged)
    Q_PROPERTY(QString adminListen READ adminListen NOTIFY overviewChanged)
    Q_PROPERTY(double uptimeSeconds READ uptimeSeconds NOTIFY overviewChanged)
    Q_PROPERTY(double activeKeys READ activeKeys NOTIFY overviewChanged)
    Q_PROPERTY(double requestsToday READ requestsToday NOTIFY overviewChanged)
    Q_PROPERTY(double tokensToday READ tokensToday NOTIFY overviewChanged)
    Q_PROPERTY(QString health READ health NOTIFY overviewChanged)
    Q_PROPERTY(int rangeMinutes READ rangeMinutes WRITE setRangeMinutes NOTIFY rangeMinutesChanged)
    Q_PROPERTY(int pointCount READ pointCount NOTIFY pointsChanged)
    Q_PROPERTY(bool hasTraffic READ hasTraffic NOTIFY pointsChanged)
    Q_PROPERTY(double rangeStartMs READ rangeStartMs NOTIFY pointsChanged)
    Q_PROPERTY(double rangeEndMs READ rangeEndMs NOTIFY pointsChanged)
public:
    explicit OverviewModel(QObject *parent = nullptr);

    QString version() const { return str("version"); }
    QString listen() const { return str("listen"); }
    QString adminListen() const { return str("admin_listen"); }
    double uptimeSeconds() const { return num("uptime_seconds"); }
    double activeKeys() const { return num("active_keys"); }
    double requestsToday() const { return num("requests_today"); }
    double tokensToday() const { return num("tokens_today"); }
    QString health() const;
    int rangeMinutes() const { return m_rangeMinutes; }
    void setRangeMinutes(int minutes);  // 5, 15 or 60
    int pointCount() const { return int(m_points.size()); }
    bool hasTraffic() const;
    double rangeStartMs() const;
    double rangeEndMs() const;
    const QList<SeriesPoint> &points() const { return m_points; }

    void setOverview(const QJsonObject &overview);
    // Adds the points newer than the newest one held; keeps rangeMinutes() of them.
    void merge(const QList<SeriesPoint> &points);
    // Replaces everything (after a range change).
    void reset(const QList<SeriesPoint> &points);

    // Metric names: requests, rate_limited, errors, p50, p95, tokens.
    Q_INVOKABLE double valueAt(int index, const QString &metric) const;
    Q_INVOKABLE double latest(const QString &metric) const;
    Q_INVOKABLE double maximum(const QString &metric) const;
    // Puts the metric's points (x: epoch ms, y: value) into a QML LineSeries in one call.
    Q_INVOKABLE void fill(QAbstractSeries *series, const QString &metric) const;
    static double metricOf(const SeriesPoint &point, const QString &metric);

signals:
    void overviewChanged();
    void rangeMinutesChanged();
    void pointsChanged();

private:
    QString str(const char *key) const;
    double num(const char *key) const;
    void trim();

    QJsonObject m_overview;
    QList<SeriesPoint> m_points;
    int m_rangeMinutes = 5;
};

}  // namespace sluice
