import { describe, expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config.ts'

const fails = (env: Record<string, string>) => {
  try {
    parseConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  test('defaults: embedded, 127.0.0.1:7070, 80/443 outbound', () => {
    const c = parseConfig({})
    expect(c).toMatchObject({
      mode: 'embedded',
      host: '127.0.0.1',
      port: 7070,
      httpPorts: [80, 443],
      visibilityMs: 30_000,
      dataPath: '.aob/aob.db',
    })
    expect(c.httpDeniedPaths).toBeUndefined()
  })
  test('both URLs select the distributed backend; Redis alone is a worker config', () => {
    expect(
      parseConfig({ AOB_DATABASE_URL: 'postgres://a@b/c', AOB_REDIS_URL: 'redis://r' }).mode
    ).toBe('distributed')
    expect(parseConfig({ AOB_REDIS_URL: 'redis://r' }).redisUrl).toBe('redis://r')
  })
  test('a bad value names its variable', () => {
    expect(fails({ AOB_PORT: 'seventy' })).toContain('AOB_PORT')
    expect(fails({ AOB_DATABASE_URL: 'postgres://a@b/c' })).toContain('AOB_REDIS_URL')
    expect(fails({ AOB_DATABASE_URL: 'mysql://x', AOB_REDIS_URL: 'redis://r' })).toContain(
      'AOB_DATABASE_URL'
    )
    expect(fails({ AOB_TOKENS: 'root:abcdefgh' })).toContain('AOB_TOKENS')
    expect(fails({ AOB_LOG_LEVEL: 'loud' })).toContain('AOB_LOG_LEVEL')
    expect(fails({ AOB_HTTP_ALLOW: '10.0.0.0/99' })).toContain('AOB_HTTP_ALLOW')
    expect(fails({ AOB_HTTP_PORTS: '80,http' })).toContain('AOB_HTTP_PORTS')
    expect(fails({ AOB_HTTP_DENIED_PATHS: 'admin' })).toContain('AOB_HTTP_DENIED_PATHS')
    expect(fails({ AOB_DATABASE_SCHEMA: 'Bad-Name' })).toContain('AOB_DATABASE_SCHEMA')
    expect(fails({ AOB_VISIBILITY_MS: '5' })).toContain('AOB_VISIBILITY_MS')
    expect(fails({ AOB_MAX_JSON_DEPTH: '2' })).toContain('AOB_MAX_JSON_DEPTH')
  })
  test('the SSRF path policy is configurable', () => {
    expect(parseConfig({ AOB_HTTP_DENIED_PATHS: '/internal, /Secrets' }).httpDeniedPaths).toEqual([
      '/internal',
      '/secrets',
    ])
  })
})

test('the JSON nesting limit is configurable and reaches the limits', () => {
  expect(parseConfig({}).limits.maxJsonDepth).toBe(64)
  expect(parseConfig({ AOB_MAX_JSON_DEPTH: '128' }).limits.maxJsonDepth).toBe(128)
})

test('tokens name their principal: role@name:token, else <role>-<first 8 hex of SHA-256(token)>', () => {
  const grants = parseConfig({
    AOB_TOKENS: 'admin@alice:token-aaaa-0001,operator:token-bbbb-0002',
  }).tokens
  expect(grants[0]).toEqual({ role: 'admin', token: 'token-aaaa-0001', principal: 'alice' })
  const digest = new Bun.CryptoHasher('sha256').update('token-bbbb-0002').digest('hex').slice(0, 8)
  expect(grants[1].principal).toBe(`operator-${digest}`)
  expect(fails({ AOB_TOKENS: 'admin@Bad Name:token-aaaa-0001' })).toContain('AOB_TOKENS')
  expect(fails({ AOB_TOKENS: 'admin@alice:short' })).toContain('AOB_TOKENS')
  expect(fails({ AOB_TOKENS: 'admin@alice:token-aaaa-0001,viewer@bob:token-aaaa-0001' })).toContain(
    'twice'
  )
})
