#include "LimitEventQuery.h"

#include "DatabaseConnection.h"

#include <QSqlQuery>

namespace sluice {

namespace {

QString timeText(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

// WHERE clauses and their values, built up one condition at a time.
struct Conditions
{
    QStringList clauses;
    QVariantList values;

    void add(const QString &clause, const QVariant &value)
    {
        clauses << clause;
        values << value;
    }
    QString where() const
    {
        return clauses.isEmpty()
                   ? QString()
                   : QStringLiteral(" WHERE ") + clauses.join(QStringLiteral(" AND "));
    }
};

void addPage(Conditions &c, qint64 afterId)
{
    if (afterId > 0)
        c.add(QStringLiteral("id < ?"), afterId);
}

QJsonValue nullable(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

}  // namespace

std::optional<QList<ViolationRow>> LimitEventQuery::violations(const ViolationFilter &filter,
                                                               int limit, qint64 afterId,
                                                               QString *error)
{
    Conditions c;
    if (filter.from.isValid())
        c.add(QStringLiteral("minute >= ?"), timeText(filter.from));
    if (filter.to.isValid())
        c.add(QStringLiteral("minute < ?"), timeText(filter.to));
    if (filter.userId)
        c.add(QStringLiteral("user_id = ?"), *filter.userId);
    if (filter.keyId)
        c.add(QStringLiteral("key_id = ?"), *filter.keyId);
    if (!filter.limitName.isEmpty())
        c.add(QStringLiteral("limit_name = ?"), filter.limitName);
    if (filter.shadow)
        c.add(QStringLiteral("shadow = ?"), int(*filter.shadow ? 1 : 0));
    addPage(c, afterId);
    auto q = m_db.query(QStringLiteral("SELECT id, minute, user_id, key_id, limit_name, "
                                       "limit_type, tier, route, shadow, count FROM violations") +
                            c.where() + QStringLiteral(" ORDER BY id DESC LIMIT %1").arg(limit),
                        c.values, error);
    if (!q)
        return std::nullopt;
    QList<ViolationRow> rows;
    while (q->next()) {
        ViolationRow r;
        r.id = q->value(0).toLongLong();
        r.minute = q->value(1).toString();
        r.userId = q->value(2).toLongLong();
        r.keyId = q->value(3).toLongLong();
        r.limitName = q->value(4).toString();
        r.limitType = q->value(5).toString();
        r.tier = q->value(6).toString();
        r.route = q->value(7).toString();
        r.shadow = q->value(8).toInt() != 0;
        r.count = q->value(9).toLongLong();
        rows << r;
    }
    return rows;
}

std::optional<QList<QuotaAlert>> LimitEventQuery::alerts(const AlertFilter &filter, int limit,
                                                         qint64 afterId, QString *error)
{
    Conditions c;
    if (filter.from.isValid())
        c.add(QStringLiteral("at >= ?"), timeText(filter.from));
    if (filter.to.isValid())
        c.add(QStringLiteral("at < ?"), timeText(filter.to));
    if (filter.userId)
        c.add(QStringLiteral("user_id = ?"), *filter.userId);
    addPage(c, afterId);
    auto q = m_db.query(QStringLiteral("SELECT id, at, month, scope, user_id, key_id, limit_name, "
                                       "threshold_percent, used, limit_value FROM alerts") +
                            c.where() + QStringLiteral(" ORDER BY id DESC LIMIT %1").arg(limit),
                        c.values, error);
    if (!q)
        return std::nullopt;
    QList<QuotaAlert> rows;
    while (q->next()) {
        QuotaAlert a;
        a.id = q->value(0).toLongLong();
        a.at = QDateTime::fromString(q->value(1).toString(), Qt::ISODateWithMs).toUTC();
        a.month = q->value(2).toString();
        a.scope = q->value(3).toString().toUtf8();
        a.userId = q->value(4).toLongLong();
        a.keyId = q->value(5).isNull() ? 0 : q->value(5).toLongLong();
        a.limitName = q->value(6).toString().toUtf8();
        a.thresholdPercent = q->value(7).toInt();
        a.used = q->value(8).toDouble();
        a.limit = q->value(9).toDouble();
        rows << a;
    }
    return rows;
}

QJsonObject LimitEventQuery::toJson(const ViolationRow &r)
{
    return {{QStringLiteral("id"), r.id},
            {QStringLiteral("minute"), r.minute},
            {QStringLiteral("user_id"), r.userId},
            {QStringLiteral("key_id"), r.keyId},
            {QStringLiteral("limit_name"), r.limitName},
            {QStringLiteral("limit_type"), r.limitType},
            {QStringLiteral("tier"), nullable(r.tier)},
            {QStringLiteral("route"), r.route},
            {QStringLiteral("shadow"), r.shadow},
            {QStringLiteral("count"), r.count}};
}

QJsonObject LimitEventQuery::toJson(const QuotaAlert &a)
{
    return {{QStringLiteral("id"), a.id},
            {QStringLiteral("at"), a.at.toUTC().toString(Qt::ISODateWithMs)},
            {QStringLiteral("month"), a.month},
            {QStringLiteral("scope"), QString::fromLatin1(a.scope)},
            {QStringLiteral("user_id"), a.userId},
            {QStringLiteral("key_id"), a.keyId > 0 ? QJsonValue(a.keyId) : QJsonValue()},
            {QStringLiteral("limit_name"), QString::fromUtf8(a.limitName)},
            {QStringLiteral("threshold_percent"), a.thresholdPercent},
            {QStringLiteral("used"), a.used},
            {QStringLiteral("limit"), a.limit}};
}

}  // namespace sluice
