#include "ProcessRun.h"

#include "GatewayProcess.h"

#include <QDebug>
#include <QJsonDocument>
#include <QProcess>

namespace sluice::test {

ProcessRun runProcess(const QString &program, const QStringList &args,
                      const QProcessEnvironment &environment, const QString &workingDirectory,
                      int timeoutMs)
{
    ProcessRun r;
    r.args = args;
    QProcess p;
    p.setProcessEnvironment(environment);
    p.setWorkingDirectory(workingDirectory);
    p.start(program, args);
    if (!p.waitForStarted(5000)) {
        r.err = p.errorString().toUtf8();
        return r;
    }
    p.closeWriteChannel();
    r.finished = p.waitForFinished(timeoutMs) && p.exitStatus() == QProcess::NormalExit;
    if (!r.finished)
        p.kill();
    p.waitForFinished(5000);
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject runCliJson(const QString &binary, const QStringList &args, int timeoutMs)
{
    const ProcessRun r = runProcess(binary, args + QStringList{QStringLiteral("--json")},
                                    GatewayProcess::cleanEnvironment(), QString(), timeoutMs);
    if (!r.ok()) {
        qWarning().noquote() << "sluice" << args.join(u' ') << "failed:" << r.err;
        return {};
    }
    return QJsonDocument::fromJson(r.out).object();
}

}  // namespace sluice::test
