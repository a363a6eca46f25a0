#pragma once

#include <QSslConfiguration>
#include <QString>
#include <memory>

namespace sluice {

// A listener's TLS identity, loaded once at startup from PEM files: the certificate first, then
// its chain, and an unencrypted RSA or EC private key that must belong to that certificate.
// Connections of a listener with a ServerTls speak HTTPS only (no plaintext fallback).
class ServerTls
{
public:
    // Null with *error set ("cannot read ...", "no PEM certificate in ...", "the key does not
    // match the certificate") when the files are unusable.
    static std::shared_ptr<const QSslConfiguration> load(const QString &certificateFile,
                                                         const QString &keyFile, QString *error);
};

}  // namespace sluice
