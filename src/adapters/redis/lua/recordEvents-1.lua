--[[
Keeps a run's events in its bounded history and announces them, in one step.
KEYS[1]: the run's history (a sorted set scored by seq: any arrival order is kept in order).
ARGV: cap, ttl_ms (0: none), n_notifications, then n (channel, payload) pairs, then
(seq, event JSON) pairs. Only the newest `cap` events stay.
]]
local cap = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local i = 4 + 2 * n
while i < #ARGV do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[i]), ARGV[i + 1])
  i = i + 2
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(cap + 1))
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
for k = 0, n - 1 do
  redis.call('PUBLISH', ARGV[4 + 2 * k], ARGV[5 + 2 * k])
end
return 1
