#include "UsersCommand.h"

#include "CliIo.h"
#include "CliSession.h"
#include "CliValues.h"
#include "IdentityJson.h"
#include "LimitFlags.h"
#include "TextTable.h"

#include <QJsonArray>

namespace sluice {

namespace {

const QString kJson = QStringLiteral("json");

QString describe(const User &u)
{
    return QStringLiteral("user %1 (id %2, tier %3, %4)")
        .arg(u.name, QString::number(u.id), u.tier, u.status);
}

int printUser(const CliArgs &args, const User &user, const QString &verb)
{
    if (args.has(kJson))
        CliIo::json(IdentityJson::toJson(user));
    else
        CliIo::out(QStringLiteral("%1 %2\n").arg(verb, describe(user)));
    return CliIo::kOk;
}

}  // namespace

CliGroup UsersCommand::group() const
{
    const QString jsonHelp = QStringLiteral("  --json                  print the result as JSON\n");
    QList<CliFlag> addFlags = {{QStringLiteral("tier")}, {QStringLiteral("email")}, {kJson, false}};
    addFlags += LimitFlags::flags();
    QList<CliFlag> setFlags = addFlags;
    setFlags.append({QStringLiteral("rename")});
    return CliGroup(
        QStringLiteral("users"),
        QStringLiteral("Users own API keys; their tier and limit overrides bound the requests of "
                       "all their keys together."),
        {
            {QStringLiteral("add"), QStringLiteral("NAME [--tier T] [--email E] [limits] [--json]"),
             QStringLiteral("create a user (on tier free unless --tier says otherwise)"),
             QStringLiteral("Creates the user NAME. A new user is on the tier \"free\" unless "
                            "--tier names another;\nlimit flags set overrides on the user."),
             addFlags,
             QStringLiteral("  --tier T                the user's tier (default free)\n"
                            "  --email E               contact address, optional\n") +
                 jsonHelp + u'\n' + LimitFlags::helpText(),
             [this](const CliArgs &a) { return add(a); }},
            {QStringLiteral("list"),
             QStringLiteral("[--tier T] [--status active|disabled] [--json]"),
             QStringLiteral("list users with their effective limits"),
             QStringLiteral(
                 "Lists users with their effective limits: the user's override, else its tier's "
                 "value,\nelse the per-user default. \"*\" marks an override set on the user, "
                 "\"unlimited\" a limit of 0.\nTimes are UTC."),
             {{QStringLiteral("tier")}, {QStringLiteral("status")}, {kJson, false}},
             QStringLiteral("  --tier T                only users on tier T\n"
                            "  --status S              only active or disabled users\n"
                            "  --json                  print a JSON array (with \"effective\" "
                            "limits)\n"),
             [this](const CliArgs &a) { return list(a); }},
            {QStringLiteral("disable"),
             QStringLiteral("NAME [--json]"),
             QStringLiteral("disable a user: every key of theirs is refused"),
             QStringLiteral("Disables the user NAME: running gateways refuse all of their keys "
                            "within a second.\n\"sluice users enable NAME\" undoes it."),
             {{kJson, false}},
             jsonHelp,
             [this](const CliArgs &a) { return setStatus(a, false); }},
            {QStringLiteral("enable"),
             QStringLiteral("NAME [--json]"),
             QStringLiteral("enable a disabled user again"),
             QStringLiteral("Enables the user NAME again; their active keys work again."),
             {{kJson, false}},
             jsonHelp,
             [this](const CliArgs &a) { return setStatus(a, true); }},
            {QStringLiteral("set"),
             QStringLiteral("NAME [--rename NEW] [--tier T] [--email E] [limits] [--json]"),
             QStringLiteral("change a user's name, tier, email or limit overrides"),
             QStringLiteral("Changes the user NAME. Only the options given are changed; a limit "
                            "set to \"inherit\" (or \"\")\ngoes back to the tier's value."),
             setFlags,
             QStringLiteral("  --rename NEW            new name (the id, keys and usage stay)\n"
                            "  --tier T                move the user to tier T\n"
                            "  --email E               contact address (\"\" removes it)\n") +
                 jsonHelp + u'\n' + LimitFlags::helpText(),
             [this](const CliArgs &a) { return set(a); }},
        });
}

int UsersCommand::add(const CliArgs &args) const
{
    QString error;
    NewUser user;
    QStringList cleared;  // nothing to clear on a new user: "inherit" is what it starts with
    if (!args.expectPositional(1, QStringLiteral("sluice users add NAME"), &error) ||
        !LimitFlags::read(args, &user.limits, &cleared, &error))
        return CliIo::usageError(error);
    user.name = args.positional().first();
    user.email = args.value(QStringLiteral("email"));
    user.tier = args.value(QStringLiteral("tier"));

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<User> created = session.admin().createUser(user);
    if (!created.ok())
        return CliIo::adminError(*created.error);
    return printUser(args, *created.value, QStringLiteral("created"));
}

int UsersCommand::list(const CliArgs &args) const
{
    QString error;
    if (!args.expectPositional(0, QStringLiteral("sluice users list"), &error))
        return CliIo::usageError(error);
    UserFilter filter;
    filter.tier = args.value(QStringLiteral("tier"));
    filter.status = args.value(QStringLiteral("status"));

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<QList<User>> listed = session.allUsers(filter);
    if (!listed.ok())
        return CliIo::adminError(*listed.error);
    const QList<User> &users = *listed.value;
    LimitResolver::Tiers tiers;
    PrincipalDefaults defaults;
    if (!session.loadResolution(&tiers, &defaults, &error))
        return CliIo::failure(error);

    if (args.has(kJson)) {
        QJsonArray array;
        for (const User &u : users) {
            QJsonObject o = IdentityJson::toJson(u);
            o.insert(QStringLiteral("effective"),
                     IdentityJson::toJson(LimitResolver::forUser(u, tiers, defaults)));
            array.append(o);
        }
        CliIo::json(array);
        return CliIo::kOk;
    }
    QStringList headers = {QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("EMAIL"),
                           QStringLiteral("TIER"), QStringLiteral("STATUS")};
    for (const LimitFlags::Field &f : LimitFlags::fields())
        headers << QLatin1String(f.header);
    headers << QStringLiteral("CREATED");
    TextTable table(headers);
    table.setRightAligned(0);
    for (int i = 5; i < 5 + LimitFlags::fields().size(); ++i)
        table.setRightAligned(i);
    for (const User &u : users) {
        table.addRow(
            QStringList{QString::number(u.id), u.name, CliValues::cell(u.email), u.tier, u.status} +
            CliValues::limitCells(LimitResolver::forUser(u, tiers, defaults), u.limits) +
            QStringList{CliValues::formatDate(u.createdAt, QStringLiteral("-"))});
    }
    CliIo::out(table.render());
    return CliIo::kOk;
}

int UsersCommand::setStatus(const CliArgs &args, bool active) const
{
    QString error;
    const QString usage = active ? QStringLiteral("sluice users enable NAME")
                                 : QStringLiteral("sluice users disable NAME");
    if (!args.expectPositional(1, usage, &error))
        return CliIo::usageError(error);

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const QString name = args.positional().first();
    AdminResult<User> result;
    if (active) {
        UserPatch patch;
        patch.status = QStringLiteral("active");
        result = session.admin().updateUser(name, patch);
    } else {
        result = session.admin().disableUser(name);
    }
    if (!result.ok())
        return CliIo::adminError(*result.error);
    return printUser(args, *result.value,
                     active ? QStringLiteral("enabled") : QStringLiteral("disabled"));
}

int UsersCommand::set(const CliArgs &args) const
{
    QString error;
    UserPatch patch;
    if (!args.expectPositional(1, QStringLiteral("sluice users set NAME [options]"), &error) ||
        !LimitFlags::read(args, &patch.limits, &patch.clearLimits, &error))
        return CliIo::usageError(error);
    if (args.has(QStringLiteral("tier")))
        patch.tier = args.value(QStringLiteral("tier"));
    if (args.has(QStringLiteral("email")))
        patch.email = args.value(QStringLiteral("email"));
    if (args.has(QStringLiteral("rename")))
        patch.name = args.value(QStringLiteral("rename"));
    if (!patch.name && !patch.tier && !patch.email && patch.limits.isEmpty() &&
        patch.clearLimits.isEmpty()) {
        return CliIo::usageError(
            QStringLiteral("nothing to change: give --rename, --tier, --email or a limit option "
                           "(see sluice users set --help)"));
    }

    CliSession session(m_config);
    if (const int code = session.open(&error))
        return CliIo::exitWith(code, error);
    const AdminResult<User> updated = session.admin().updateUser(args.positional().first(), patch);
    if (!updated.ok())
        return CliIo::adminError(*updated.error);
    if (!args.has(kJson)) {
        CliIo::out(
            QStringLiteral("updated %1; overrides: %2\n")
                .arg(describe(*updated.value), CliValues::storedSummary(updated.value->limits)));
        return CliIo::kOk;
    }
    return printUser(args, *updated.value, QStringLiteral("updated"));
}

}  // namespace sluice
