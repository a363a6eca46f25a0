#include "UsageReport.h"

#include "UsageJson.h"

namespace sluice {

namespace {

QJsonValue textOrNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

}  // namespace

AdminResult<UsageFilter> UsageReport::resolve(AdminService &admin, const Request &request)
{
    UsageFilter filter;
    filter.model = request.model;
    filter.from = request.from;
    filter.to = request.to;
    if (!request.user.isEmpty()) {
        const AdminResult<User> user = admin.getUser(request.user);
        if (!user.ok())
            return AdminResult<UsageFilter>::failure(*user.error);
        filter.userId = user.value->id;
    }
    if (!request.key.isEmpty()) {
        const AdminResult<ApiKey> key = admin.getKey(request.key);
        if (!key.ok())
            return AdminResult<UsageFilter>::failure(*key.error);
        filter.keyId = key.value->id;
    }
    return AdminResult<UsageFilter>::success(filter);
}

UsageReport::Labels UsageReport::labels(AdminService &admin, const QList<UsageRow> &rows,
                                        UsageGrouping grouping)
{
    Labels out;
    if (grouping != UsageGrouping::Key && grouping != UsageGrouping::User)
        return out;
    // One lookup per group: a report has as many rows as keys or users with usage, and names
    // that are gone (or live in a database this process cannot see) just stay empty.
    for (const UsageRow &row : rows) {
        const qint64 id = row.group.toLongLong();
        if (out.contains(id))
            continue;
        Label label;
        if (grouping == UsageGrouping::User) {
            if (const AdminResult<User> u = admin.getUser(QString::number(id)); u.ok())
                label.user = u.value->name;
        } else if (const AdminResult<ApiKey> k = admin.getKey(QString::number(id)); k.ok()) {
            label.user = k.value->userName;
            label.prefix = k.value->prefix;
        }
        out.insert(id, label);
    }
    return out;
}

QJsonArray UsageReport::rowsToJson(const QList<UsageRow> &rows, UsageGrouping grouping,
                                   const Labels &labels)
{
    QJsonArray data;
    for (const UsageRow &row : rows) {
        QJsonObject o = UsageJson::toJson(row);
        if (grouping == UsageGrouping::Key || grouping == UsageGrouping::User) {
            const Label label = labels.value(row.group.toLongLong());
            o.insert(QStringLiteral("user"), textOrNull(label.user));
            if (grouping == UsageGrouping::Key)
                o.insert(QStringLiteral("prefix"), textOrNull(label.prefix));
        }
        data.append(o);
    }
    return data;
}

}  // namespace sluice
