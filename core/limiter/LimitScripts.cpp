#include "LimitScripts.h"

#include <QCryptographicHash>

namespace sluice {
namespace {

// Shared helpers: UTC months by Howard Hinnant's civil-date arithmetic, the same as
// CalendarMonth (the numbers are exact in Lua's doubles for the next 285,000 years).
const char kMonthFunctions[] = R"lua(
local function month_of(us)
  local z = math.floor(us / 86400000000) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
                          - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return (y - 1970) * 12 + (m - 1)
end
local function month_start(index)
  local y = 1970 + math.floor(index / 12)
  local m = index - (y - 1970) * 12 + 1
  y = y - (m <= 2 and 1 or 0)
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mm = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mm + 2) / 5)
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return (era * 146097 + doe - 719468) * 86400000000
end
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local MINUTE = 60000000
local function window_of(raw, now)
  local s, cur, prev = 0, 0, 0
  if raw then
    local a, b, c = string.match(raw, '(%S+) (%S+) (%S+)')
    s, cur, prev = tonumber(a), tonumber(b), tonumber(c)
  end
  local start = now - (now % MINUTE)
  if start ~= s then
    if start - s == MINUTE then prev = cur else prev = 0 end
    cur = 0
    s = start
  end
  return s, cur, prev
end
)lua";

