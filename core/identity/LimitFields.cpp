#include "LimitFields.h"

#include <QRegularExpression>
#include <cmath>

namespace sluice {

namespace {

constexpr QLatin1String kRps("requests_per_second");

// A pointer to one of the integer fields (const or not, following `l`), or nullptr.
template <typename L>
auto intField(L &l, const QString &name) -> decltype(&l.burst)
{
    if (name == QLatin1String("burst"))
        return &l.burst;
    if (name == QLatin1String("requests_per_minute"))
        return &l.requestsPerMinute;
    if (name == QLatin1String("tokens_per_minute"))
        return &l.tokensPerMinute;
    if (name == QLatin1String("monthly_requests"))
        return &l.monthlyRequests;
    if (name == QLatin1String("monthly_tokens"))
        return &l.monthlyTokens;
    if (name == QLatin1String("concurrent_requests"))
        return &l.concurrentRequests;
    return nullptr;
}

}  // namespace

const QStringList &LimitFields::names()
{
    static const QStringList n = {QString(kRps),
                                  QStringLiteral("burst"),
                                  QStringLiteral("requests_per_minute"),
                                  QStringLiteral("tokens_per_minute"),
                                  QStringLiteral("monthly_requests"),
                                  QStringLiteral("monthly_tokens"),
                                  QStringLiteral("concurrent_requests")};
    return n;
}

bool LimitFields::isName(const QString &name)
{
    return names().contains(name);
}

bool LimitFields::isFractional(const QString &name)
{
    return name == kRps;
}

QVariant LimitFields::value(const LimitOverrides &limits, const QString &name)
{
    if (name == kRps)
        return limits.requestsPerSecond ? QVariant(*limits.requestsPerSecond) : QVariant();
    const std::optional<qint64> *field = intField(limits, name);
    return field && *field ? QVariant(qint64(**field)) : QVariant();
}

void LimitFields::setValue(LimitOverrides &limits, const QString &name, const QVariant &value)
{
    if (name == kRps) {
        limits.requestsPerSecond =
            value.isNull() ? std::nullopt : std::optional<double>(value.toDouble());
        return;
    }
    if (std::optional<qint64> *field = intField(limits, name))
        *field = value.isNull() ? std::nullopt : std::optional<qint64>(value.toLongLong());
}

std::optional<QVariant> LimitFields::parse(const QString &name, const QString &text,
                                           QString *expected)
{
    const QString s = text.trimmed();
    if (s.isEmpty())
        return QVariant();
    if (isFractional(name)) {
        // A regex rather than toDouble() alone, which accepts "inf", "nan", "1e3" and "-1".
        static const QRegularExpression re(QStringLiteral(R"(^(\d+(\.\d*)?|\.\d+)$)"));
        bool ok = false;
        const double d = s.toDouble(&ok);
        if (re.match(s).hasMatch() && ok && std::isfinite(d))
            return QVariant(d);
    } else {
        static const QRegularExpression re(QStringLiteral(R"(^\d+$)"));
        bool ok = false;
        const qint64 n = s.toLongLong(&ok);
        if (re.match(s).hasMatch() && ok)
            return QVariant(n);
    }
    if (expected)
        *expected = expectation(name);
    return std::nullopt;
}

QString LimitFields::expectation(const QString &name)
{
    return isFractional(name) ? QStringLiteral("a non-negative number")
                              : QStringLiteral("a non-negative integer");
}

QString LimitFields::firstInvalid(const LimitOverrides &limits)
{
    if (limits.requestsPerSecond &&
        (!std::isfinite(*limits.requestsPerSecond) || *limits.requestsPerSecond < 0))
        return kRps;
    for (const QString &name : names()) {
        const QVariant v = value(limits, name);
        if (!isFractional(name) && !v.isNull() && v.toLongLong() < 0)
            return name;
    }
    return {};
}

}  // namespace sluice
