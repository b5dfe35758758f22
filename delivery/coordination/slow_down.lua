-- Set the end of a subscription's slow-down (Unix milliseconds), keeping the later one: a shorter Retry-After
-- answered meanwhile does not cut a longer one short. KEYS: the slow-down; ARGV: the end, the time to live (ms).
local current = tonumber(redis.call('GET', KEYS[1]))
if not current or current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
