--[[
Keeps a batch of a run's events (one transition's) in its bounded history and announces it, in
one step. KEYS[1]: the run's history, a sorted set of batches scored by their last seq (so any
arrival order is kept in order, and the batches holding events after a seq are a range).
ARGV: cap (batches kept), ttl_ms (0: none), channel, extra channel ('' for none), extra
payload, last seq, the batch (a JSON array of events: also what the channel gets).
]]
local cap = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], tonumber(ARGV[6]), ARGV[7])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(cap + 1))
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('PUBLISH', ARGV[3], ARGV[7])
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
