/**
 * The composition root: picks the adapters for the configured mode and owns their teardown.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createMemoryBus } from './adapters/embedded/memory-bus.ts'
import { createSqliteStore } from './adapters/embedded/sqlite-store.ts'
import { migrate } from './adapters/postgres/migrations.ts'
import { createPostgresStore } from './adapters/postgres/postgres-store.ts'
import { createRedisBus } from './adapters/redis/redis-bus.ts'
import type { Config } from './config.ts'
import { loadLibs } from './libs.ts'
import { createLogger, type Logger } from './log.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import type { Bus } from './ports/bus.ts'
import type { Store, StoredWorkflow } from './ports/store.ts'
import { BoundedMap } from './bounded-map.ts'
import type { RunState } from './engine/state.ts'
import type { Ir } from './model/ir.ts'
import type { Workflow } from './model/workflow.ts'
import { withCas } from './runs/cas.ts'
import { createLanes, type Lanes } from './runs/lanes.ts'
import { createKeyedMutex } from './runs/mutex.ts'

export interface Kernel {
  readonly config: Config
  readonly log: Logger
  /** The system of record, with large outputs kept in the CAS (runs/cas.ts). */
  readonly store: Store
  readonly bus: Bus
  /** The bus in domain verbs. */
  readonly lanes: Lanes
  /** What this process counts (Prometheus, served on /metrics). */
  readonly metrics: Metrics
  /** What this process remembers between transitions (one instance per kernel). */
  readonly state: KernelState
  /** Closes the adapters in reverse order of creation. */
  close(): Promise<void>
}

export interface KernelState {
  /** The state each run had after this process's last commit (the next transition's base). */
  readonly runs: BoundedMap<string, RunState>
  /** Stored workflows by id (content-addressed, so never stale). */
  readonly workflows: BoundedMap<string, StoredWorkflow>
  /** Workflows validated and compiled, by id: a stored document is checked once per process. */
  readonly runnable: BoundedMap<string, { workflow: Workflow; ir: Ir }>
  /** Serialises this process's transitions of one run. */
  readonly runLock: <T>(runId: string, fn: () => Promise<T>) => Promise<T>
}

const RUN_CACHE_LIMIT = 10_000
const WORKFLOW_CACHE_LIMIT = 1_000

export function createKernelState(): KernelState {
  return {
    runs: new BoundedMap(RUN_CACHE_LIMIT),
    workflows: new BoundedMap(WORKFLOW_CACHE_LIMIT),
    runnable: new BoundedMap(WORKFLOW_CACHE_LIMIT),
    runLock: createKeyedMutex(),
  }
}

export interface KernelOptions {
  log?: Logger
  /** Apply missing Postgres migrations first (`aob dev`, tests); services expect `aob migrate`. */
  migrate?: boolean
}

export async function createKernel(config: Config, opts: KernelOptions = {}): Promise<Kernel> {
  const log = opts.log ?? createLogger(config.logLevel)
  await loadLibs()
  if (config.mode === 'distributed') return createDistributedKernel(config, log, opts)
  if (config.dataPath !== ':memory:') {
    mkdirSync(dirname(config.dataPath), { recursive: true })
  }
  return assemble(config, log, createSqliteStore(config.dataPath), createMemoryBus())
}

/** Redis + Postgres: Postgres is the system of record, Redis carries the queues. */
async function createDistributedKernel(
  config: Config,
  log: Logger,
  opts: KernelOptions
): Promise<Kernel> {
  const store = createPostgresStore(config.databaseUrl as string, { schema: config.databaseSchema })
  if (opts.migrate) {
    const applied = await migrate(store.sql)
    if (applied.length) log.info({ applied }, 'applied migrations')
  }
  return assemble(
    config,
    log,
    store,
    createRedisBus(config.redisUrl as string, { prefix: config.redisPrefix, log })
  )
}

function assemble(config: Config, log: Logger, store: Store, bus: Bus): Kernel {
  let closed = false
  return {
    config,
    log,
    store: withCas(store),
    bus,
    lanes: createLanes(bus, log),
    metrics: createMetrics(),
    state: createKernelState(),
    async close() {
      if (closed) return
      closed = true
      await bus.close()
      await store.close()
    },
  }
}

/** What a worker process has: the bus, nothing else (workers talk only to Redis). */
export interface BusKernel {
  readonly config: Config
  readonly log: Logger
  readonly bus: Bus
  readonly lanes: Lanes
  readonly metrics: Metrics
  close(): Promise<void>
}

export function createBusKernel(
  config: Config,
  log: Logger = createLogger(config.logLevel)
): BusKernel {
  if (!config.redisUrl) throw new Error(`[aob] [kernel] a worker process needs ${'AOB_REDIS_URL'}`)
  const bus = createRedisBus(config.redisUrl, { prefix: config.redisPrefix, log })
  return {
    config,
    log,
    bus,
    lanes: createLanes(bus, log),
    metrics: createMetrics(),
    close: () => bus.close(),
  }
}
