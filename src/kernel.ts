/**
 * The composition root: picks the adapters for the configured mode and owns their teardown.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createMemoryBus } from './adapters/embedded/memory-bus.ts'
import { createSqliteStore } from './adapters/embedded/sqlite-store.ts'
import type { Config } from './config.ts'
import { createLogger, type Logger } from './log.ts'
import type { Bus } from './ports/bus.ts'
import type { Store } from './ports/store.ts'

export interface Kernel {
  readonly config: Config
  readonly log: Logger
  readonly store: Store
  readonly bus: Bus
  /** Closes the adapters in reverse order of creation. */
  close(): Promise<void>
}

export async function createKernel(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Kernel> {
  if (config.mode !== 'embedded') {
    throw new Error('[aob] [kernel] the distributed backend (Redis + Postgres) is not available in this build')
  }
  if (config.dataPath !== ':memory:') {
    mkdirSync(dirname(config.dataPath), { recursive: true })
  }
  const store = createSqliteStore(config.dataPath)
  const bus = createMemoryBus()
  let closed = false
  return {
    config,
    log,
    store,
    bus,
    async close() {
      if (closed) return
      closed = true
      await bus.close()
      await store.close()
    },
  }
}
