#pragma once

#include "CliGroup.h"
#include "GatewayConfig.h"

#include <QStringList>

namespace sluice {

// `sluice tiers list|set`.
class TiersCommand
{
public:
    explicit TiersCommand(const GatewayConfig &config) : m_config(config) {}

    int run(const QStringList &args) const { return group().run(args); }
    CliGroup group() const;

private:
    int list(const CliArgs &args) const;
    int set(const CliArgs &args) const;

    const GatewayConfig &m_config;
};

}  // namespace sluice
