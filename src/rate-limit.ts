/**
 * Shape-aware rate limits (SPEC §4): one GCRA budget per principal and tier, the tier from the
 * workflow's agent count. The arithmetic is here once; the Redis adapter runs the same step in
 * one Lua script (`gcra-1.lua`) so every orchestrator shares the budget, the embedded bus runs
 * this function.
 * @module
 */
import type { Tier } from './model/stats.ts'

export const TIERS: readonly Tier[] = ['simple', 'standard', 'heavy']

/** A tier's limit: `limit` requests per `windowS` seconds, `burst` of them at once. */
export interface RateRule {
  tier: Tier
  limit: number
  windowS: number
  burst: number
}

/** GCRA's parameters: one request per `emissionMs`, `burst` at once. */
export interface GcraRule {
  emissionMs: number
  burst: number
}

export interface Admission {
  allowed: boolean
  /** Requests that would be admitted right after this one. */
  remaining: number
  /** When refused: time until one request fits. */
  retryAfterMs: number
  /** Time until the whole burst is available again. */
  resetMs: number
}

export const DEFAULT_RATE_LIMITS = 'simple:100/min,standard:20/min,heavy:5/min'

const WINDOWS: Record<string, number> = { s: 1, sec: 1, min: 60, m: 60, h: 3600, hour: 3600 }

/**
 * `simple:100/min,standard:20/min,heavy:5/min` (units s, min, h); `off` → null. Every tier must
 * be named once. Throws an Error naming the problem.
 */
export function parseRateLimits(text: string): Map<Tier, RateRule> | null {
  if (text.trim() === 'off') return null
  const rules = new Map<Tier, RateRule>()
  for (const part of text.split(',')) {
    const m = /^\s*([a-z]+)\s*:\s*(\d{1,9})\s*\/\s*([a-z]+)\s*$/.exec(part)
    if (!m) throw new Error(`"${part.trim()}" is not tier:N/unit (e.g. simple:100/min)`)
    const [, name, count, unit] = m
    const tier = name as Tier
    if (!TIERS.includes(tier)) throw new Error(`unknown tier "${name}" (${TIERS.join(', ')})`)
    if (rules.has(tier)) throw new Error(`tier "${name}" is given twice`)
    if (!Object.hasOwn(WINDOWS, unit)) throw new Error(`unknown unit "${unit}" (s, min, h)`)
    const limit = Number(count)
    if (limit < 1) throw new Error(`tier "${name}" must allow at least 1 request`)
    rules.set(tier, {
      tier,
      limit,
      windowS: WINDOWS[unit],
      burst: Math.max(1, Math.ceil(limit / 10)),
    })
  }
  const missing = TIERS.filter((t) => !rules.has(t))
  if (missing.length) throw new Error(`no limit for ${missing.join(', ')}`)
  return rules
}

export function gcraOf(rule: RateRule): GcraRule {
  return { emissionMs: (rule.windowS * 1000) / rule.limit, burst: rule.burst }
}

/**
 * One GCRA step: `tat` is the stored theoretical arrival time (ms; undefined when none). Returns
 * the admission and the new tat (store it only when admitted). Mirrored by `gcra-1.lua`.
 */
export function gcraStep(
  tat: number | undefined,
  now: number,
  rule: GcraRule
): Admission & { tat: number } {
  const base = Math.max(tat ?? now, now)
  const next = base + rule.emissionMs
  const capacity = rule.emissionMs * rule.burst
  if (next - now > capacity)
    return {
      allowed: false,
      remaining: 0,
      retryAfterMs: next - capacity - now,
      resetMs: base - now,
      tat: base,
    }
  return {
    allowed: true,
    remaining: Math.floor((capacity - (next - now)) / rule.emissionMs),
    retryAfterMs: 0,
    resetMs: next - now,
    tat: next,
  }
}

/** The IETF headers (draft-ietf-httpapi-ratelimit-headers-11) and, when refused, Retry-After. */
export function rateLimitHeaders(rule: RateRule, a: Admission): Record<string, string> {
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))
  const headers: Record<string, string> = {
    'RateLimit-Policy': `"${rule.tier}";q=${rule.limit};w=${rule.windowS}`,
    RateLimit: `"${rule.tier}";r=${a.remaining};t=${a.allowed ? Math.ceil(a.resetMs / 1000) : seconds(a.retryAfterMs)}`,
  }
  if (!a.allowed) headers['Retry-After'] = String(seconds(a.retryAfterMs))
  return headers
}
