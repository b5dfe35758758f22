-- Free a slot while this owner holds it, and tell whether a drain found every slot held meanwhile (its wake is left
-- set: the drain that is published next clears it when it starts). A wake whose drain has not run yet is left to it.
-- KEYS: the slot, the subscription's wake key; ARGV: the owner token, the mark of a drain that found no free slot.
-- Returns 1 if such a drain ran, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then
  return 1
end
return 0
