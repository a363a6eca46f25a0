#include "LimitDecision.h"

namespace sluice {
namespace {

int closestMatching(const LimitDecision &d, int wantTokens)
{
    int best = -1;
    double bestShare = 0;
    for (int i = 0; i < int(d.statuses.size()); ++i) {
        const LimitRule &rule = d.rules[size_t(d.statuses[i].rule)];
        if (wantTokens >= 0 && rule.countsTokens() != bool(wantTokens))
            continue;
        const double quota = rule.quota();
        const double share = quota > 0 ? d.statuses[i].remaining / quota : 1;
        if (best < 0 || share < bestShare ||
            (share == bestShare && d.statuses[i].resetUs > d.statuses[size_t(best)].resetUs)) {
            best = i;
            bestShare = share;
        }
    }
    return best;
}

}  // namespace

int LimitDecision::closest() const
{
    return denied >= 0 ? denied : closestMatching(*this, -1);
}

int LimitDecision::closestOf(bool tokens) const
{
    if (denied >= 0 && rules[size_t(statuses[size_t(denied)].rule)].countsTokens() == tokens)
        return denied;
    return closestMatching(*this, tokens ? 1 : 0);
}

}  // namespace sluice
