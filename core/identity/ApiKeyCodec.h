#pragma once

#include <QByteArray>
#include <QString>

namespace sluice {

// API key material: generation, hashing, display prefix, comparison.
class ApiKeyCodec
{
public:
    static constexpr const char *Prefix = "sk-sluice-";
    static constexpr int RandomChars = 40;  // base62: ~238 bits from the system CSPRNG

    // "sk-sluice-" + 40 base62 characters from QRandomGenerator::system().
    static QString generate();
    // Whether `key` has the shape of a Sluice key (prefix, length, alphabet): cheap rejection
    // of garbage before any lookup.
    static bool looksValid(QByteArrayView key);
    // SHA-256 of the key's bytes (32 bytes). Only this is stored.
    static QByteArray hash(QByteArrayView key);
    // "sk-sluice-AbCd": shown in lists so people can tell keys apart; useless for auth.
    static QString displayPrefix(const QString &key);
    // Constant-time equality for equal-length inputs (false for different lengths).
    static bool constantTimeEquals(QByteArrayView a, QByteArrayView b);
};

}  // namespace sluice
