#pragma once

#include "CliGroup.h"
#include "GatewayConfig.h"

#include <QStringList>

namespace sluice {

// `sluice keys create|list|set|revoke`. `create` prints the new key alone on the last line of
// stdout (scripts: `| tail -1`) or inside a JSON object with --json; everything else about it
// goes to stderr. The plaintext exists only in that output: it is never stored or logged.
class KeysCommand
{
public:
    explicit KeysCommand(const GatewayConfig &config) : m_config(config) {}

    int run(const QStringList &args) const { return group().run(args); }
    CliGroup group() const;

private:
    int create(const CliArgs &args) const;
    int list(const CliArgs &args) const;
    int set(const CliArgs &args) const;
    int revoke(const CliArgs &args) const;

    const GatewayConfig &m_config;
};

}  // namespace sluice
