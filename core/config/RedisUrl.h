#pragma once

#include <QString>
#include <optional>

namespace sluice {

// A Redis server as written in --redis:
//   redis://[[user]:password@]host[:port][/db]    TCP; port defaults to 6379, db to 0
//   unix:///path/to.sock[?db=N][&password=P]       Unix domain socket
// rediss:// is refused: hiredis 0.14 has no TLS.
struct RedisUrl
{
    enum class Transport
    {
        Tcp,
        Unix
    };

    Transport transport = Transport::Tcp;
    QString host;        // TCP: IP literal or host name, IPv6 without brackets
    int port = 6379;     // TCP
    QString socketPath;  // Unix: absolute path
    QString username;    // Redis 6 ACL user; empty = plain `AUTH password`
    QString password;    // empty = no AUTH
    int db = 0;          // SELECT index

    // Parses `text`; on failure returns nullopt and sets *expected to what was expected.
    static std::optional<RedisUrl> parse(const QString &text, QString *expected);

    // The URL with the password replaced by "***", for logs and health messages.
    QString redacted() const;
    bool operator==(const RedisUrl &other) const = default;
};

}  // namespace sluice
