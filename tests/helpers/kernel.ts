/**
 * Test kernels and platforms on either backend: `embedded` (sqlite :memory: + in-process bus)
 * or `redis-pg` (throwaway Postgres and Redis; a fresh schema and key prefix per kernel).
 */
import postgres from 'postgres'
import { parseConfig, type Config } from '../../src/config.ts'
import { createKernel, type Kernel } from '../../src/kernel.ts'
import { createLogger } from '../../src/log.ts'
import { startCoordinator } from '../../src/coordinator/coordinator.ts'
import { createApp } from '../../src/orchestrator/app.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import { builtinHandlers } from '../../src/worker/builtin.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker, type Handler } from '../../src/worker/run-worker.ts'
import { createModelClient } from '../../src/agent/model.ts'
import { createAgentHandler } from '../../workers/agent/handler.ts'
import { createHitlHandler } from '../../workers/hitl/handler.ts'
import { httpGuard } from '../../workers/http/start.ts'
import { schemaName, testDatabaseUrl, testRedisUrl } from './services.ts'

export type Backend = 'embedded' | 'redis-pg'

export const ADMIN = 'admin-token-0001'
export const OPERATOR = 'operator-token-0001'
export const VIEWER = 'viewer-token-0001'
/** A second operator, named: principal `ops2`. */
export const OPERATOR2 = 'operator-token-0002'

export function testConfig(
  overrides: Partial<Config> = {},
  env: Record<string, string> = {}
): Config {
  return parseConfig(
    {
      AOB_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER},operator@ops2:${OPERATOR2}`,
      AOB_LOG_LEVEL: process.env.AOB_LOG_LEVEL ?? 'silent',
      ...env,
    },
    { dataPath: ':memory:', ...overrides }
  )
}

/** The environment of a fresh, isolated distributed deployment (its own schema and prefix). */
export async function distributedEnv(
  servers: { databaseUrl?: string; redisUrl?: string } = {}
): Promise<Record<string, string>> {
  const [databaseUrl, redisUrl] = await Promise.all([
    servers.databaseUrl ?? testDatabaseUrl(),
    servers.redisUrl ?? testRedisUrl(),
  ])
  const schema = schemaName()
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 })
  await sql.unsafe(`CREATE SCHEMA ${schema}`)
  await sql.end()
  return {
    AOB_DATABASE_URL: databaseUrl,
    AOB_REDIS_URL: redisUrl,
    AOB_DATABASE_SCHEMA: schema,
    AOB_REDIS_PREFIX: `${schema}:`,
  }
}

export async function testKernel(
  backend: Backend = 'embedded',
  overrides: Partial<Config> = {}
): Promise<Kernel> {
  const env = backend === 'redis-pg' ? await distributedEnv() : {}
  const config = testConfig(overrides, env)
  return createKernel(config, { log: createLogger(config.logLevel, 'test'), migrate: true })
}

export interface TestPlatform {
  kernel: Kernel
  app: ReturnType<typeof createApp>
  /** Calls the API in-process with a token (admin by default). */
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>
  ): Promise<{ status: number; body: any; headers: Headers }>
  close(): Promise<void>
}

/** The agent settings of a test platform whose model server is the scripted one at `url`. */
export function agentAt(url: string, extra: Partial<Config['agent']> = {}): Partial<Config> {
  return {
    agent: {
      ...testConfig().agent,
      baseUrl: url,
      apiKey: 'test-key',
      model: 'test-model',
      modelTimeoutMs: 5_000,
      ...extra,
    },
  }
}

export interface PlatformOptions {
  backend?: Backend
  handlers?: Record<string, Handler>
  config?: Partial<Config>
  visibilityMs?: number
  /** The guarded client for http_request steps (tests inject resolver and connector). */
  fetch?: GuardedFetch
  /** Node types whose workers the test starts (and stops) itself. */
  without?: string[]
}

/** `TestPlatform.call` over any way of sending a request (in-process, or HTTP to a process). */
export function apiCaller(
  send: (path: string, init: RequestInit) => Promise<Response>
): TestPlatform['call'] {
  return async (method, path, body, token = ADMIN, headers = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
    const res = await send(path, init)
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers }
  }
}

/** A kernel with the coordinator and the built-in workers running, and the API in-process. */
export async function testPlatform(opts: PlatformOptions = {}): Promise<TestPlatform> {
  const kernel = await testKernel(opts.backend ?? 'embedded', opts.config)
  const services: Service[] = [
    await startCoordinator(kernel, { visibilityMs: opts.visibilityMs, sweepAfterMs: 500 }),
  ]
  for (const [type, handler] of Object.entries({
    ...builtinHandlers(opts.fetch),
    hitl: createHitlHandler(opts.fetch ?? httpGuard(kernel.config)),
    agent: createAgentHandler({
      bus: kernel.bus,
      lanes: kernel.lanes,
      config: kernel.config,
      model: createModelClient(kernel.config.agent),
      fetch: opts.fetch ?? httpGuard(kernel.config),
    }),
    ...opts.handlers,
  })) {
    if (opts.without?.includes(type)) continue
    services.push(startWorker(kernel, { type, handler, visibilityMs: opts.visibilityMs }))
  }
  const app = createApp(kernel, { keepAliveMs: 200 })
  return {
    kernel,
    app,
    call: apiCaller(async (path, init) => app.request(`/api/v1${path}`, init)),
    async close() {
      for (const s of services.reverse()) await s.stop()
      await kernel.close()
    },
  }
}
