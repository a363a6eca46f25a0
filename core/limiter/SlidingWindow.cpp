#include "SlidingWindow.h"

#include <cmath>

namespace sluice {

SlidingWindow::State SlidingWindow::roll(State s, qint64 nowUs, qint64 windowUs)
{
    // Floored, so times before 0 fall in the window they are in (% truncates toward zero).
    const qint64 start = nowUs - (nowUs % windowUs + windowUs) % windowUs;
    if (start == s.windowStartUs)
        return s;
    State out;
    out.windowStartUs = start;
    out.previous = start - s.windowStartUs == windowUs ? s.current : 0;
    return out;
}

SlidingWindow::Result SlidingWindow::take(State s, qint64 nowUs, qint64 windowUs, double limit,
                                          double cost)
{
    Result r;
    r.state = roll(s, nowUs, windowUs);
    const State &w = r.state;
    const double elapsed = double(nowUs - w.windowStartUs) / double(windowUs);
    const double used = w.previous * (1.0 - elapsed) + w.current;
    r.resetUs = w.windowStartUs + windowUs - nowUs;
    // A small epsilon so fractional costs (0.1 × 10) add up to whole limits.
    constexpr double kEpsilon = 1e-9;
    if (used + cost <= limit + kEpsilon) {
        r.allowed = true;
        r.state.current += cost;
        r.used = used + cost;
        r.remaining = std::max(0.0, std::floor(limit - r.used + 1e-9));
        return r;
    }
    r.used = used;
    r.remaining = std::max(0.0, std::floor(limit - used + 1e-9));
    if (cost > limit) {
        r.neverFits = true;
        r.retryAfterUs = windowUs;
        return r;
    }
    // Within this window: the previous window's weight has to fall far enough. The waits use
    // the same epsilon as the check above, so the first microsecond they name is the first
    // one the check allows (without it 1 - 2/3 rounds up and the wait is 1 µs too long).
    const double room = limit + kEpsilon - cost - w.current;
    if (room >= 0 && w.previous > 0) {
        const double needElapsed = 1.0 - room / w.previous;
        r.retryAfterUs =
            qint64(std::ceil(needElapsed * double(windowUs))) - (nowUs - w.windowStartUs);
    } else {
        // Not before the next window, where this window's count becomes the decaying one.
        const double next =
            w.current > 0 ? std::max(0.0, 1.0 - (limit + kEpsilon - cost) / w.current) : 0;
        r.retryAfterUs = r.resetUs + qint64(std::ceil(next * double(windowUs)));
    }
    r.retryAfterUs = std::max<qint64>(1, r.retryAfterUs);
    return r;
}

SlidingWindow::State SlidingWindow::adjust(State s, qint64 nowUs, qint64 windowUs, double delta)
{
    State out = roll(s, nowUs, windowUs);
    if (delta < 0 && -delta > out.current) {
        // Giving back more than this window holds: the reservation was counted in the window
        // before (a request that spanned the boundary), so the rest comes off that one.
        out.previous = std::max(0.0, out.previous + delta + out.current);
        out.current = 0;
        return out;
    }
    out.current = std::max(0.0, out.current + delta);
    return out;
}

}  // namespace sluice
