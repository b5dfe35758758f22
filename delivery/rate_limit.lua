-- A permit to send one request to a subscription's endpoint now, or how long until one may be granted.
-- A sliding-window log: the times of the permits granted (a sorted set, microseconds by this server's clock), so
-- that no window of ARGV[2] microseconds holds more than ARGV[1] of them; and none while the endpoint asked to be
-- left alone (KEYS[2]: the end of a 429's slow-down, Unix milliseconds).
-- A refusal also says whether the caller is the one batch that comes back when the wait ends (KEYS[3] marks that
-- one is due then); the others wait as rows, so the batches of a subscription over its limit do not all circle.
-- KEYS: the log, the slow-down, the waker. ARGV: the limit, the window, a member unique to this call.
-- Returns {0, 0} when a permit was taken, else {microseconds to wait (at least 1), 1 if the caller wakes}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local wait
local slow_until = tonumber(redis.call('GET', KEYS[2]))
if slow_until and slow_until * 1000 > now then
  wait = slow_until * 1000 - now
else
  local limit = tonumber(ARGV[1])
  local window = tonumber(ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local held = redis.call('ZCARD', KEYS[1])
  if held < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
    return {0, 0}
  end
  -- The permit that leaves the window soonest and brings the count under the limit.
  local frees = redis.call('ZRANGE', KEYS[1], held - limit, held - limit, 'WITHSCORES')
  wait = math.max(1, tonumber(frees[2]) + window - now)
end
local wakes = redis.call('SET', KEYS[3], 1, 'PX', math.ceil(wait / 1000), 'NX') and 1 or 0
return {wait, wakes}
