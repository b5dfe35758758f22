-- What a subscription's keys say, in one round trip. KEYS: its slots, then its circuit, then its slow-down.
-- Returns {slots held, circuit end (Unix ms) or -1, slow-down end (Unix ms) or -1}.
local held = 0
for index = 1, #KEYS - 2 do
  held = held + redis.call('EXISTS', KEYS[index])
end
local circuit = tonumber(redis.call('GET', KEYS[#KEYS - 1])) or -1
local slow_down = tonumber(redis.call('GET', KEYS[#KEYS])) or -1
return {held, circuit, slow_down}
