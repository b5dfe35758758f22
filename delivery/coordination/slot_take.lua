-- Take one of a subscription's in-flight slots, the first free one, for ARGV[2] milliseconds; a drain that takes one
-- clears the subscription's wake (it is about to look at the rows: later wakes must publish again).
-- KEYS: the slots, in order, then the wake key; ARGV: the owner token, the time to live.
-- Returns the index (1-based) of the slot taken, or 0 when every one is held.
for index = 1, #KEYS - 1 do
  if redis.call('SET', KEYS[index], ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('DEL', KEYS[#KEYS])
    return index
  end
end
return 0
