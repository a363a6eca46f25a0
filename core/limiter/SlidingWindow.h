#pragma once

#include <QtGlobal>

namespace sluice {

// Sliding-window counter: the current fixed window's count plus the previous window's count
// weighted by how much of it still overlaps the sliding window (Cloudflare's approximation;
// two numbers per key instead of a log of timestamps). Used for requests per minute and
// tokens per minute. Pure functions with a fake clock; times in microseconds.
class SlidingWindow
{
public:
    struct State
    {
        qint64 windowStartUs = 0;  // start of the current fixed window
        double current = 0;
        double previous = 0;
    };
    struct Result
    {
        bool allowed = false;
        State state;              // rolled forward; with `cost` added when allowed
        double used = 0;          // weighted use after this request (before it when denied)
        double remaining = 0;     // limit - used, floored, never negative
        qint64 resetUs = 0;       // until the current fixed window ends
        qint64 retryAfterUs = 0;  // until `cost` would fit (denied only)
        bool neverFits = false;   // cost alone exceeds the limit: waiting does not help
    };

    // Moves `s` to the window holding `nowUs` (the old current becomes previous, or both clear).
    static State roll(State s, qint64 nowUs, qint64 windowUs);
    static Result take(State s, qint64 nowUs, qint64 windowUs, double limit, double cost);
    // Adds `delta` (negative to give back) to the window holding `nowUs`, never below zero;
    // what a give-back cannot take from that window comes off the previous one.
    static State adjust(State s, qint64 nowUs, qint64 windowUs, double delta);
};

}  // namespace sluice
