#include "ServerTls.h"

#include "LogCategories.h"

#include <QDateTime>
#include <QFile>
#include <QSslCertificate>
#include <QSslKey>

namespace sluice {
namespace {

bool readFile(const QString &path, QByteArray *bytes, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    *bytes = file.readAll();
    return true;
}

QSslKey parseKey(const QByteArray &pem)
{
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec}) {
        QSslKey key(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            return key;
    }
    return {};
}

QString describe(const QSslKey &key)
{
    const char *kind = key.algorithm() == QSsl::Rsa  ? "RSA"
                       : key.algorithm() == QSsl::Ec ? "EC"
                                                     : "other";
    return QStringLiteral("%1-bit %2").arg(key.length()).arg(QLatin1String(kind));
}

}  // namespace

std::shared_ptr<const QSslConfiguration> ServerTls::load(const QString &certificateFile,
                                                         const QString &keyFile, QString *error)
{
    QByteArray certificatePem;
    QByteArray keyPem;
    if (!readFile(certificateFile, &certificatePem, error) || !readFile(keyFile, &keyPem, error))
        return nullptr;
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certificatePem, QSsl::Pem);
    if (chain.isEmpty() || chain.first().isNull()) {
        *error = QStringLiteral("no PEM certificate in %1").arg(certificateFile);
        return nullptr;
    }
    const QSslKey key = parseKey(keyPem);
    if (key.isNull()) {
        *error =
            keyPem.contains("ENCRYPTED")
                ? QStringLiteral(
                      "%1 is encrypted: give an unencrypted PEM key (readable "
                      "by the gateway's user only)")
                      .arg(keyFile)
                : QStringLiteral("no unencrypted PEM RSA or EC private key in %1").arg(keyFile);
        return nullptr;
    }
    const QSslCertificate &leaf = chain.first();
    // Qt cannot derive a private key's public half, so only the kind and size are compared
    // here; a different key of the same kind and size fails each client's handshake instead.
    const QSslKey publicKey = leaf.publicKey();
    if (publicKey.algorithm() != key.algorithm() || publicKey.length() != key.length()) {
        *error = QStringLiteral("the key in %1 (%2) does not belong to the certificate in %3 (%4)")
                     .arg(keyFile, describe(key), certificateFile, describe(publicKey));
        return nullptr;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (leaf.expiryDate() < now) {
        *error = QStringLiteral("the certificate in %1 expired on %2")
                     .arg(certificateFile, leaf.expiryDate().toString(Qt::ISODate));
        return nullptr;
    }
    if (leaf.expiryDate() < now.addDays(14))
        qCWarning(lcServer).noquote() << "TLS certificate" << certificateFile << "expires on"
                                      << leaf.expiryDate().toString(Qt::ISODate);

    auto config = std::make_shared<QSslConfiguration>(QSslConfiguration::defaultConfiguration());
    config->setLocalCertificateChain(chain);
    config->setPrivateKey(key);
    config->setPeerVerifyMode(QSslSocket::VerifyNone);  // clients authenticate by bearer token
    config->setProtocol(QSsl::TlsV1_2OrLater);
    return config;
}

}  // namespace sluice
