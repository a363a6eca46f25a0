#include "TestFixtures.h"

#include <QFile>
#include <QProcessEnvironment>

namespace sluice::test {

QString fixtureDir()
{
    return QProcessEnvironment::systemEnvironment().value(
        QStringLiteral("SLUICE_TEST_FIXTURE_DIR"));
}

bool writeTextFile(const QString &path, const QByteArray &text, bool append)
{
    QFile file(path);
    if (!file.open(append ? QIODevice::Append : QIODevice::WriteOnly))
        return false;
    return file.write(text) == text.size();
}

QString postgresUrl(QString *whyMissing)
{
    const QString env = qEnvironmentVariable("SLUICE_TEST_PG_URL");
    if (!env.isEmpty())
        return env;
    QFile f(fixtureDir() + QStringLiteral("/postgres/url"));
    if (!f.open(QIODevice::ReadOnly)) {
        if (whyMissing)
            *whyMissing = QStringLiteral(
                              "PostgreSQL fixture not running (no %1); run the tests "
                              "through ctest so the postgres_start fixture starts it")
                              .arg(f.fileName());
        return {};
    }
    return QString::fromUtf8(f.readAll()).trimmed();
}

}  // namespace sluice::test
