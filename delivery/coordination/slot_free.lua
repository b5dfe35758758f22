-- Free a slot while this owner holds it, and tell whether a drain found every slot held meanwhile. That mark becomes a
-- queued wake (its time to live kept): the caller publishes the successor, so that another holder freeing its slot
-- publishes none, and the debounce holds until the successor starts. A wake whose drain has not run yet is left to it.
-- KEYS: the slot, the subscription's wake key; ARGV: the owner token, the mark of a drain that found no free slot, the
-- value of a queued wake.
-- Returns 1 if such a drain ran, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[3], 'KEEPTTL')
  return 1
end
return 0
