#include "Schema.h"

namespace sluice {

QList<Migration> Schema::identityMigrations()
{
    return {
        {1,
         QStringLiteral("gateway instances"),
         {
             // Each running gateway upserts its row at start and refreshes last_seen_at; the
             // health check reads it, and shared deployments can see their peers.
             QStringLiteral("CREATE TABLE gateway_instances ("
                            "instance_id TEXT PRIMARY KEY, "
                            "hostname TEXT NOT NULL, "
                            "version TEXT NOT NULL, "
                            "started_at {{timestamp}} NOT NULL, "
                            "last_seen_at {{timestamp}} NOT NULL)"),
         }},
    };
}

QList<Migration> Schema::ledgerMigrations()
{
    return {
        {1,
         QStringLiteral("ledger metadata"),
         {
             QStringLiteral("CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT)"),
         }},
    };
}

}  // namespace sluice
