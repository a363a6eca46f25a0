#pragma once

#include <QString>

namespace sluice::test {

// Directory where ctest fixtures (PostgreSQL) leave their connection details.
QString fixtureDir();

// postgres://... URL of the fixture cluster, read from $fixtureDir/postgres/url.
// Empty when the fixture is not running; callers QFAIL with the reason.
QString postgresUrl(QString *whyMissing = nullptr);

}  // namespace sluice::test
