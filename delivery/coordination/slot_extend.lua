-- Extend a slot to ARGV[2] milliseconds from now while this owner holds it. KEYS: the slot; ARGV: the owner token.
-- Returns 1 if it was still held, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
