#include "LogCategories.h"

Q_LOGGING_CATEGORY(lcGateway, "sluice.gateway")
Q_LOGGING_CATEGORY(lcConfig, "sluice.config")
Q_LOGGING_CATEGORY(lcServer, "sluice.server")
Q_LOGGING_CATEGORY(lcHttp, "sluice.http")
Q_LOGGING_CATEGORY(lcStorage, "sluice.storage")
Q_LOGGING_CATEGORY(lcIdentity, "sluice.identity")
Q_LOGGING_CATEGORY(lcHealth, "sluice.health")
Q_LOGGING_CATEGORY(lcMetrics, "sluice.metrics")
Q_LOGGING_CATEGORY(lcLedger, "sluice.ledger")
Q_LOGGING_CATEGORY(lcUpstream, "sluice.upstream")
Q_LOGGING_CATEGORY(lcAccess, "sluice.access")
