#pragma once

#include <QString>
#include <QStringList>

namespace sluice {

// Shell-style model globs ("gpt-*", "o?-mini", "claude-3-5-*"): * any run, ? one character.
// Used for upstream routing and per-key model allow-lists. Case-sensitive, like model ids.
class ModelGlob
{
public:
    static bool matches(QStringView glob, QStringView model);
    static bool matchesAny(const QStringList &globs, QStringView model);
};

}  // namespace sluice
