#pragma once

#include <QtQml/qqmlregistration.h>
#include <QAbstractListModel>
#include <QJsonObject>

namespace sluice {

// The Health page: one row per component of the latest health report (HealthReport::toJson's
// shape) and the overall status.
class HealthModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString overall READ overall NOTIFY reportChanged)
    Q_PROPERTY(QString checkedAt READ checkedAt NOTIFY reportChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY reportChanged)
    Q_PROPERTY(bool checking READ checking NOTIFY checkingChanged)
public:
    enum Role
    {
        NameRole = Qt::UserRole + 1,
        TypeRole,
        StatusRole,  // healthy | degraded | unhealthy
        CriticalRole,
        MessageRole,
        LatencyMsRole,
        CheckedAtRole  // ISO text
    };
    Q_ENUM(Role)

    explicit HealthModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    Q_INVOKABLE QString statusOf(const QString &component) const;

    QString overall() const { return m_report.value(QLatin1String("status")).toString(); }
    QString checkedAt() const { return m_report.value(QLatin1String("timestamp")).toString(); }
    bool checking() const { return m_checking; }
    void setChecking(bool checking);

    void setReport(const QJsonObject &report);

signals:
    void reportChanged();
    void checkingChanged();
    // A component went from healthy or degraded to unhealthy (tray notifications).
    void componentBecameUnhealthy(const QString &name, const QString &message);

private:
    QJsonObject component(int row) const;

    QJsonObject m_report;
    bool m_checking = false;
};

}  // namespace sluice
