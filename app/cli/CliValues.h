#pragma once

#include "IdentityTypes.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <optional>

namespace sluice {

// How the command line spells values it reads and prints: model lists, dates, limits.
// (Dates it reads with Timestamp::parse, like the admin API.)
class CliValues
{
public:
    // "gpt-4o*, claude-*" -> {"gpt-4o*", "claude-*"}; empty entries are dropped.
    static QStringList parseModels(const QString &text);
    // A table cell: "-" for empty text, so every row has the same number of words.
    static QString cell(const QString &text);

    // "2026-11-23T18:00Z" (minutes, UTC), or `none` when the time is invalid (never used, never
    // expires).
    static QString formatDate(const QDateTime &time, const QString &none);
    // The resolved limits for a table row, in LimitFlags::fields() order: "unlimited" for
    // 0, else the number, with "*" when `own` (the principal's override) sets the field.
    static QStringList limitCells(const EffectiveLimits &limits, const LimitOverrides &own);
    // The stored limit fields, in the same order, `unset` ("inherit") when unset.
    static QStringList storedCells(const LimitOverrides &limits,
                                   const QString &unset = QStringLiteral("inherit"));
    // "rps 10, burst 20, rpm unlimited, ..." from the stored fields.
    static QString storedSummary(const LimitOverrides &limits,
                                 const QString &unset = QStringLiteral("inherit"));
    // One line per model entry, "  model gpt-4o: rps unlimited, ...\n" (unset fields `unset`).
    static QString modelLimitLines(const QList<ModelLimit> &modelLimits, const QString &unset);
    // "on" / "off", with "*" when `own` (a key's setting) decides it.
    static QString shadowCell(bool shadow, bool own = false);
};

}  // namespace sluice
