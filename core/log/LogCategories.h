#pragma once

#include <QLoggingCategory>

// One category per area, so `--log-level` and QT_LOGGING_RULES can filter them independently.
Q_DECLARE_LOGGING_CATEGORY(lcGateway)   // sluice.gateway: start, stop, drain
Q_DECLARE_LOGGING_CATEGORY(lcConfig)    // sluice.config
Q_DECLARE_LOGGING_CATEGORY(lcServer)    // sluice.server: listeners, connections, workers
Q_DECLARE_LOGGING_CATEGORY(lcHttp)      // sluice.http: protocol errors
Q_DECLARE_LOGGING_CATEGORY(lcStorage)   // sluice.storage: databases, migrations
Q_DECLARE_LOGGING_CATEGORY(lcIdentity)  // sluice.identity: users, keys, tiers, admin edits
Q_DECLARE_LOGGING_CATEGORY(lcHealth)    // sluice.health: component transitions
Q_DECLARE_LOGGING_CATEGORY(lcMetrics)   // sluice.metrics
Q_DECLARE_LOGGING_CATEGORY(lcLedger)    // sluice.ledger: usage ledger writer, pruning
Q_DECLARE_LOGGING_CATEGORY(lcUpstream)  // sluice.upstream: upstream connections, retries
Q_DECLARE_LOGGING_CATEGORY(lcAccess)    // sluice.access: one line per request
