-- A permit to send one request to a subscription's endpoint now, or how long until one may be granted.
-- A sliding-window log: the times of the permits granted (a sorted set, microseconds by this server's clock), so
-- that no window of ARGV[2] microseconds holds more than ARGV[1] of them; and none while the endpoint asked to be
-- left alone (KEYS[2]: the end of a 429's slow-down, Unix milliseconds).
-- KEYS[1] the log, KEYS[2] the slow-down; ARGV[1] the limit, ARGV[2] the window, ARGV[3] a member unique to this call.
-- Returns 0 when a permit was taken, else the microseconds to wait (at least 1).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local slow_until = tonumber(redis.call('GET', KEYS[2]))
if slow_until and slow_until * 1000 > now then
  return slow_until * 1000 - now
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local held = redis.call('ZCARD', KEYS[1])
if held < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return 0
end
-- The permit that leaves the window soonest and brings the count under the limit.
local frees = redis.call('ZRANGE', KEYS[1], held - limit, held - limit, 'WITHSCORES')
return math.max(1, tonumber(frees[2]) + window - now)
