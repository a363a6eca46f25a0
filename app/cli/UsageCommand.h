#pragma once

#include "CliArgs.h"
#include "GatewayConfig.h"

#include <QStringList>

namespace sluice {

// `sluice usage [--user NAME] [--key ID|PREFIX] [--model M] [--since DATE] [--until DATE]
// [--by model|key|day|user] [--json]`: aggregates of the usage ledger (the ledger database,
// --ledger-db or else --db), with user names and key prefixes resolved on the identity database.
// One command without subcommands, so it parses its own flags instead of using a CliGroup.
class UsageCommand
{
public:
    explicit UsageCommand(const GatewayConfig &config) : m_config(config) {}

    int run(const QStringList &args) const;
    static QString help();

private:
    int report(const CliArgs &args) const;

    const GatewayConfig &m_config;
};

}  // namespace sluice
