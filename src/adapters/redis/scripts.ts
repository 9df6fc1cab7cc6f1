/** The Lua scripts, embedded as text; registered once per connection. @module */
import type Redis from 'ioredis'
import ackDelete from './lua/ackDelete-1.lua' with { type: 'text' }
import gcra from './lua/gcra-1.lua' with { type: 'text' }
import promoteDelayed from './lua/promoteDelayed-2.lua' with { type: 'text' }
import recordEvents from './lua/recordEvents-1.lua' with { type: 'text' }
import scheduleDelayed from './lua/scheduleDelayed-1.lua' with { type: 'text' }

export const SCRIPTS = {
  scheduleDelayed: { lua: scheduleDelayed, keys: 1 },
  promoteDelayed: { lua: promoteDelayed, keys: 2 },
  ackDelete: { lua: ackDelete, keys: 1 },
  recordEvents: { lua: recordEvents, keys: 1 },
  gcra: { lua: gcra, keys: 1 },
} as const

export type ScriptedRedis = Redis & {
  scheduleDelayed(key: string, delayMs: number, member: string): Promise<number>
  /** Resolves with [moved, ms until the next delayed message is due, or -1]. */
  promoteDelayed(delayedKey: string, streamKey: string, max: number): Promise<[number, number]>
  ackDelete(streamKey: string, group: string, ...ids: string[]): Promise<number>
  recordEvents(historyKey: string, ...args: (string | number)[]): Promise<number>
  /** Resolves with [allowed 1|0, remaining, retry after ms, reset ms]. */
  gcra(key: string, emissionMs: number, burst: number): Promise<[number, number, number, number]>
}

export function registerScripts(redis: Redis): ScriptedRedis {
  for (const [name, s] of Object.entries(SCRIPTS))
    redis.defineCommand(name, { numberOfKeys: s.keys, lua: s.lua })
  return redis as ScriptedRedis
}
