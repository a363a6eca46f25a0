#pragma once

#include "CliGroup.h"
#include "GatewayConfig.h"

#include <QStringList>

namespace sluice {

// `sluice users add|list|disable|enable|set`.
class UsersCommand
{
public:
    explicit UsersCommand(const GatewayConfig &config) : m_config(config) {}

    int run(const QStringList &args) const { return group().run(args); }
    CliGroup group() const;

private:
    int add(const CliArgs &args) const;
    int list(const CliArgs &args) const;
    int setStatus(const CliArgs &args, bool active) const;
    int set(const CliArgs &args) const;

    const GatewayConfig &m_config;
};

}  // namespace sluice
