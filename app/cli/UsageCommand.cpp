#include "UsageCommand.h"

#include "CliGroup.h"
#include "CliIo.h"
#include "CliSession.h"
#include "DatabaseConnection.h"
#include "Migrator.h"
#include "Schema.h"
#include "TextTable.h"
#include "Timestamp.h"
#include "UsageJson.h"
#include "UsageQuery.h"
#include "UsageReport.h"

namespace sluice {

namespace {

const QString kUser = QStringLiteral("user");
const QString kKey = QStringLiteral("key");
const QString kModel = QStringLiteral("model");
const QString kSince = QStringLiteral("since");
const QString kUntil = QStringLiteral("until");
const QString kBy = QStringLiteral("by");
const QString kJson = QStringLiteral("json");

QString number(qint64 n)
{
    return QString::number(n);
}

QString dash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : text;
}

}  // namespace

QString UsageCommand::help()
{
    return QStringLiteral(
               "Usage: sluice usage [--user NAME] [--key ID|PREFIX] [--model M] [--since DATE]\n"
               "                    [--until DATE] [--by model|key|day|user] [--json]\n"
               "\n"
               "Shows what the gateway recorded in the usage ledger (--ledger-db, else --db): "
               "requests, failed\nrequests (status 400 and above, 499 = client abort), requests "
               "with estimated tokens, tokens\nand the average latency, in total or one row per "
               "day (UTC), model, key or user.\nWhole-day periods are read from the daily "
               "rollup, which is kept forever; a --since or --until\nwith a time of day reads "
               "the raw rows, which are pruned after the retention (90 days).\n"
               "\n"
               "  --user NAME             only this user's requests (a name or an id)\n"
               "  --key ID|PREFIX         only this key's requests (id or display prefix)\n"
               "  --model M               only requests for this model (exact name)\n"
               "  --since DATE            from this time on (ISO 8601: 2026-05-01 = midnight UTC, "
               "or\n"
               "                          2026-05-01T12:00:00Z; UTC unless an offset is given)\n"
               "  --until DATE            up to this time, not including it (2026-06-01 ends "
               "May)\n"
               "  --by G                  one row per day, model, key or user; one total row "
               "without it\n"
               "  --json                  print {\"data\": [...], \"group_by\", \"from\", "
               "\"to\"} as the admin API does\n") +
           CliGroup::commonOptionsHelp();
}

int UsageCommand::run(const QStringList &args) const
{
    const QList<CliFlag> flags = {{kUser},  {kKey}, {kModel},      {kSince},
                                  {kUntil}, {kBy},  {kJson, false}};
    CliArgs parsed;
    QString error;
    if (!parsed.parse(args, flags, &error))
        return CliIo::usageError(QStringLiteral("%1 (see sluice usage --help)").arg(error));
    if (parsed.help()) {
        CliIo::out(help());
        return CliIo::kOk;
    }
    return report(parsed);
}

