#include "CostTable.h"

#include <cmath>

namespace sluice {
namespace {

struct RouteName
{
    const char *path;
    const char *name;
};
constexpr RouteName kRoutes[] = {
    {"/v1/chat/completions", "chat_completions"},
    {"/v1/completions", "completions"},
    {"/v1/embeddings", "embeddings"},
    {"/v1/responses", "responses"},
    {"/v1/models", "models"},
    {"/v1/messages", "messages"},
    {"/v1/messages/count_tokens", "count_tokens"},
};

}  // namespace

const QStringList &CostTable::routeNames()
{
    static const QStringList names = [] {
        QStringList out;
        for (const RouteName &r : kRoutes)
            out << QLatin1String(r.name);
        return out;
    }();
    return names;
}

QByteArrayView CostTable::routeName(QByteArrayView path)
{
    for (const RouteName &r : kRoutes) {
        if (path == r.path)
            return r.name;
    }
    return {};
}

std::optional<CostTable> CostTable::fromIni(const QMap<QString, QMap<QString, QVariant>> &sections,
                                            QString *error)
{
    CostTable table;
    const auto it = sections.constFind(QStringLiteral("cost"));
    if (it == sections.cend())
        return table;
    for (auto kv = it->cbegin(); kv != it->cend(); ++kv) {
        if (!routeNames().contains(kv.key())) {
            *error = QStringLiteral("unknown key \"%1\" in [cost]: expected one of %2")
                         .arg(kv.key(), routeNames().join(QStringLiteral(", ")));
            return std::nullopt;
        }
        const QString text = kv.value().toString().trimmed();
        bool ok = false;
        const double cost = text.toDouble(&ok);
        if (!ok || !std::isfinite(cost) || cost < 0 || cost > 1000) {
            *error = QStringLiteral(
                         "invalid value \"%1\" for %2 in [cost]: expected a number "
                         "from 0 to 1000 (0 = not counted)")
                         .arg(kv.value().toString(), kv.key());
            return std::nullopt;
        }
        table.set(kv.key(), cost);
    }
    return table;
}

double CostTable::costOf(QByteArrayView path) const
{
    if (m_costs.isEmpty())
        return 1;
    const QByteArrayView name = routeName(path);
    return name.isEmpty() ? 1 : m_costs.value(QString::fromLatin1(name), 1.0);
}

}  // namespace sluice
