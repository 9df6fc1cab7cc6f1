--[[
  Acknowledges messages and deletes them from the stream (each aob topic has one consumer
  group, so an acked message is done for good and the stream stays small).
  Input:
    KEYS[1] the stream
    ARGV[1] the consumer group
    ARGV[2..] message ids
  Output:
    the number of messages acknowledged
]]
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return acked
