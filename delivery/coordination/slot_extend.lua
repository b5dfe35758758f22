-- Extend a slot to ARGV[2] milliseconds from now while this owner holds it, and read what holds the endpoint (the
-- drain checks it before its next claim).
-- KEYS: the slot, the circuit, the slow-down; ARGV: the owner token, the time to live.
-- Returns {1 if it was still held else 0, circuit end (Unix ms) or -1, slow-down end (Unix ms) or -1}.
local held = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  held = redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {held, tonumber(redis.call('GET', KEYS[2])) or -1, tonumber(redis.call('GET', KEYS[3])) or -1}
