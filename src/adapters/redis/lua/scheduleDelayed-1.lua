--[[
  Schedules a message for later: adds it to the topic's delayed set, due at Redis time + delay.
  Input:
    KEYS[1] the topic's delayed set (ZSET)
    ARGV[1] delay in milliseconds
    ARGV[2] member: "<unique id>|<message body>"
  Output:
    the due time in milliseconds
]]
local now = redis.call('TIME')
local due = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], due, ARGV[2])
return due
