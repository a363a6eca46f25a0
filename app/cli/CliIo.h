#pragma once

#include <QJsonValue>
#include <QString>

namespace sluice {

struct AdminError;

// Where the command line writes, and its exit codes: results on stdout, details and errors on
// stderr, every error one line starting "sluice: ".
class CliIo
{
public:
    static constexpr int kOk = 0;
    static constexpr int kFailed = 1;  // the database cannot be reached or failed
    static constexpr int kUsage = 2;   // bad command line, value or request (AdminError)

    static void out(const QString &text);  // as is; add the newline yourself
    static void err(const QString &text);
    static void json(const QJsonValue &value);  // indented, newline-terminated, on stdout

    // Print "sluice: <message>" on stderr and return the exit code.
    static int usageError(const QString &message);
    static int failure(const QString &message);
    // usageError() or failure() by `code`.
    static int exitWith(int code, const QString &message);
    // Invalid, NotFound, Conflict -> 2; Internal (the database failed us) -> 1.
    static int adminError(const AdminError &error);
};

}  // namespace sluice
