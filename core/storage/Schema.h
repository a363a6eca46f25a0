#pragma once

#include "Migration.h"

#include <QList>
#include <QString>

namespace sluice {

// The gateway's tables, as migrations per component. Identity (users, keys, tiers, instances)
// and the usage ledger are separate components because they may live in separate databases
// (--db and --ledger-db). Append new versions; never edit a released one.
class Schema
{
public:
    static QString identityComponent() { return QStringLiteral("identity"); }
    static QString ledgerComponent() { return QStringLiteral("ledger"); }

    static QList<Migration> identityMigrations();
    static QList<Migration> ledgerMigrations();
};

}  // namespace sluice
