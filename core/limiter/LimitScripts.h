#pragma once

#include <QByteArray>

namespace sluice {

// The Lua scripts of the Redis limit store. Each is one atomic step on Redis: time comes from
// Redis TIME, so gateways on different hosts never disagree on the clock; month boundaries are
// computed from it by arithmetic (Redis Lua has no os.date); every key gets an expiry, so idle
// state disappears by itself. The algorithms are those of Gcra, SlidingWindow and
// CalendarMonth, and tests check both stores agree.
class LimitScripts
{
public:
    // KEYS: one state key per rule. ARGV: cost, token estimate, then per rule kind, limit, burst.
    // Returns {allowed, now_us, then per rule allowed, remaining, reset_us, retry_us, never_fits}.
    // Nothing is written unless every rule allows (all or nothing).
    static const QByteArray &decide();
    // KEYS: token rules' state keys. ARGV: delta, then per key its kind. Adjusts the current
    // window or month when the key still holds it.
    static const QByteArray &settle();
    // KEYS[1]: a monthly counter. ARGV[1]: used. Raises the counter of the current month to
    // `used` (never lowers it).
    static const QByteArray &seedMonthly();

    // KEYS: concurrency counters. Takes one in-flight slot back from each.
    static const QByteArray &release();

    // Hex SHA-1 of a script, as EVALSHA wants it.
    static QByteArray sha1(const QByteArray &script);
};

}  // namespace sluice
