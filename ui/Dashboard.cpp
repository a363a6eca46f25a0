#include "Dashboard.h"

#include "DashboardSource.h"
#include "Snippets.h"

#include <QClipboard>
#include <QGuiApplication>

namespace sluice {

namespace {
constexpr int kSlowEvery = 5;      // identity and limit events every 5 ticks
constexpr int kRecentSeconds = 5;  // each tick asks for the last seconds only
constexpr int kTrafficLimit = TrafficModel::Capacity;
constexpr int kEventLimit = 100;
}  // namespace

Dashboard::Dashboard(DashboardSource *source, QObject *parent) : QObject(parent), m_source(source)
{
    m_filteredKeys.setSourceModel(&m_keys);
    m_editor.setSource(source);
    connect(&m_editor, &KeyEditor::changed, this, &Dashboard::reloadKeys);
    connect(&m_overview, &OverviewModel::rangeMinutesChanged, this, [this] {
        m_rangeLoaded = false;
        if (m_source)
            m_source->requestSeries(m_overview.rangeMinutes() * 60);
    });
    connect(&m_health, &HealthModel::componentBecameUnhealthy, this,
            [this](const QString &name, const QString &message) {
                emit notify(QStringLiteral("%1 is unhealthy").arg(name), message);
            });
    if (source) {
        connect(source, &DashboardSource::overviewReady, &m_overview, &OverviewModel::setOverview);
        connect(source, &DashboardSource::seriesReady, this,
                [this](const QList<SeriesPoint> &points) {
                    if (m_rangeLoaded) {
                        m_overview.merge(points);
                    } else {
                        m_overview.reset(points);
                        m_rangeLoaded = true;
                    }
                });
        connect(source, &DashboardSource::trafficReady, &m_traffic, &TrafficModel::update);
        connect(source, &DashboardSource::healthReady, &m_health, &HealthModel::setReport);
        connect(source, &DashboardSource::keysReady, this, [this](const KeysSnapshot &s) {
            m_keys.setSnapshot(s);
            m_tiers.setSnapshot(s);
            m_traffic.setNames(m_keys.userNames(), m_keys.keyLabels());
            m_limitEvents.setNames(m_keys.userNames(), m_keys.keyLabels());
        });
        connect(source, &DashboardSource::limitEventsReady, &m_limitEvents,
                &LimitEventsModel::setEvents);
        connect(source, &DashboardSource::quotaAlertRaised, this, [this](const QJsonObject &a) {
            emit notify(
                QStringLiteral("Quota alert"),
                QStringLiteral("%1 reached %2 % of its %3")
                    .arg(a.value(QLatin1String("scope")).toString(),
                         QString::number(a.value(QLatin1String("threshold_percent")).toInt()),
                         a.value(QLatin1String("limit_name")).toString()));
            if (m_source)
                m_source->requestLimitEvents(kEventLimit);
        });
        connect(source, &DashboardSource::connectionChanged, this, &Dashboard::onConnection);
        connect(source, &DashboardSource::gatewayBaseUrlChanged, this, &Dashboard::baseUrlChanged);
    }
    connect(&m_timer, &QTimer::timeout, this, &Dashboard::tick);
    m_timer.start(1000);
    QTimer::singleShot(0, this, &Dashboard::tick);
}

void Dashboard::setPollInterval(int ms)
{
    if (ms <= 0)
        m_timer.stop();
    else
        m_timer.start(ms);
}

void Dashboard::tick()
{
    if (!m_source)
        return;
    m_source->requestOverview();
    m_source->requestSeries(m_rangeLoaded ? kRecentSeconds : m_overview.rangeMinutes() * 60);
    m_source->requestTraffic(kTrafficLimit);
    if (m_ticks % kSlowEvery == 0) {
        m_source->requestHealth();
        m_source->requestKeys();
        m_source->requestLimitEvents(kEventLimit);
    }
    ++m_ticks;
}

QString Dashboard::baseUrl() const
{
    return m_source ? m_source->gatewayBaseUrl() : QString();
}

bool Dashboard::remote() const
{
    return m_source && m_source->isRemote();
}

QStringList Dashboard::snippetKinds() const
{
    return Snippets::kinds();
}

void Dashboard::checkHealthNow()
{
    if (!m_source)
        return;
    m_health.setChecking(true);
    m_source->checkHealthNow();
}

void Dashboard::reloadKeys()
{
    if (m_source)
        m_source->requestKeys();
}

QString Dashboard::snippet(const QString &kind, const QString &key) const
{
    return Snippets::text(kind, baseUrl(), key);
}

QString Dashboard::snippetTitle(const QString &kind) const
{
    return Snippets::title(kind);
}

void Dashboard::copyToClipboard(const QString &text) const
{
    if (QClipboard *clipboard = QGuiApplication::clipboard())
        clipboard->setText(text);
}

void Dashboard::onConnection(bool ok, const QString &message)
{
    if (ok == m_connected && message == m_connectionMessage)
        return;
    m_connected = ok;
    m_connectionMessage = message;
    emit connectionChanged();
}

}  // namespace sluice