int UsageCommand::report(const CliArgs &args) const
{
    // Every usage error before any database is opened.
    QString error;
    if (!args.expectPositional(0, QStringLiteral("sluice usage [options]"), &error))
        return CliIo::usageError(error);
    UsageReport::Request request;
    request.user = args.value(kUser);
    request.key = args.value(kKey);
    request.model = args.value(kModel);
    for (const QString &flag : {kSince, kUntil}) {
        if (!args.has(flag))
            continue;
        const QString text = args.value(flag);
        const QDateTime t = Timestamp::parse(text);
        if (!t.isValid()) {
            return CliIo::usageError(
                QStringLiteral("invalid value \"%1\" for --%2: expected an ISO 8601 date "
                               "(2026-05-01) or date-time (2026-05-01T12:00:00Z)")
                    .arg(text, flag));
        }
        (flag == kSince ? request.from : request.to) = t;
    }
    if (request.from.isValid() && request.to.isValid() && request.from >= request.to) {
        return CliIo::usageError(
            QStringLiteral("--until %1 must be after --since %2")
                .arg(Timestamp::toText(request.to), Timestamp::toText(request.from)));
    }
    const std::optional<UsageGrouping> grouping = UsageQuery::groupingFromText(args.value(kBy));
    if (!grouping || (args.has(kBy) && args.value(kBy).trimmed().isEmpty())) {
        return CliIo::usageError(
            QStringLiteral("invalid value \"%1\" for --by: expected model, key, day or user")
                .arg(args.value(kBy)));
    }
    const UsageGrouping g = *grouping;

    // The identity database only when names are involved: filters by name, or labels.
    const bool needIdentity = !request.user.isEmpty() || !request.key.isEmpty() ||
                              g == UsageGrouping::Key || g == UsageGrouping::User;
    std::unique_ptr<CliSession> session;
    UsageFilter filter;
    filter.model = request.model;
    filter.from = request.from;
    filter.to = request.to;
    if (needIdentity) {
        session = std::make_unique<CliSession>(m_config);
        if (const int code = session->open(&error))
            return CliIo::exitWith(code, error);
        const AdminResult<UsageFilter> resolved = UsageReport::resolve(session->admin(), request);
        if (!resolved.ok())
            return CliIo::adminError(*resolved.error);
        filter = *resolved.value;
    }

    // Migrated like the gateway does, so a fresh database answers with zeros, not an error.
    DatabaseConnection ledger(m_config.effectiveLedgerDb(), QStringLiteral("ledger"));
    if (!ledger.open(&error) ||
        !Migrator::migrate(ledger, Schema::ledgerComponent(), Schema::ledgerMigrations(), &error))
        return CliIo::failure(QStringLiteral("ledger database: %1").arg(error));
    const std::optional<QList<UsageRow>> rows = UsageQuery(ledger).aggregate(filter, g, &error);
    if (!rows)
        return CliIo::failure(QStringLiteral("ledger database: %1").arg(error));
    const UsageReport::Labels labels =
        session ? UsageReport::labels(session->admin(), *rows, g) : UsageReport::Labels();

    if (args.has(kJson)) {
        CliIo::json(UsageJson::answer(UsageReport::rowsToJson(*rows, g, labels), filter, g));
        return CliIo::kOk;
    }
    QStringList headers;
    switch (g) {
        case UsageGrouping::Total:
            break;
        case UsageGrouping::Day:
            headers << QStringLiteral("DAY");
            break;
        case UsageGrouping::Model:
            headers << QStringLiteral("MODEL");
            break;
        case UsageGrouping::Key:
            headers << QStringLiteral("KEY") << QStringLiteral("PREFIX") << QStringLiteral("USER");
            break;
        case UsageGrouping::User:
            headers << QStringLiteral("USER-ID") << QStringLiteral("USER");
            break;
    }
    const int numericFrom = int(headers.size());
    headers << QStringLiteral("REQUESTS") << QStringLiteral("FAILED") << QStringLiteral("EST")
            << QStringLiteral("PROMPT") << QStringLiteral("COMPLETION") << QStringLiteral("TOTAL")
            << QStringLiteral("CACHED") << QStringLiteral("CACHE-WRITE")
            << QStringLiteral("REASONING") << QStringLiteral("AVG-MS");
    TextTable table(headers);
    for (int i = numericFrom; i < headers.size(); ++i)
        table.setRightAligned(i);
    if (g == UsageGrouping::Key || g == UsageGrouping::User)
        table.setRightAligned(0);
    for (const UsageRow &row : *rows) {
        QStringList cells;
        const UsageReport::Label label = labels.value(row.group.toLongLong());
        switch (g) {
            case UsageGrouping::Total:
                break;
            case UsageGrouping::Day:
            case UsageGrouping::Model:
                cells << dash(row.group.toString());
                break;
            case UsageGrouping::Key:
                cells << number(row.group.toLongLong()) << dash(label.prefix) << dash(label.user);
                break;
            case UsageGrouping::User:
                cells << number(row.group.toLongLong()) << dash(label.user);
                break;
        }
        cells << number(row.requests) << number(row.errors) << number(row.estimated)
              << number(row.promptTokens) << number(row.completionTokens)
              << number(row.totalTokens()) << number(row.cachedTokens)
              << number(row.cacheWriteTokens) << number(row.reasoningTokens)
              << QString::number(row.averageLatencyMs(), 'f', 1);
        table.addRow(cells);
    }
    CliIo::out(table.render());
    if (rows->isEmpty())
        CliIo::err(QStringLiteral("no usage recorded for this selection\n"));
    return CliIo::kOk;
}

}  // namespace sluice
