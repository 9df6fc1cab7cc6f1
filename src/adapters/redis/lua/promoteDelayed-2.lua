--[[
  Moves due delayed messages onto the topic's stream, atomically (a message is either still
  delayed or on the stream, never both, never neither), and says when the next one is due.
  Input:
    KEYS[1] the topic's delayed set (ZSET of "<unique id>|<body>" scored by due time in ms)
    KEYS[2] the topic's stream
    ARGV[1] at most this many messages
  Output:
    { moved, in_ms }: the number of messages moved, and the time until the earliest message
    still delayed is due (ms, 0 when some are due already), or -1 when none is left
]]
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local cut = string.find(member, '|', 1, true)
  redis.call('XADD', KEYS[2], '*', 'body', string.sub(member, cut + 1))
  redis.call('ZREM', KEYS[1], member)
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nextDue == 0 then
  return { #due, -1 }
end
return { #due, math.max(0, tonumber(nextDue[2]) - nowMs) }
