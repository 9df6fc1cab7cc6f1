--[[
  One GCRA step of a rate limit (src/rate-limit.ts gcraStep, the same arithmetic), atomic, on
  Redis time: every orchestrator on this Redis shares the budget.
  Input:
    KEYS[1] the budget's theoretical arrival time (ms, a string key)
    ARGV[1] emission interval in milliseconds (one request per interval)
    ARGV[2] burst (requests admitted at once)
  Output:
    {allowed 1|0, remaining, retry after ms, reset ms}
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local capacity = emission * burst
local stored = redis.call('GET', KEYS[1])
local base = now
if stored and tonumber(stored) > now then base = tonumber(stored) end
local nxt = base + emission
if nxt - now > capacity then
  return {0, 0, math.ceil(nxt - capacity - now), math.ceil(base - now)}
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.max(1, math.ceil(nxt - now)))
return {1, math.floor((capacity - (nxt - now)) / emission), 0, math.ceil(nxt - now)}
