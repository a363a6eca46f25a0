#include "SeriesDeltas.h"

#include <algorithm>

namespace sluice {

namespace {

// Counters only grow; a smaller value means a reset, which counts as nothing new.
double increase(double now, double before)
{
    return std::max(0.0, now - before);
}

}  // namespace

std::optional<SeriesPoint> SeriesDeltas::next(const MetricTotals &totals, qint64 atMs)
{
    m_tokenHistory.append(totals.tokens);
    if (m_tokenHistory.size() > TokenWindowSeconds + 1)
        m_tokenHistory.removeFirst();
    if (!m_started) {
        m_started = true;
        m_previous = totals;
        m_previousAtMs = atMs;
        return std::nullopt;
    }
    // A late timer tick must not show as a spike: rates are per second of the real interval.
    const double seconds = atMs > m_previousAtMs ? double(atMs - m_previousAtMs) / 1000.0 : 1.0;
    SeriesPoint point;
    point.atMs = atMs;
    point.requestsPerSecond = increase(totals.requests, m_previous.requests) / seconds;
    point.rateLimitedPerSecond = increase(totals.rateLimited, m_previous.rateLimited) / seconds;
    point.errorsPerSecond = increase(totals.errors, m_previous.errors) / seconds;
    point.tokensPerMinute = increase(totals.tokens, m_tokenHistory.first());
    // The quantiles of this interval alone: the difference of two cumulative histograms.
    if (totals.upperBounds == m_previous.upperBounds &&
        totals.cumulativeCounts.size() == m_previous.cumulativeCounts.size()) {
        std::vector<double> delta(totals.cumulativeCounts.size());
        for (size_t i = 0; i < delta.size(); ++i)
            delta[i] = increase(totals.cumulativeCounts[i], m_previous.cumulativeCounts[i]);
        point.latencyP50Seconds = histogramQuantile(0.5, totals.upperBounds, delta);
        point.latencyP95Seconds = histogramQuantile(0.95, totals.upperBounds, delta);
    }
    m_previous = totals;
    m_previousAtMs = atMs;
    return point;
}

double SeriesDeltas::histogramQuantile(double q, const std::vector<double> &upperBounds,
                                       const std::vector<double> &cumulativeCounts)
{
    if (cumulativeCounts.size() != upperBounds.size() + 1 || cumulativeCounts.back() <= 0)
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    const double rank = q * cumulativeCounts.back();
    // The first bucket whose cumulative count reaches the rank.
    const size_t i =
        size_t(std::lower_bound(cumulativeCounts.begin(), cumulativeCounts.end() - 1, rank) -
               cumulativeCounts.begin());
    if (i == upperBounds.size())  // in +Inf: the highest finite bound is all that is known
        return upperBounds.empty() ? 0 : upperBounds.back();
    const double start = i == 0 ? 0.0 : upperBounds[i - 1];
    const double end = upperBounds[i];
    if (i == 0 && end <= 0)
        return end;
    const double before = i == 0 ? 0.0 : cumulativeCounts[i - 1];
    const double inBucket = cumulativeCounts[i] - before;
    if (inBucket <= 0)
        return end;
    return start + (end - start) * (rank - before) / inBucket;
}

}  // namespace sluice
