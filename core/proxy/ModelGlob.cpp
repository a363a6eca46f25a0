#include "ModelGlob.h"

namespace sluice {

bool ModelGlob::matches(QStringView glob, QStringView model)
{
    // Iterative wildcard match with backtracking to the last '*': linear in practice, no regex.
    qsizetype g = 0, m = 0, star = -1, mark = 0;
    while (m < model.size()) {
        if (g < glob.size() && (glob[g] == u'?' || glob[g] == model[m])) {
            ++g;
            ++m;
        } else if (g < glob.size() && glob[g] == u'*') {
            star = g++;
            mark = m;
        } else if (star >= 0) {
            g = star + 1;
            m = ++mark;
        } else {
            return false;
        }
    }
    while (g < glob.size() && glob[g] == u'*')
        ++g;
    return g == glob.size();
}

bool ModelGlob::matchesAny(const QStringList &globs, QStringView model)
{
    for (const QString &g : globs) {
        if (matches(g, model))
            return true;
    }
    return false;
}

}  // namespace sluice
