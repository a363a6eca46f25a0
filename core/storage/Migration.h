#pragma once

#include <QString>
#include <QStringList>

namespace sluice {

// One schema step of a component. Statements are written in the SQL subset SQLite and
// PostgreSQL share; where they must differ, placeholders are replaced per driver
// (see Migrator::render): {{id}}, {{timestamp}}, {{blob}}.
// INTEGER is 32-bit on PostgreSQL: use BIGINT for counters that can grow (tokens, bytes).
// One statement per list entry: QSQLITE runs only the first statement of a string.
struct Migration
{
    int version = 0;  // 1, 2, 3, ... per component; never renumber a released migration
    QString description;
    QStringList statements;
};

}  // namespace sluice
