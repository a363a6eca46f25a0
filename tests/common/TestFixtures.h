#pragma once

#include <QByteArray>
#include <QString>

namespace sluice::test {

// Directory where ctest fixtures (PostgreSQL) leave their connection details.
QString fixtureDir();

// Writes (or with `append`, adds to) a file: an INI of a test gateway, a fixture. False when
// it could not be opened or written whole.
bool writeTextFile(const QString &path, const QByteArray &text, bool append = false);

// postgres://... URL of the fixture cluster, read from $fixtureDir/postgres/url.
// Empty when the fixture is not running; callers QFAIL with the reason.
QString postgresUrl(QString *whyMissing = nullptr);

}  // namespace sluice::test
