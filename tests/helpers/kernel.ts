/**
 * Test kernels and platforms. `backend()` names the backend under test; the embedded one needs
 * nothing, the distributed one (when it lands) takes its servers from the test environment.
 */
import { parseConfig, type Config } from '../../src/config.ts'
import { createKernel, type Kernel } from '../../src/kernel.ts'
import { createLogger } from '../../src/log.ts'
import { startCoordinator } from '../../src/coordinator/coordinator.ts'
import { createApp } from '../../src/orchestrator/app.ts'
import { BUILTIN_HANDLERS } from '../../src/worker/builtin.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker, type Handler } from '../../src/worker/run-worker.ts'

export const ADMIN = 'admin-token-0001'
export const OPERATOR = 'operator-token-0001'
export const VIEWER = 'viewer-token-0001'

export function testConfig(overrides: Partial<Config> = {}): Config {
  return parseConfig(
    { AOB_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}`, AOB_LOG_LEVEL: process.env.AOB_LOG_LEVEL ?? 'silent' },
    { dataPath: ':memory:', ...overrides }
  )
}

export async function testKernel(overrides: Partial<Config> = {}): Promise<Kernel> {
  const config = testConfig(overrides)
  return createKernel(config, createLogger(config.logLevel, 'test'))
}

export interface TestPlatform {
  kernel: Kernel
  app: ReturnType<typeof createApp>
  /** Calls the API in-process with a token (admin by default). */
  call(method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>
  close(): Promise<void>
}

/** A kernel with the coordinator and the built-in workers running, and the API in-process. */
export async function testPlatform(opts: { handlers?: Record<string, Handler>; config?: Partial<Config>; visibilityMs?: number } = {}): Promise<TestPlatform> {
  const kernel = await testKernel(opts.config)
  const services: Service[] = [await startCoordinator(kernel, { visibilityMs: opts.visibilityMs })]
  for (const [type, handler] of Object.entries({ ...BUILTIN_HANDLERS, ...opts.handlers })) {
    services.push(startWorker(kernel, { type, handler, visibilityMs: opts.visibilityMs }))
  }
  const app = createApp(kernel, { keepAliveMs: 200 })
  return {
    kernel,
    app,
    async call(method, path, body, token = ADMIN, headers = {}) {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } }
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body)
        ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
      }
      const res = await app.request(`/api/v1${path}`, init)
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : null
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers }
    },
    async close() {
      for (const s of services.reverse()) await s.stop()
      await kernel.close()
    },
  }
}
