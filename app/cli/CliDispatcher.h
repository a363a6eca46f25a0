#pragma once

#include "GatewayConfig.h"

#include <QString>
#include <QStringList>

namespace sluice {

// The administrative command line: `sluice users|keys|tiers ...`. main() hands it the
// positional words ConfigLoader left over; the gateway's own flags (--db, --config, ...) are
// already in `config`.
class CliDispatcher
{
public:
    // Runs the command and returns the exit status: 0 success, 2 usage error or refused
    // change, 1 database failure.
    static int run(const QStringList &positional, const GatewayConfig &config);

    // The command overview appended to `sluice --help`.
    static QString commandsHelp();
};

}  // namespace sluice
