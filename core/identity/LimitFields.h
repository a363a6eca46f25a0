#pragma once

#include "IdentityTypes.h"

#include <QStringList>
#include <QVariant>

namespace sluice {

// The seven limit fields of LimitOverrides by their one name, used alike for columns, JSON
// members, INI [tier.NAME] keys, patch clear lists and messages: requests_per_second, burst,
// requests_per_minute, tokens_per_minute, monthly_requests, monthly_tokens,
// concurrent_requests.
class LimitFields
{
public:
    // In the order of IdentityRows' column lists, JSON output and CLI tables (not necessarily
    // the tables' physical column order: concurrent_requests was added by a later migration).
    static const QStringList &names();
    static bool isName(const QString &name);
    // Only requests_per_second may be fractional; every other field is a whole number.
    static bool isFractional(const QString &name);

    // double for requests_per_second, qint64 for the others; a null QVariant when unset.
    static QVariant value(const LimitOverrides &limits, const QString &name);
    // A null QVariant clears the field (inherit). Unknown names are ignored.
    static void setValue(LimitOverrides &limits, const QString &name, const QVariant &value);

    // Parses operator text (INI values, CLI flags): a non-negative decimal number for
    // requests_per_second, a non-negative integer otherwise. Empty text means "inherit"
    // (returns a null QVariant). nullopt on failure, with *expected saying what was expected.
    static std::optional<QVariant> parse(const QString &name, const QString &text,
                                         QString *expected);
    // "a non-negative number" / "a non-negative integer"
    static QString expectation(const QString &name);

    // The first set field that is negative or not finite, or an empty string.
    static QString firstInvalid(const LimitOverrides &limits);
};

}  // namespace sluice
