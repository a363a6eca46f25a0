#include "ConfigValues.h"

#include <QRegularExpression>
#include <cmath>

namespace sluice {

namespace {

// Beyond 2^53 doubles stop being exact; no sane size is that large.
constexpr double kMaxBytes = 9007199254740992.0;

}  // namespace

std::optional<bool> ConfigValues::parseBool(const QString &text, QString *expected)
{
    const QString s = text.trimmed().toLower();
    if (s == QLatin1String("true") || s == QLatin1String("1") || s == QLatin1String("yes") ||
        s == QLatin1String("on"))
        return true;
    if (s == QLatin1String("false") || s == QLatin1String("0") || s == QLatin1String("no") ||
        s == QLatin1String("off"))
        return false;
    if (expected)
        *expected = QStringLiteral("a boolean: true/false, 1/0, yes/no or on/off");
    return std::nullopt;
}

std::optional<qint64> ConfigValues::parseByteSize(const QString &text, QString *expected)
{
    static const QRegularExpression re(QStringLiteral(R"(^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$)"));
    const auto m = re.match(text.trimmed());
    if (m.hasMatch()) {
        const QString number = m.captured(1);
        const QString suffix = m.captured(2).toLower();
        double multiplier = 0;
        if (suffix.isEmpty() || suffix == QLatin1String("b"))
            multiplier = number.contains(u'.') ? 0 : 1;  // a fraction of a byte is a typo
        else if (suffix == QLatin1String("k") || suffix == QLatin1String("kib"))
            multiplier = 1024.0;
        else if (suffix == QLatin1String("m") || suffix == QLatin1String("mib"))
            multiplier = 1024.0 * 1024;
        else if (suffix == QLatin1String("g") || suffix == QLatin1String("gib"))
            multiplier = 1024.0 * 1024 * 1024;
        else if (suffix == QLatin1String("kb"))
            multiplier = 1e3;
        else if (suffix == QLatin1String("mb"))
            multiplier = 1e6;
        else if (suffix == QLatin1String("gb"))
            multiplier = 1e9;
        const double bytes = std::floor(number.toDouble() * multiplier);
        if (multiplier > 0 && bytes <= kMaxBytes)
            return qint64(bytes);
    }
    if (expected)
        *expected = QStringLiteral(
            "a size in bytes, optionally with a suffix KiB, MiB, GiB, KB, MB, GB, k, M or G "
            "(e.g. 10MiB)");
    return std::nullopt;
}

std::optional<double> ConfigValues::parseSeconds(const QString &text, bool allowZero,
                                                 QString *expected)
{
    // A regex rather than toDouble() alone: toDouble() accepts "inf", "nan" and "1e3".
    static const QRegularExpression re(QStringLiteral(R"(^(\d+(?:\.\d*)?|\.\d+)\s*(s|ms)?$)"));
    const auto m = re.match(text.trimmed());
    if (m.hasMatch()) {
        double seconds = m.captured(1).toDouble();
        if (m.captured(2) == QLatin1String("ms"))
            seconds /= 1000.0;
        if (std::isfinite(seconds) && (seconds > 0 || (allowZero && seconds == 0)))
            return seconds;
    }
    if (expected)
        *expected = allowZero ? QStringLiteral("a number of seconds >= 0 (e.g. 30, 0.5, 250ms)")
                              : QStringLiteral("a number of seconds > 0 (e.g. 30, 0.5, 250ms)");
    return std::nullopt;
}

std::optional<QList<double>> ConfigValues::parseSecondsList(const QString &text, QString *expected)
{
    QList<double> list;
    if (text.trimmed().isEmpty())
        return list;
    for (const QString &item : text.split(u',')) {
        const auto seconds = parseSeconds(item, false, nullptr);
        if (!seconds || (!list.isEmpty() && *seconds <= list.last())) {
            if (expected)
                *expected = QStringLiteral(
                    "a comma-separated list of increasing positive seconds (e.g. "
                    "0.05,0.1,0.5,1,5)");
            return std::nullopt;
        }
        list.append(*seconds);
    }
    return list;
}

QString ConfigValues::formatSeconds(double seconds)
{
    return QString::number(seconds, 'g', 12);
}

QString ConfigValues::formatByteSize(qint64 bytes)
{
    static const struct
    {
        qint64 factor;
        const char *suffix;
    } units[] = {{qint64(1) << 30, "GiB"}, {qint64(1) << 20, "MiB"}, {qint64(1) << 10, "KiB"}};
    for (const auto &u : units) {
        if (bytes > 0 && bytes % u.factor == 0)
            return QString::number(bytes / u.factor) + QLatin1String(u.suffix);
    }
    return QString::number(bytes);
}

}  // namespace sluice
