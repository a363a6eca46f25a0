#include "LocalDashboardSource.h"

#include "AdminService.h"
#include "DatabaseThread.h"
#include "Gateway.h"
#include "HealthChecker.h"
#include "IdentityJson.h"
#include "LimitEventQuery.h"
#include "QuotaAlertMonitor.h"
#include "UsageQuery.h"
#include "Version.h"

#include <QDate>
#include <QJsonDocument>
#include <QPointer>

namespace sluice {

namespace {

const QString kActor = QStringLiteral("dashboard");
constexpr int kPageSize = 1000;

QDateTime monthStartUtc()
{
    const QDate today = QDateTime::currentDateTimeUtc().date();
    return QDateTime(QDate(today.year(), today.month(), 1), QTime(0, 0), Qt::UTC);
}

// Identity part of the Keys snapshot; on the identity database thread.
QString readIdentity(DatabaseConnection &connection, KeysSnapshot &snapshot)
{
    AdminService admin(connection, kActor);
    Page page{kPageSize, 0};
    for (;;) {
        const auto users = admin.listUsers({}, page);
        if (!users.ok())
            return users.error->message;
        for (const User &u : *users.value)
            snapshot.users.append(IdentityJson::toJson(u));
        if (users.value->size() < kPageSize)
            break;
        page.afterId = users.value->last().id;
    }
    QHash<qint64, QString> userTier;
    for (const QJsonValue &u : std::as_const(snapshot.users))
        userTier.insert(u[QLatin1String("id")].toInteger(), u[QLatin1String("tier")].toString());
    page.afterId = 0;
    for (;;) {
        const auto keys = admin.listKeys({}, page);
        if (!keys.ok())
            return keys.error->message;
        for (const ApiKey &k : *keys.value)
            snapshot.keys.append(
                IdentityJson::toJson(k, k.tier.isEmpty() ? userTier.value(k.userId) : k.tier));
        if (keys.value->size() < kPageSize)
            break;
        page.afterId = keys.value->last().id;
    }
    const auto tiers = admin.listTiers();
    if (!tiers.ok())
        return tiers.error->message;
    for (const Tier &t : *tiers.value)
        snapshot.tiers.append(IdentityJson::toJson(t));
    const auto defaults = admin.getDefaults();
    if (!defaults.ok())
        return defaults.error->message;
    snapshot.defaults = IdentityJson::toJson(*defaults.value);
    const auto counts = admin.keyCountsByTier();
    if (!counts.ok())
        return counts.error->message;
    for (const auto &[tier, count] : *counts.value)
        snapshot.keyCounts.insert(tier, count);
    return {};
}

// Month-to-date use per key; on the ledger database thread.
QString readMonthUsage(DatabaseConnection &connection, KeysSnapshot &snapshot)
{
    UsageFilter filter;
    filter.from = monthStartUtc();
    QString error;
    const auto rows = UsageQuery(connection).aggregate(filter, UsageGrouping::Key, &error);
    if (!rows)
        return error;
    for (const UsageRow &row : *rows) {
        const qint64 key = row.group.toLongLong();
        snapshot.monthRequests.insert(key, row.requests);
        snapshot.monthTokens.insert(key, row.totalTokens());
    }
    return {};
}

template <typename T>
QJsonObject resultJson(const AdminResult<T> &r, QString *error)
{
    if (!r.ok()) {
        *error = r.error->message;
        return {};
    }
    return IdentityJson::toJson(*r.value);
}

// Runs one edit through AdminService; the JSON parsers and the service do all validation.
QJsonObject runEdit(AdminService &admin, const DashboardEdit &edit, QString *error)
{
    AdminError parseError;
    switch (edit.kind) {
        case DashboardEdit::Kind::CreateKey: {
            const auto key = IdentityJson::newKeyFromJson(edit.body, &parseError);
            if (!key)
                break;
            return resultJson(admin.createKey(*key), error);
        }
        case DashboardEdit::Kind::UpdateKey: {
            const auto patch = IdentityJson::keyPatchFromJson(edit.body, &parseError);
            if (!patch)
                break;
            return resultJson(admin.updateKey(edit.target, *patch), error);
        }
        case DashboardEdit::Kind::RevokeKey:
            return resultJson(admin.revokeKey(edit.target), error);
        case DashboardEdit::Kind::UpdateUser: {
            const auto patch = IdentityJson::userPatchFromJson(edit.body, &parseError);
            if (!patch)
                break;
            return resultJson(admin.updateUser(edit.target, *patch), error);
        }
        case DashboardEdit::Kind::PatchTier: {
            const auto patch = IdentityJson::tierPatchFromJson(edit.body, &parseError);
            if (!patch)
                break;
            return resultJson(admin.setTier(edit.target, *patch), error);
        }
    }
    *error = parseError.message;
    return {};
}

}  // namespace

LocalDashboardSource::LocalDashboardSource(Gateway &gateway, QObject *parent)
    : DashboardSource(parent),
      m_gateway(gateway),
      m_identityDb(
          std::make_unique<DatabaseThread>(gateway.config().db, QStringLiteral("dashboard")))
{
    if (gateway.config().ledgerDb)
        m_ledgerDb = std::make_unique<DatabaseThread>(*gateway.config().ledgerDb,
                                                      QStringLiteral("dashboard-ledger"));
    if (QuotaAlertMonitor *alerts = gateway.quotaAlerts()) {
        connect(alerts, &QuotaAlertMonitor::alertRaised, this, [this](const QuotaAlert &alert) {
            emit quotaAlertRaised(LimitEventQuery::toJson(alert));
        });
    }
    connect(&gateway.health(), &HealthChecker::reportReady, this, [this] { requestHealth(); });
}

LocalDashboardSource::~LocalDashboardSource() = default;

DatabaseThread &LocalDashboardSource::ledgerThread()
{
    return m_ledgerDb ? *m_ledgerDb : *m_identityDb;
}

QString LocalDashboardSource::gatewayBaseUrl() const
{
    return QStringLiteral("http://") + m_gateway.listenAddress();
}

void LocalDashboardSource::setPaused(bool paused)
{
    m_gateway.setPaused(paused);
    requestOverview();  // the new state shows at once
}

void LocalDashboardSource::requestOverview()
{
    emit overviewReady(m_gateway.overview());
}

void LocalDashboardSource::requestSeries(int seconds)
{
    emit seriesReady(m_gateway.series()->points(seconds));
}

void LocalDashboardSource::requestTraffic(int limit)
{
    emit trafficReady(m_gateway.trafficTail()->recent(limit));
}

void LocalDashboardSource::requestHealth()
{
    const HealthChecker::ReportPtr report = m_gateway.health().latest();
    if (!report)
        return;
    const double uptime = m_gateway.overview().value(QLatin1String("uptime_seconds")).toDouble();
    emit healthReady(
        QJsonDocument::fromJson(report->toJson(QString::fromLatin1(kVersion), uptime)).object());
}

void LocalDashboardSource::checkHealthNow()
{
    m_gateway.checkHealthNow();  // reportReady() brings the new round
}

void LocalDashboardSource::requestKeys()
{
    const QPointer<LocalDashboardSource> self(this);
    DatabaseThread *ledger = &ledgerThread();
    const bool sameDb = !m_ledgerDb;
    m_identityDb->post([self, ledger, sameDb](DatabaseConnection &connection) {
        auto snapshot = std::make_shared<KeysSnapshot>();
        QString error = readIdentity(connection, *snapshot);
        auto deliver = [self](std::shared_ptr<KeysSnapshot> s, QString why) {
            QMetaObject::invokeMethod(self, [self, s, why] {
                if (!self)
                    return;
                if (!why.isEmpty()) {
                    emit self->connectionChanged(false, why);
                    return;
                }
                emit self->connectionChanged(true, QString());
                emit self->keysReady(*s);
            });
        };
        if (!error.isEmpty() || sameDb) {
            if (error.isEmpty())
                error = readMonthUsage(connection, *snapshot);
            deliver(snapshot, error);
            return;
        }
        ledger->post([snapshot, deliver](DatabaseConnection &ledgerConnection) {
            deliver(snapshot, readMonthUsage(ledgerConnection, *snapshot));
        });
    });
}

void LocalDashboardSource::requestLimitEvents(int limit)
{
    const QPointer<LocalDashboardSource> self(this);
    ledgerThread().post([self, limit](DatabaseConnection &connection) {
        LimitEventQuery query(connection);
        QString error;
        QJsonArray violations;
        QJsonArray alerts;
        if (const auto rows = query.violations({}, limit, 0, &error)) {
            for (const ViolationRow &row : *rows)
                violations.append(LimitEventQuery::toJson(row));
        }
        if (const auto rows = query.alerts({}, limit, 0, &error)) {
            for (const QuotaAlert &alert : *rows)
                alerts.append(LimitEventQuery::toJson(alert));
        }
        QMetaObject::invokeMethod(self, [self, violations, alerts] {
            if (self)
                emit self->limitEventsReady(violations, alerts);
        });
    });
}

void LocalDashboardSource::submit(int ticket, const DashboardEdit &edit)
{
    const QPointer<LocalDashboardSource> self(this);
    m_identityDb->post([self, ticket, edit](DatabaseConnection &connection) {
        AdminService admin(connection, kActor);
        QString error;
        const QJsonObject result = runEdit(admin, edit, &error);
        QMetaObject::invokeMethod(self, [self, ticket, result, error] {
            if (self)
                emit self->editFinished(ticket, result, error);
        });
    });
}

}  // namespace sluice
