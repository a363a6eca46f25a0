#pragma once

#include <QList>
#include <QString>
#include <optional>

namespace sluice {

// Parsers for the scalar value types used by GatewayConfig, shared with sections that later
// issues add ([tier.NAME], [upstream.NAME]) so every key reads sizes, durations and booleans
// the same way. Each returns nullopt on failure and sets *expected to what was expected.
class ConfigValues
{
public:
    // true/false, 1/0, yes/no, on/off (any case)
    static std::optional<bool> parseBool(const QString &text, QString *expected);

    // Bytes: "1048576", "10MiB", "1.5 GiB", "64k". k/M/G and KiB/MiB/GiB are powers of 1024,
    // KB/MB/GB powers of 1000; suffixes are case-insensitive. Fractions are rounded down.
    static std::optional<qint64> parseByteSize(const QString &text, QString *expected);

    // Seconds as a decimal number, optionally suffixed "s" or "ms": "30", "0.5", "250ms".
    // Zero is accepted only with allowZero.
    static std::optional<double> parseSeconds(const QString &text, bool allowZero,
                                              QString *expected);

    // Comma-separated positive, strictly increasing seconds; empty text gives an empty list.
    static std::optional<QList<double>> parseSecondsList(const QString &text, QString *expected);

    // Whole-seconds values print without a fraction ("30"), others as needed ("0.5").
    static QString formatSeconds(double seconds);
    // Exact binary multiples print with the largest suffix ("10MiB"), others in bytes.
    static QString formatByteSize(qint64 bytes);
};

}  // namespace sluice
