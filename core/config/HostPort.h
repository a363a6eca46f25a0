#pragma once

#include <QHostAddress>
#include <QString>
#include <optional>

namespace sluice {

// A listen address as written in --listen / --admin-listen: HOST:PORT or [IPv6]:PORT, where
// HOST is an IP literal, `localhost` (127.0.0.1) or `*` (0.0.0.0). Host names other than
// localhost are refused: binding must not depend on DNS. Port 0 asks the OS for a free port.
struct HostPort
{
    QString host = QStringLiteral("127.0.0.1");  // normalized IP literal, IPv6 without brackets
    quint16 port = 0;

    // Parses `text`; on failure returns nullopt and sets *expected to what was expected.
    static std::optional<HostPort> parse(const QString &text, QString *expected);

    // "127.0.0.1:8081" or "[::1]:8081"
    QString toString() const;
    QHostAddress address() const { return QHostAddress(host); }
    bool operator==(const HostPort &other) const = default;
};

}  // namespace sluice
