#pragma once

#include <QByteArrayView>
#include <QMap>
#include <QString>
#include <QVariant>
#include <optional>

namespace sluice {

// Per-route cost multipliers from the INI's [cost] section, keyed by route name (QSettings
// keys cannot hold "/"): `embeddings = 0.5` makes an embeddings call count as half a request
// on every request-counting limit. Token limits are not scaled. Unlisted routes cost 1.
class CostTable
{
public:
    // The route names, in the order of the docs: chat_completions, completions, embeddings,
    // responses, models, messages, count_tokens.
    static const QStringList &routeNames();
    // "/v1/chat/completions" -> "chat_completions"; empty for paths that are no API route.
    static QByteArrayView routeName(QByteArrayView path);

    // nullopt with *error naming the key, the value and what was expected (exit 2).
    static std::optional<CostTable> fromIni(const QMap<QString, QMap<QString, QVariant>> &sections,
                                            QString *error);

    double costOf(QByteArrayView path) const;
    void set(const QString &route, double cost) { m_costs.insert(route, cost); }

private:
    QMap<QString, double> m_costs;
};

}  // namespace sluice