const char kDecide[] = R"lua(
local now = redis_now()
local cost = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local out = {0, now}
local writes = {}
local allowed = 1
for i = 1, #KEYS do
  local kind = tonumber(ARGV[3 * i])
  local limit = tonumber(ARGV[3 * i + 1])
  local burst = tonumber(ARGV[3 * i + 2])
  local c = (kind == 2 or kind == 4) and tokens or cost
  local raw = redis.call('GET', KEYS[i])
  local ok, remaining, reset, retry, never = 1, 0, 0, 0, 0
  if kind == 0 then
    -- As Gcra: relative to now (epoch us as doubles only resolve a quarter of a us), and the
    -- new TAT rounded down (rounded up, a burst of B at B/s would no longer fit).
    local tat = tonumber(raw) or 0
    local interval = 1000000 / limit
    local b = math.max(1, burst)
    local tolerance = interval * b
    local base = math.max(tat, now)
    local ahead = base - now
    local new_ahead = ahead + c * interval
    if c > b then never = 1 end
    if new_ahead > tolerance then
      ok = 0
      retry = math.ceil(new_ahead - tolerance)
      remaining = math.max(0, math.floor((tolerance - ahead) / interval + 1e-9))
      reset = ahead
    else
      local new_tat = now + math.floor(new_ahead)
      remaining = math.max(0, math.floor((tolerance - new_ahead) / interval + 1e-9))
      reset = new_tat - now
      writes[#writes + 1] = {KEYS[i], string.format('%.0f', new_tat),
                             math.max(1, math.ceil((new_tat - now) / 1000))}
    end
  elseif kind == 1 or kind == 2 then
    local s, cur, prev = window_of(raw, now)
    local used = prev * (1 - (now - s) / MINUTE) + cur
    reset = s + MINUTE - now
    if used + c <= limit + 1e-9 then
      remaining = math.max(0, math.floor(limit - (used + c) + 1e-9))
      writes[#writes + 1] = {KEYS[i], string.format('%.0f %.17g %.17g', s, cur + c, prev),
                             math.ceil((s + 2 * MINUTE - now) / 1000)}
    else
      ok = 0
      remaining = math.max(0, math.floor(limit - used + 1e-9))
      if c > limit then
        never = 1
        retry = MINUTE
      else
        -- The same epsilon as the check, as SlidingWindow::take.
        local room = limit + 1e-9 - c - cur
        if room >= 0 and prev > 0 then
          retry = math.ceil((1 - room / prev) * MINUTE) - (now - s)
        else
          local nxt = 0
          if cur > 0 then nxt = math.max(0, 1 - (limit + 1e-9 - c) / cur) end
          retry = reset + math.ceil(nxt * MINUTE)
        end
        retry = math.max(1, retry)
      end
    end
  elseif kind == 5 then
    -- In flight at once: one slot per request, given back by the release script. The key
    -- expires ten minutes after its last use, so a gateway that died holding slots frees them.
    local used = tonumber(raw) or 0
    if used + 1 <= limit + 1e-9 then
      remaining = math.max(0, math.floor(limit - used - 1 + 1e-9))
      writes[#writes + 1] = {KEYS[i], string.format('%d', used + 1), 600000}
    else
      ok = 0
      remaining = math.max(0, math.floor(limit - used + 1e-9))
      retry = 1000000
    end
  else
    local month = month_of(now)
    local used = 0
    if raw then
      local m, n = string.match(raw, '(%S+) (%S+)')
      if tonumber(m) == month then used = tonumber(n) end
    end
    local nxt = month_start(month + 1)
    reset = nxt - now
    if used + c <= limit + 1e-9 then
      remaining = math.max(0, math.floor(limit - used - c + 1e-9))
      writes[#writes + 1] = {KEYS[i], string.format('%d %.17g', month, used + c),
                             math.ceil((nxt - now) / 1000) + 86400000}
    else
      ok = 0
      remaining = math.max(0, math.floor(limit - used + 1e-9))
      retry = nxt - now
      never = 1
    end
  end
  if ok == 0 then allowed = 0 end
  out[#out + 1] = ok
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
  out[#out + 1] = never
end
if allowed == 1 then
  for _, w in ipairs(writes) do
    redis.call('SET', w[1], w[2], 'PX', w[3])
  end
end
out[1] = allowed
return out
)lua";

const char kSettle[] = R"lua(
local now = redis_now()
local delta = tonumber(ARGV[1])
for i = 1, #KEYS do
  local raw = redis.call('GET', KEYS[i])
  if raw then
    if tonumber(ARGV[1 + i]) == 2 then
      local s, cur, prev = window_of(raw, now)
      if delta < 0 and -delta > cur then
        -- As SlidingWindow::adjust: more than this window holds was counted in the one before
        -- (a request across the boundary), so the rest comes off that one.
        prev = math.max(0, prev + delta + cur)
        cur = 0
      else
        cur = math.max(0, cur + delta)
      end
      redis.call('SET', KEYS[i], string.format('%.0f %.17g %.17g', s, cur, prev),
                 'PX', math.ceil((s + 2 * MINUTE - now) / 1000))
    else
      local m, n = string.match(raw, '(%S+) (%S+)')
      if tonumber(m) == month_of(now) then
        redis.call('SET', KEYS[i], string.format('%d %.17g', month_of(now),
                   math.max(0, tonumber(n) + delta)), 'KEEPTTL')
      end
    end
  end
end
return 1
)lua";

const char kSeedMonthly[] = R"lua(
local now = redis_now()
local month = month_of(now)
local used = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
if raw then
  local m, n = string.match(raw, '(%S+) (%S+)')
  if tonumber(m) == month and tonumber(n) >= used then return 0 end
end
redis.call('SET', KEYS[1], string.format('%d %.17g', month, used), 'PX',
           math.ceil((month_start(month + 1) - now) / 1000) + 86400000)
return 1
)lua";

const char kRelease[] = R"lua(
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  if v > 1 then
    redis.call('SET', KEYS[i], string.format('%d', v - 1), 'KEEPTTL')
  else
    redis.call('DEL', KEYS[i])
  end
end
return 1
)lua";

QByteArray withHelpers(const char *body)
{
    return QByteArray("-- sluice rate limiter\n") + kMonthFunctions + body;
}

}  // namespace

const QByteArray &LimitScripts::decide()
{
    static const QByteArray s = withHelpers(kDecide);
    return s;
}

const QByteArray &LimitScripts::settle()
{
    static const QByteArray s = withHelpers(kSettle);
    return s;
}

const QByteArray &LimitScripts::seedMonthly()
{
    static const QByteArray s = withHelpers(kSeedMonthly);
    return s;
}

const QByteArray &LimitScripts::release()
{
    static const QByteArray s = withHelpers(kRelease);
    return s;
}

QByteArray LimitScripts::sha1(const QByteArray &script)
{
    return QCryptographicHash::hash(script, QCryptographicHash::Sha1).toHex();
}

}  // namespace sluice
