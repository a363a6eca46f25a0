#include "ApiKeyCodec.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <cstring>

namespace sluice {

namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kAlphabetSize = 62;
// Largest multiple of 62 that fits in a byte: bytes at or above it are drawn again, so every
// character is equally likely (byte % 62 alone would favour the first 8 characters).
constexpr int kAcceptBelow = 256 - 256 % kAlphabetSize;  // 248
constexpr int kDisplayChars = 4;

qsizetype prefixLength()
{
    return qsizetype(std::strlen(ApiKeyCodec::Prefix));
}

bool isBase62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

QString ApiKeyCodec::generate()
{
    // QRandomGenerator::system() reads the operating system's CSPRNG (getrandom/urandom);
    // never the process-wide generator, which may be a seeded PRNG.
    QRandomGenerator *rng = QRandomGenerator::system();
    QByteArray out(Prefix);
    out.reserve(prefixLength() + RandomChars);
    int produced = 0;
    while (produced < RandomChars) {
        quint32 word = rng->generate();
        for (int i = 0; i < 4 && produced < RandomChars; ++i, word >>= 8) {
            const int byte = int(word & 0xff);
            if (byte >= kAcceptBelow)
                continue;  // rejection sampling
            out.append(kAlphabet[byte % kAlphabetSize]);
            ++produced;
        }
    }
    return QString::fromLatin1(out);
}

bool ApiKeyCodec::looksValid(QByteArrayView key)
{
    const qsizetype n = prefixLength();
    if (key.size() != n + RandomChars || !key.startsWith(QByteArrayView(Prefix, n)))
        return false;
    for (qsizetype i = n; i < key.size(); ++i) {
        if (!isBase62(key.at(i)))
            return false;
    }
    return true;
}

QByteArray ApiKeyCodec::hash(QByteArrayView key)
{
    return QCryptographicHash::hash(key, QCryptographicHash::Sha256);
}

QString ApiKeyCodec::displayPrefix(const QString &key)
{
    return key.left(prefixLength() + kDisplayChars);
}

bool ApiKeyCodec::constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    // No early exit: the time taken does not depend on where the inputs differ. volatile keeps
    // the compiler from turning the loop back into a short-circuiting compare.
    volatile unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff = diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
    return diff == 0;
}

}  // namespace sluice
