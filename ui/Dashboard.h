#pragma once

#include "HealthModel.h"
#include "KeyEditor.h"
#include "KeysFilterModel.h"
#include "KeysModel.h"
#include "LimitEventsModel.h"
#include "OverviewModel.h"
#include "TiersModel.h"
#include "TrafficModel.h"

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace sluice {

class DashboardSource;

// The dashboard's root object: owns one view model per page and the editor, feeds them from a
// DashboardSource (live figures every second, identity and limit events every few seconds and
// after every saved edit) and knows nothing about where the source gets its data.
class Dashboard : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("created by the application")
    Q_PROPERTY(sluice::OverviewModel *overview READ overview CONSTANT)
    Q_PROPERTY(sluice::KeysModel *keys READ keys CONSTANT)
    Q_PROPERTY(sluice::KeysFilterModel *filteredKeys READ filteredKeys CONSTANT)
    Q_PROPERTY(sluice::TiersModel *tiers READ tiers CONSTANT)
    Q_PROPERTY(sluice::HealthModel *health READ health CONSTANT)
    Q_PROPERTY(sluice::TrafficModel *traffic READ traffic CONSTANT)
    Q_PROPERTY(sluice::LimitEventsModel *limitEvents READ limitEvents CONSTANT)
    Q_PROPERTY(sluice::KeyEditor *editor READ editor CONSTANT)
    Q_PROPERTY(QString baseUrl READ baseUrl NOTIFY baseUrlChanged)
    Q_PROPERTY(bool remote READ remote CONSTANT)
    Q_PROPERTY(bool connected READ connected NOTIFY connectionChanged)
    Q_PROPERTY(QString connectionMessage READ connectionMessage NOTIFY connectionChanged)
    Q_PROPERTY(QStringList snippetKinds READ snippetKinds CONSTANT)
public:
    // Starts polling at once; `source` must outlive the dashboard.
    explicit Dashboard(DashboardSource *source, QObject *parent = nullptr);

    OverviewModel *overview() { return &m_overview; }
    KeysModel *keys() { return &m_keys; }
    KeysFilterModel *filteredKeys() { return &m_filteredKeys; }
    TiersModel *tiers() { return &m_tiers; }
    HealthModel *health() { return &m_health; }
    TrafficModel *traffic() { return &m_traffic; }
    LimitEventsModel *limitEvents() { return &m_limitEvents; }
    KeyEditor *editor() { return &m_editor; }
    QString baseUrl() const;
    bool remote() const;
    bool connected() const { return m_connected; }
    QString connectionMessage() const { return m_connectionMessage; }
    QStringList snippetKinds() const;

    Q_INVOKABLE void checkHealthNow();
    Q_INVOKABLE void reloadKeys();
    // Ready-to-paste client code for `key` against this gateway.
    Q_INVOKABLE QString snippet(const QString &kind, const QString &key) const;
    Q_INVOKABLE QString snippetTitle(const QString &kind) const;
    Q_INVOKABLE void copyToClipboard(const QString &text) const;

    // Live figures (1 s) and the rest (every `slowEvery` ticks); tests drive tick() themselves.
    void setPollInterval(int ms);
    void tick();

signals:
    void connectionChanged();
    void baseUrlChanged();  // a remote source learns it from the first overview
    // For tray notifications: a quota alert (LimitEventQuery's JSON) or an unhealthy component.
    void notify(const QString &title, const QString &message);

private:
    void onConnection(bool ok, const QString &message);

    QPointer<DashboardSource> m_source;
    OverviewModel m_overview;
    KeysModel m_keys;
    KeysFilterModel m_filteredKeys;
    TiersModel m_tiers;
    HealthModel m_health;
    TrafficModel m_traffic;
    LimitEventsModel m_limitEvents;
    KeyEditor m_editor;
    QTimer m_timer;
    int m_ticks = 0;
    bool m_rangeLoaded = false;
    bool m_connected = true;
    QString m_connectionMessage;
};

}  // namespace sluice
