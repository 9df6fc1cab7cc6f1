import { describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config.ts'
import { gcraOf, gcraStep, parseRateLimits, rateLimitHeaders } from '../../src/rate-limit.ts'
import { traceIdOf } from '../../src/net/traced-fetch.ts'

describe('AOB_RATE_LIMITS', () => {
  test('the default: simple 100/min (burst 10), standard 20/min (2), heavy 5/min (1)', () => {
    const rules = parseConfig({}).rateLimits!
    expect([...rules.values()]).toEqual([
      { tier: 'simple', limit: 100, windowS: 60, burst: 10 },
      { tier: 'standard', limit: 20, windowS: 60, burst: 2 },
      { tier: 'heavy', limit: 5, windowS: 60, burst: 1 },
    ])
  })
  test('off, other units, and bad values stop the process naming the variable', () => {
    expect(parseConfig({ AOB_RATE_LIMITS: 'off' }).rateLimits).toBeNull()
    expect(parseRateLimits('heavy:1/s,simple:3600/h,standard:7/min')!.get('simple')).toEqual({
      tier: 'simple',
      limit: 3600,
      windowS: 3600,
      burst: 360,
    })
    for (const bad of [
      'simple:100/min',
      'simple:100/min,standard:20/min,heavy:5/fortnight',
      'simple:0/min,standard:20/min,heavy:5/min',
      'simple:1/min,simple:2/min,standard:20/min,heavy:5/min',
      'simple:1/min,standard:2/min,heavy:5/min,__proto__:1/min',
      'lots',
    ])
      expect(() => parseConfig({ AOB_RATE_LIMITS: bad })).toThrow(/AOB_RATE_LIMITS/)
  })
})

describe('GCRA', () => {
  const rule = gcraOf({ tier: 'simple', limit: 60, windowS: 60, burst: 3 }) // 1 per second
  test('a burst at once, then one per emission interval, refusals keep the budget', () => {
    let tat: number | undefined
    const at = (now: number) => {
      const a = gcraStep(tat, now, rule)
      if (a.allowed) tat = a.tat
      return a
    }
    expect([at(0), at(0), at(0)].map((a) => [a.allowed, a.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
    ])
    expect(at(0)).toMatchObject({ allowed: false, retryAfterMs: 1000 })
    expect(at(999).allowed).toBe(false)
    expect(at(1000)).toMatchObject({ allowed: true, remaining: 0 })
    expect(at(10_000)).toMatchObject({ allowed: true, remaining: 2 }) // refilled, never past burst
  })
  test('headers: RateLimit-Policy, RateLimit and, when refused, Retry-After of at least 1 s', () => {
    const r = { tier: 'simple' as const, limit: 100, windowS: 60, burst: 10 }
    expect(
      rateLimitHeaders(r, { allowed: true, remaining: 4, retryAfterMs: 0, resetMs: 3500 })
    ).toEqual({
      'RateLimit-Policy': '"simple";q=100;w=60',
      RateLimit: '"simple";r=4;t=4',
    })
    expect(
      rateLimitHeaders(r, { allowed: false, remaining: 0, retryAfterMs: 20, resetMs: 6000 })
    ).toEqual({
      'RateLimit-Policy': '"simple";q=100;w=60',
      RateLimit: '"simple";r=0;t=1',
      'Retry-After': '1',
    })
  })
})

describe('traceparent', () => {
  test('a valid header gives its trace id; anything else starts a new trace', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736'
    )
    // A later version may carry more fields.
    expect(traceIdOf('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736'
    )
    for (const bad of [
      undefined,
      '',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      `00-${'a'.repeat(600)}`,
    ])
      expect(traceIdOf(bad)).toBeUndefined()
  })
})
