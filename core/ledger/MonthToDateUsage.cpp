#include "MonthToDateUsage.h"

#include "DatabaseConnection.h"

#include <QSqlQuery>

namespace sluice {

std::optional<QList<MonthToDateRow>> MonthToDateUsage::load(DatabaseConnection &db,
                                                            const QDateTime &monthStart,
                                                            QString *error)
{
    auto q = db.query(QStringLiteral("SELECT user_id, key_id, route, model, "
                                     "SUM(CASE WHEN upstream <> '' THEN 1 ELSE 0 END), "
                                     "SUM(prompt_tokens + completion_tokens) "
                                     "FROM usage WHERE at >= ? "
                                     "GROUP BY user_id, key_id, route, model"),
                      {monthStart.toUTC().toString(Qt::ISODateWithMs)}, error);
    if (!q)
        return std::nullopt;
    QList<MonthToDateRow> rows;
    while (q->next()) {
        MonthToDateRow r;
        r.userId = q->value(0).toLongLong();
        r.keyId = q->value(1).toLongLong();
        r.route = q->value(2).toString();
        r.model = q->value(3).toString();
        r.forwarded = q->value(4).toLongLong();
        r.tokens = q->value(5).toLongLong();
        rows << r;
    }
    return rows;
}

}  // namespace sluice
