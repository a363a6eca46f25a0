// sluice-mock-llm: a fake OpenAI and Anthropic upstream for Sluice's tests and benchmarks.
// Usage and behaviour: tests/mock/README.md.

#include "MockServer.h"

#include <sys/resource.h>
#include <QCoreApplication>
#include <QFile>
#include <QHostAddress>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <csignal>
#include <cstdio>

using namespace sluice::mock;

namespace {

const char kUsage[] =
    "usage: sluice-mock-llm [--port N] [--host ADDR] [--tls CERT KEY] [--record-limit N]\n"
    "                       [--idle-timeout-ms N] [--api-key KEY]... [--gzip]\n"
    "  --port N             port to listen on; 0 (the default) picks a free one\n"
    "  --host ADDR          address to listen on (default 127.0.0.1)\n"
    "  --tls CERT KEY       serve HTTPS with this PEM certificate and key\n"
    "  --record-limit N     requests kept for GET /mock/requests (default 1000, 0: none)\n"
    "  --idle-timeout-ms N  close idle keep-alive connections after N ms (default: never)\n"
    "  --api-key KEY        accept only requests with this key (Authorization: Bearer on\n"
    "                       OpenAI routes, x-api-key on Anthropic's); repeatable; default: any\n"
    "  --gzip               gzip JSON answers when the request accepts it (as the providers do)\n"
    "Prints \"mock listening on HOST:PORT\" on stderr once it accepts connections.\n";

int usageError(const char *what)
{
    std::fprintf(stderr, "sluice-mock-llm: %s\n%s", what, kUsage);
    return 2;
}

void raiseFileLimit()
{
    struct rlimit limit = {};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    raiseFileLimit();

    quint16 port = 0;
    QHostAddress host(QHostAddress::LocalHost);
    QString certFile;
    QString keyFile;
    int recordLimit = 1000;
    int idleTimeoutMs = 0;
    QList<QByteArray> apiKeys;
    bool gzip = false;
    const QStringList args = app.arguments().mid(1);
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args[i];
        auto value = [&](qsizetype k) { return i + k < args.size() ? args[i + k] : QString(); };
        bool ok = true;
        if (arg == QLatin1String("--help") || arg == QLatin1String("-h")) {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == QLatin1String("--port")) {
            port = value(1).toUShort(&ok);
            ++i;
        } else if (arg == QLatin1String("--host")) {
            ok = host.setAddress(value(1));
            ++i;
        } else if (arg == QLatin1String("--tls")) {
            certFile = value(1);
            keyFile = value(2);
            ok = !certFile.isEmpty() && !keyFile.isEmpty();
            i += 2;
        } else if (arg == QLatin1String("--record-limit")) {
            recordLimit = value(1).toInt(&ok);
            ok = ok && recordLimit >= 0;
            ++i;
        } else if (arg == QLatin1String("--idle-timeout-ms")) {
            idleTimeoutMs = value(1).toInt(&ok);
            ok = ok && idleTimeoutMs >= 0;
            ++i;
        } else if (arg == QLatin1String("--gzip")) {
            gzip = true;
        } else if (arg == QLatin1String("--api-key")) {
            apiKeys << value(1).toUtf8();
            ok = !apiKeys.last().isEmpty();
            ++i;
        } else {
            return usageError(qPrintable(QStringLiteral("unknown argument %1").arg(arg)));
        }
        if (!ok)
            return usageError(qPrintable(QStringLiteral("bad value for %1").arg(arg)));
    }

    MockServer server;
    server.setRecordLimit(recordLimit);
    server.setIdleTimeoutMs(idleTimeoutMs);
    server.setApiKeys(apiKeys);
    server.setGzip(gzip);
    if (!certFile.isEmpty()) {
        if (!QSslSocket::supportsSsl())
            return usageError("--tls: this Qt has no TLS backend");
        QFile cert(certFile);
        QFile key(keyFile);
        if (!cert.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly))
            return usageError("--tls: cannot read the certificate or the key");
        const QSslCertificate certificate(&cert, QSsl::Pem);
        QSslKey privateKey(&key, QSsl::Rsa, QSsl::Pem);
        if (privateKey.isNull()) {
            key.seek(0);
            privateKey = QSslKey(&key, QSsl::Ec, QSsl::Pem);
        }
        if (certificate.isNull() || privateKey.isNull())
            return usageError("--tls: the certificate or the key is not valid PEM");
        server.setTls(certificate, privateKey);
    }
    if (!server.listen(host, port)) {
        std::fprintf(stderr, "sluice-mock-llm: cannot listen on %s:%u: %s\n",
                     qPrintable(host.toString()), unsigned(port), qPrintable(server.errorString()));
        return 1;
    }
    const QString shownHost = host.protocol() == QAbstractSocket::IPv6Protocol
                                  ? QLatin1Char('[') + host.toString() + QLatin1Char(']')
                                  : host.toString();
    std::fprintf(stderr, "mock listening on %s:%u%s\n", qPrintable(shownHost),
                 unsigned(server.serverPort()), server.tls() ? " (https)" : "");
    std::fflush(stderr);
    return app.exec();
}
