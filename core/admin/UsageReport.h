#pragma once

#include "AdminService.h"
#include "UsageQuery.h"

#include <QHash>
#include <QJsonArray>
#include <QString>

namespace sluice {

// The identity side of a usage report, shared by GET /admin/v1/usage and `sluice usage`: user
// names and key prefixes become ids before the ledger is queried (the ledger stores ids only and
// may live in another database), and ids become names again for the answer.
class UsageReport
{
public:
    // What the caller asked for, as given.
    struct Request
    {
        QString user;  // name or id; empty = every user
        QString key;   // id, display prefix or the whole key; empty = every key
        QString model;
        QDateTime from;
        QDateTime to;
    };

    // Who a key or user group is, for display. Empty when identity no longer knows the id.
    struct Label
    {
        QString user;    // user name (User and Key groups)
        QString prefix;  // key display prefix (Key groups)
    };
    using Labels = QHash<qint64, Label>;

    // The ledger filter; NotFound (field "user" or "key") when the name or key does not exist,
    // Conflict when a prefix matches several keys.
    static AdminResult<UsageFilter> resolve(AdminService &admin, const Request &request);

    // Names of the ids in Key and User groups (nothing for other groupings).
    static Labels labels(AdminService &admin, const QList<UsageRow> &rows, UsageGrouping grouping);

    // UsageJson's rows, plus "user" (User groups) or "prefix" and "user" (Key groups), null when
    // unknown.
    static QJsonArray rowsToJson(const QList<UsageRow> &rows, UsageGrouping grouping,
                                 const Labels &labels);
};

}  // namespace sluice
