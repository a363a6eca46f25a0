#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace sluice::test {

// One run of a program to its end: how it ended and what it wrote.
struct ProcessRun
{
    QStringList args;
    bool finished = false;  // exited by itself (no crash) within the timeout
    int code = -1;
    QByteArray out;
    QByteArray err;

    bool ok() const { return finished && code == 0; }
};

// Runs `program` with `args` in `workingDirectory`, stdin closed, and waits up to `timeoutMs`
// for it to exit; past that it is killed. When it cannot start, err says why.
ProcessRun runProcess(const QString &program, const QStringList &args,
                      const QProcessEnvironment &environment, const QString &workingDirectory,
                      int timeoutMs);

// One `sluice` command with --json, in GatewayProcess::cleanEnvironment(): its JSON object, or
// an empty object (with a warning naming the command and what it wrote on stderr) when it fails.
QJsonObject runCliJson(const QString &binary, const QStringList &args, int timeoutMs = 30000);

}  // namespace sluice::test
