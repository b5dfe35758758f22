-- Free a slot while this owner holds it, and tell whether a wake came in meanwhile (the wake key is left set: the
-- drain that is published next clears it when it starts).
-- KEYS: the slot, the subscription's wake key; ARGV: the owner token.
-- Returns 1 if a wake is waiting, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return redis.call('EXISTS', KEYS[2])
