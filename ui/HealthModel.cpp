#include "HealthModel.h"

#include <QJsonArray>

namespace sluice {

HealthModel::HealthModel(QObject *parent) : QAbstractListModel(parent) {}

QJsonObject HealthModel::component(int row) const
{
    return m_report.value(QLatin1String("components")).toArray().at(row).toObject();
}

int HealthModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_report.value(QLatin1String("components")).toArray().size());
}

QHash<int, QByteArray> HealthModel::roleNames() const
{
    return {{NameRole, "name"},          {TypeRole, "type"},       {StatusRole, "status"},
            {CriticalRole, "critical"},  {MessageRole, "message"}, {LatencyMsRole, "latencyMs"},
            {CheckedAtRole, "checkedAt"}};
}

QVariant HealthModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject c = component(index.row());
    switch (role) {
        case Qt::DisplayRole:
        case NameRole:
            return c.value(QLatin1String("name")).toString();
        case TypeRole:
            return c.value(QLatin1String("type")).toString();
        case StatusRole:
            return c.value(QLatin1String("status")).toString();
        case CriticalRole:
            return c.value(QLatin1String("critical")).toBool();
        case MessageRole:
            return c.value(QLatin1String("message")).toString();
        case LatencyMsRole:
            return c.value(QLatin1String("latency_ms")).toDouble();
        case CheckedAtRole:
            return c.value(QLatin1String("checked_at")).toString();
        default:
            return {};
    }
}

QString HealthModel::statusOf(const QString &name) const
{
    for (const QJsonValue &c : m_report.value(QLatin1String("components")).toArray()) {
        if (c[QLatin1String("name")].toString() == name)
            return c[QLatin1String("status")].toString();
    }
    return {};
}

void HealthModel::setChecking(bool checking)
{
    if (checking == m_checking)
        return;
    m_checking = checking;
    emit checkingChanged();
}

void HealthModel::setReport(const QJsonObject &report)
{
    setChecking(false);
    if (report == m_report)
        return;
    const QJsonObject before = m_report;
    auto names = [](const QJsonObject &r) {
        QStringList out;
        for (const QJsonValue &c : r.value(QLatin1String("components")).toArray())
            out.append(c[QLatin1String("name")].toString());
        return out;
    };
    const bool sameComponents = names(before) == names(report);
    if (sameComponents) {
        m_report = report;
        if (rowCount() > 0)
            emit dataChanged(index(0), index(rowCount() - 1));
    } else {
        beginResetModel();
        m_report = report;
        endResetModel();
    }
    emit reportChanged();
    for (const QJsonValue &c : report.value(QLatin1String("components")).toArray()) {
        const QString name = c[QLatin1String("name")].toString();
        const QString was = [&] {
            for (const QJsonValue &b : before.value(QLatin1String("components")).toArray()) {
                if (b[QLatin1String("name")].toString() == name)
                    return b[QLatin1String("status")].toString();
            }
            return QString();
        }();
        if (c[QLatin1String("status")].toString() == QLatin1String("unhealthy") &&
            was != QLatin1String("unhealthy"))
            emit componentBecameUnhealthy(name, c[QLatin1String("message")].toString());
    }
}

}  // namespace sluice
