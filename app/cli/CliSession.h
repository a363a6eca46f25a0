#pragma once

#include "AdminService.h"
#include "DatabaseConnection.h"
#include "GatewayConfig.h"
#include "LimitResolver.h"

#include <QHash>
#include <QString>
#include <memory>

namespace sluice {

// One command's connection to the identity database (--db): opened, migrated and seeded the
// way the gateway does at start, so the command line works on a fresh database as well as on
// one a running gateway uses (SQLite in WAL mode with a busy timeout, or PostgreSQL).
// Every edit goes through AdminService with the actor "cli:$USER".
class CliSession
{
public:
    explicit CliSession(const GatewayConfig &config);
    ~CliSession();
    CliSession(const CliSession &) = delete;
    CliSession &operator=(const CliSession &) = delete;

    // Opens, migrates and seeds. Returns CliIo::kOk, or with *error the exit code: kUsage for a
    // bad [tier.NAME] / [defaults.*] INI section, kFailed when the database fails.
    int open(QString *error);

    AdminService &admin() { return *m_admin; }

    // Every user / key that matches `filter`, read page after page.
    AdminResult<QList<User>> allUsers(const UserFilter &filter);
    AdminResult<QList<ApiKey>> allKeys(const KeyFilter &filter);

    // Tiers by name and the per-principal defaults, for showing effective limits.
    // False with *error when they cannot be read.
    bool loadResolution(LimitResolver::Tiers *tiers, PrincipalDefaults *defaults, QString *error);

    // "cli:" + the login name ($USER, else $LOGNAME, else "unknown").
    static QString actor();

private:
    const GatewayConfig &m_config;
    DatabaseConnection m_db;
    std::unique_ptr<AdminService> m_admin;
};

}  // namespace sluice
