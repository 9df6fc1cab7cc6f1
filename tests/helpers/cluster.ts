/**
 * The distributed services as real processes (from source, or compiled binaries) against
 * given Redis and Postgres, for end-to-end and crash tests.
 */
import { join } from 'node:path'
import { createKernel } from '../../src/kernel.ts'
import { createLogger } from '../../src/log.ts'
import { startWorker, type Handler } from '../../src/worker/run-worker.ts'
import {
  ADMIN,
  OPERATOR,
  OPERATOR2,
  VIEWER,
  apiCaller,
  distributedEnv,
  testConfig,
  type TestPlatform,
} from './kernel.ts'
import { collectOutput } from './processes.ts'
import { freePort } from './services.ts'

const root = join(import.meta.dir, '../..')
export const ENTRIES = {
  orchestrator: 'cli/entries/orchestrator.ts',
  coordinator: 'cli/entries/coordinator.ts',
  fanout: 'cli/entries/fanout.ts',
  worker: 'workers/builtin/main.ts',
  'http-worker': 'workers/http/main.ts',
  'hitl-worker': 'workers/hitl/main.ts',
  'agent-worker': 'workers/agent/main.ts',
} as const
export type ServiceName = keyof typeof ENTRIES

export interface ServiceProcess {
  name: ServiceName
  proc: ReturnType<typeof Bun.spawn>
  output(): string
  kill(signal?: NodeJS.Signals): Promise<void>
}

export function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  opts: { binary?: string; cwd?: string } = {}
): ServiceProcess {
  // AOB_PROFILE_DIR=<dir>: each service from source writes a CPU profile (markdown) there on exit.
  const profile = process.env.AOB_PROFILE_DIR
    ? [
        '--cpu-prof-md',
        `--cpu-prof-dir=${process.env.AOB_PROFILE_DIR}`,
        `--cpu-prof-name=${name}-${Date.now()}.md`,
      ]
    : []
  const cmd = opts.binary ? [opts.binary] : ['bun', ...profile, join(root, ENTRIES[name])]
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      AOB_LOG_LEVEL: 'warn',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return {
    name,
    proc,
    output: collectOutput(proc),
    async kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      await proc.exited
    },
  }
}

/** `aob migrate` from source against `env` (a process of its own, as operators run it); its exit code. */
export function migrateWith(env: Record<string, string>): number {
  return Bun.spawnSync(['bun', join(root, 'cli/main.ts'), 'migrate'], {
    env: { ...process.env, ...env },
  }).exitCode
}

/**
 * Fresh Redis and Postgres for a test of separate processes, migrated by `aob migrate`: their
 * env, with the admin token and `extra` (AOB_VISIBILITY_MS, more tokens, ...) on top.
 */
export async function migratedEnv(
  extra: Record<string, string> = {}
): Promise<Record<string, string>> {
  const env = { ...(await distributedEnv()), AOB_TOKENS: `admin:${ADMIN}`, ...extra }
  const code = migrateWith(env)
  if (code !== 0) throw new Error(`aob migrate exited with ${code}`)
  return env
}

/** Starts an orchestrator on a free port and waits until /health answers. */
export async function spawnOrchestrator(
  env: Record<string, string>,
  opts: { binary?: string; cwd?: string } = {}
) {
  const port = await freePort()
  const svc = spawnService('orchestrator', { ...env, AOB_PORT: String(port) }, opts)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false
    )
    if (ok) break
    if (svc.proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`orchestrator did not start:\n${svc.output()}`)
    await Bun.sleep(50)
  }
  return { ...svc, url }
}

/** A small HTTP client for the API of a process. */
export function apiOf(url: string, token: string) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  return async (
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

/** A seeded PRNG (mulberry32), so a failing schedule can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A TestPlatform whose API, coordinator and built-in workers are separate processes on Redis +
 * Postgres. Node types given in `handlers` are served by workers in the test process instead
 * (a worker process of its own kind), so tests can script them.
 */
export async function processPlatform(
  opts: { handlers?: Record<string, Handler> } = {}
): Promise<TestPlatform> {
  const env = {
    ...(await distributedEnv()),
    AOB_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER},operator@ops2:${OPERATOR2}`,
    AOB_VISIBILITY_MS: '3000',
  }
  const kernel = await createKernel(testConfig({}, env), {
    log: createLogger('silent', 'test'),
    migrate: true,
  })
  const scripted = Object.keys(opts.handlers ?? {})
  const builtin = ['noop', 'sleep', 'transform'].filter((t) => !scripted.includes(t))
  const orchestrator = await spawnOrchestrator(env)
  const procs: ServiceProcess[] = [
    orchestrator,
    spawnService('coordinator', env),
    spawnService('worker', { ...env, AOB_WORKER_TYPES: builtin.join(',') }),
  ]
  if (!scripted.includes('hitl')) procs.push(spawnService('hitl-worker', env))
  const workers = Object.entries(opts.handlers ?? {}).map(([type, handler]) =>
    startWorker(kernel, { type, handler, visibilityMs: 3000 })
  )
  return {
    kernel,
    app: null as never,
    call: apiCaller((path, init) => fetch(`${orchestrator.url}/api/v1${path}`, init)),
    async close() {
      for (const w of workers) await w.stop()
      for (const p of procs) await p.kill()
      await kernel.close()
    },
  }
}
