-- A subscription's rate limit: take a permit to send one request now, or count how many may go now.
-- A sliding-window log: the times of the permits granted (a sorted set, microseconds by this server's clock), so
-- that no window of ARGV[2] microseconds holds more than ARGV[1] of them; and none while the endpoint asked to be
-- left alone (KEYS[2]: the end of a 429's slow-down, Unix milliseconds).
-- KEYS: the log, the slow-down.
-- ARGV: the limit, the window, then either 'take' and a member unique to this call, or 'room' and how many requests
-- the caller has ready (nothing is taken: the caller claims only what may go, then takes a permit per request).
-- Returns {permits taken or requests that may go now, microseconds until more may (0 if none is asked for)}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local mode = ARGV[3]

local slow_until = tonumber(redis.call('GET', KEYS[2]))
if slow_until and slow_until * 1000 > now then
  return {0, slow_until * 1000 - now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local held = redis.call('ZCARD', KEYS[1])
local free = math.max(0, limit - held)
-- Once the free permits are taken (now), how long until the one that leaves the window soonest brings the count
-- under the limit: the oldest held, or one of those taken now when none is held.
local function until_more()
  local leaving = math.max(0, held - limit)
  local leaves_at = now
  if leaving < held then
    leaves_at = tonumber(redis.call('ZRANGE', KEYS[1], leaving, leaving, 'WITHSCORES')[2])
  end
  return math.max(1, leaves_at + window - now)
end

if mode == 'take' then
  if free == 0 then
    return {0, until_more()}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0}
end
local wanted = tonumber(ARGV[4])
if free >= wanted then
  return {wanted, 0}
end
return {free, until_more()}
