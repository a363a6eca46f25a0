#include "CliSession.h"

#include "CliIo.h"
#include "IdentitySeeder.h"
#include "Migrator.h"
#include "Schema.h"

namespace sluice {

namespace {

// Calls `list` (an AdminService list call for one Page) until a page comes back short.
template <typename T, typename List>
AdminResult<QList<T>> allPages(List list)
{
    QList<T> all;
    Page page;
    page.limit = 1000;
    for (;;) {
        AdminResult<QList<T>> listed = list(page);
        if (!listed.ok())
            return listed;
        all += *listed.value;
        if (listed.value->size() < page.limit)
            break;
        page.afterId = listed.value->last().id;
    }
    return AdminResult<QList<T>>::success(std::move(all));
}

}  // namespace

CliSession::CliSession(const GatewayConfig &config)
    : m_config(config), m_db(config.db, QStringLiteral("identity"))
{}

CliSession::~CliSession()
{
    m_admin.reset();  // holds a reference to m_db
}

int CliSession::open(QString *error)
{
    // A bad INI section is the configuration's fault, found before any database work.
    QString why;
    const std::optional<IdentitySeeder::Seed> seed =
        IdentitySeeder::fromIni(m_config.extraSections, &why, m_config.configFile);
    if (!seed) {
        *error = why;
        return CliIo::kUsage;
    }
    if (!m_db.open(&why)) {
        *error = why;
        return CliIo::kFailed;
    }
    // The same steps as a starting gateway, so the first command on a fresh database finds
    // the tables and the default tiers; on a prepared database both are no-ops.
    if (!Migrator::migrate(m_db, Schema::identityComponent(), Schema::identityMigrations(), &why) ||
        !IdentitySeeder::seed(m_db, *seed, &why)) {
        *error = QStringLiteral("identity database: %1").arg(why);
        return CliIo::kFailed;
    }
    m_admin = std::make_unique<AdminService>(m_db, actor());
    return CliIo::kOk;
}

bool CliSession::loadResolution(LimitResolver::Tiers *tiers, PrincipalDefaults *defaults,
                                QString *error)
{
    const AdminResult<QList<Tier>> listed = m_admin->listTiers();
    if (!listed.ok()) {
        *error = listed.error->message;
        return false;
    }
    for (const Tier &t : *listed.value)
        tiers->insert(t.name, t);
    const AdminResult<PrincipalDefaults> d = m_admin->getDefaults();
    if (!d.ok()) {
        *error = d.error->message;
        return false;
    }
    *defaults = *d.value;
    return true;
}

AdminResult<QList<User>> CliSession::allUsers(const UserFilter &filter)
{
    return allPages<User>([&](const Page &page) { return m_admin->listUsers(filter, page); });
}

AdminResult<QList<ApiKey>> CliSession::allKeys(const KeyFilter &filter)
{
    return allPages<ApiKey>([&](const Page &page) { return m_admin->listKeys(filter, page); });
}

QString CliSession::actor()
{
    QString name = qEnvironmentVariable("USER");
    if (name.isEmpty())
        name = qEnvironmentVariable("LOGNAME");
    if (name.isEmpty())
        name = QStringLiteral("unknown");
    return QStringLiteral("cli:") + name;
}

}  // namespace sluice
