/**
 * What every service main does: read the configuration (a bad value stops the process with a
 * message naming the variable), start, wait for SIGINT/SIGTERM, stop in reverse order.
 * @module
 */
import { ConfigError, parseConfig, type Config } from '../src/config.ts'
import { startHealthServer } from '../src/health.ts'
import { createBusKernel, type BusKernel } from '../src/kernel.ts'
import { loadLibs } from '../src/libs.ts'
import type { Service } from '../src/worker/consumer.ts'

/** A stopping process exits within this, even when Redis or Postgres cannot be reached. */
export const STOP_DEADLINE_MS = 5_000

export async function runService(
  name: string,
  start: (config: Config) => Promise<{ services: Service[]; close(): Promise<void> }>
): Promise<void> {
  if (process.argv.includes('--healthcheck')) await healthcheck(name)
  let config: Config
  try {
    config = parseConfig(process.env)
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`${name}: ${e.message}`)
      process.exit(1)
    }
    throw e
  }
  const running = await start(config).catch((e: Error) => {
    console.error(`${name}: cannot start: ${e.message}`)
    process.exit(1)
  })
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  // Stop taking work, finish or release what is held (each consumer has a grace), close the
  // connections; whatever still hangs past the deadline is cut off.
  setTimeout(() => {
    console.error(`${name}: did not stop within ${STOP_DEADLINE_MS} ms; exiting`)
    process.exit(1)
  }, STOP_DEADLINE_MS).unref()
  await Promise.all(
    running.services.map((s) =>
      s.stop().catch((e: Error) => console.error(`${name}: stopping ${s.name}: ${e.message}`))
    )
  )
  await running.close().catch((e: Error) => console.error(`${name}: closing: ${e.message}`))
  process.exit(0)
}

/** A worker binary's whole main: Redis only, the worker's start(kernel), and /health when asked. */
export function runWorkerService(
  name: string,
  start: (kernel: BusKernel) => Service[]
): Promise<void> {
  return runService(name, async (config) => {
    requireRedis(name, config)
    await loadLibs()
    const kernel = createBusKernel(config)
    const services = start(kernel)
    if (config.healthPort !== undefined) {
      services.push(
        startHealthServer(kernel, { host: config.host, port: config.healthPort, service: name })
      )
    }
    return { services, close: () => kernel.close() }
  })
}

/** Worker processes need Redis only. */
export function requireRedis(name: string, config: Config): void {
  if (!config.redisUrl) {
    console.error(`${name}: AOB_REDIS_URL must be set (workers take their tasks from Redis)`)
    process.exit(1)
  }
}

/** Distributed services need both backends; say which variable is missing. */
export function requireDistributed(name: string, config: Config): void {
  if (config.mode !== 'distributed') {
    console.error(
      `${name}: AOB_DATABASE_URL and AOB_REDIS_URL must be set (this service runs on the distributed backend; for one process use \`aob dev\`)`
    )
    process.exit(1)
  }
}

/** `<binary> --healthcheck`: asks the running service's /health (for container health checks). */
async function healthcheck(name: string): Promise<never> {
  let port = '7070'
  try {
    const config = parseConfig(process.env)
    port = String(config.healthPort ?? config.port)
  } catch {} // a bad configuration is reported by the service itself; the check tries the default port
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(2_000),
    })
    process.exit(res.ok ? 0 : 1)
  } catch (e) {
    console.error(`${name}: health check failed: ${(e as Error).message}`)
    process.exit(1)
  }
}
