-- Take one of a subscription's in-flight slots, the first free one, for ARGV[2] milliseconds; a drain that takes one
-- clears the subscription's wake (it is about to look at the rows: later wakes must publish again). It also reads
-- what holds the endpoint, which the drain checks before its first claim. A drain that finds every slot held marks
-- the wake as such (ARGV[3], for ARGV[4] milliseconds): a drain that frees its slot then publishes again.
-- KEYS: the slots, in order, then the wake key, the circuit and the slow-down.
-- ARGV: the owner token, the time to live, the mark, its time to live.
-- Returns {the index (1-based) of the slot taken or 0 when every one is held, circuit end (Unix ms) or -1, slow-down
-- end (Unix ms) or -1}.
local circuit = tonumber(redis.call('GET', KEYS[#KEYS - 1])) or -1
local slow_down = tonumber(redis.call('GET', KEYS[#KEYS])) or -1
for index = 1, #KEYS - 3 do
  if redis.call('SET', KEYS[index], ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('DEL', KEYS[#KEYS - 2])
    return {index, circuit, slow_down}
  end
end
redis.call('SET', KEYS[#KEYS - 2], ARGV[3], 'PX', ARGV[4])
return {0, circuit, slow_down}
