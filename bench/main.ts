/**
 * `bun run bench [chain10|fanout10|api|http|all|peers|approvals|agent|fanout|cli] [--backend embedded|redis-pg] [--runs N]
 *  [--concurrency C] [--latency-runs N] [--workers W]`
 *
 * Runs N runs of each workload through the real coordinator and workers, C runs in flight,
 * then N' runs one at a time, and reports runs/s, node transitions/s, run latency and per-step
 * latency (the gap between one node's completion and the next's in a chain) p50/p99, counting
 * only runs started after the first 10% (warm-up). Baselines measured in the same run: one bus
 * round trip and one store commit on the same backend.
 *
 * embedded: everything in this process. redis-pg: throwaway Redis and Postgres (or
 * AOB_TEST_REDIS_URL / AOB_TEST_DATABASE_URL), one coordinator and W built-in worker processes;
 * this process creates the runs through the kernel, as the orchestrator does. `api` starts an
 * orchestrator process and measures POST /runs of a one-node workflow at fixed concurrency.
 * `http` runs http nodes against a local server (0 ms and 50 ms answers) and compares the
 * guarded client with plain fetch.
 */
import { parseArgs } from 'node:util'
import { parseConfig } from '../src/config.ts'
import { createKernel } from '../src/kernel.ts'
import { createLogger } from '../src/log.ts'
import { startPlatform } from '../cli/platform.ts'
import { ms } from './stats.ts'
import { busRoundTrip, reportWorkloads, storeCommit } from './runner.ts'
import { benchApi } from './api.ts'
import { cpuSnapshot } from './cpu.ts'
import { startDistributed } from './distributed.ts'
import { benchGuard, benchHttp, startHttpTarget } from './http.ts'

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'embedded' },
    runs: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'latency-runs': { type: 'string', default: '200' },
    workers: { type: 'string', default: '1' },
    requests: { type: 'string', default: '5000' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
  },
})
if (positionals.includes('cli')) {
  const { benchCli } = await import('./cli.ts')
  await benchCli({ runs: values.runs === '1000' ? 30 : Number(values.runs) })
  process.exit(0)
}
if (positionals.includes('fanout')) {
  const { benchFanout } = await import('./fanout.ts')
  const num = (name: string, dflt: number) => {
    const i = Bun.argv.indexOf(`--${name}`)
    return i > 0 ? Number(Bun.argv[i + 1]) : dflt
  }
  await benchFanout({
    connections: num('connections', 10_000),
    runs: Number(values.runs === '1000' ? 1000 : values.runs),
    rate: num('rate', 5_000),
    seconds: num('seconds', 5),
  })
  const { stopAllServers } = await import('../tests/helpers/services.ts')
  stopAllServers()
  process.exit(0)
}
if (positionals.includes('agent')) {
  const { benchAgent } = await import('./agent.ts')
  await benchAgent({ runs: values.runs === '1000' ? 200 : Number(values.runs) })
  process.exit(0)
}
if (positionals.includes('approvals')) {
  const { benchApprovals } = await import('./approvals.ts')
  const backend = values.backend as 'embedded' | 'redis-pg'
  await benchApprovals(backend, { runs: values.runs === '1000' ? 500 : Number(values.runs) })
  const { stopAllServers } = await import('../tests/helpers/services.ts')
  stopAllServers()
  process.exit(0)
}
if (positionals.includes('peers')) {
  const { benchPeers } = await import('./peers.ts')
  await benchPeers({
    runs: Number(values.runs),
    reps: Number(values.reps),
    sequentialRuns: Number(values['latency-runs']),
  })
  const { stopAllServers } = await import('../tests/helpers/services.ts')
  stopAllServers()
  process.exit(0)
}
const backend = values.backend as 'embedded' | 'redis-pg'
if (!['embedded', 'redis-pg'].includes(backend))
  throw new Error('--backend must be embedded or redis-pg')
const all = positionals.length === 0 || positionals.includes('all')
const selected = all
  ? ['chain10', 'fanout10']
  : positionals.filter((p) => p !== 'api' && p !== 'http')
const withApi = all || positionals.includes('api')
const withHttp = all || positionals.includes('http')

const log = createLogger('error', 'bench')
const cluster = backend === 'redis-pg' ? await startDistributed(Number(values.workers)) : null
const config = parseConfig(
  { AOB_LOG_LEVEL: 'error', ...(cluster?.env ?? {}) },
  { dataPath: ':memory:', tokens: [] }
)
const kernel = await createKernel(config, { log, migrate: true })
const httpTarget = withHttp ? startHttpTarget() : null
const platform =
  backend === 'embedded'
    ? await startPlatform(kernel, {
        host: '127.0.0.1',
        port: 0,
        fetch: httpTarget ? benchGuard(httpTarget.port as number) : undefined,
      })
    : null

console.log(
  `aob bench: backend=${backend} runs=${values.runs} concurrency=${values.concurrency} workers=${backend === 'embedded' ? 'in-process' : `${values.workers} process(es) + 1 coordinator process`} bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`
)
const hop = await busRoundTrip(kernel, 2000)
const commit = await storeCommit(kernel, 2000)
console.log(`baseline  bus round trip (publish→consume→ack): p50 ${ms(hop.p50)} p99 ${ms(hop.p99)}`)
console.log(
  `baseline  store commit (one transition):        p50 ${ms(commit.p50)} p99 ${ms(commit.p99)}`
)
await reportWorkloads(kernel, {
  selected,
  runs: Number(values.runs),
  concurrency: Number(values.concurrency),
  latencyRuns: Number(values['latency-runs']),
  commitP50: commit.p50,
  cpu: cluster ? () => cpuSnapshot(cluster.cpuGroups) : undefined,
})
if (withApi)
  await benchApi(backend, cluster?.env ?? {}, {
    requests: Number(values.requests),
    concurrency: 32,
  })
if (httpTarget) {
  if (backend === 'embedded')
    await benchHttp(kernel, httpTarget.port as number, {
      runs: Number(values.runs),
      concurrency: Number(values.concurrency),
    })
  else console.log('http      (run `bun run bench http` on the embedded backend)')
  httpTarget.stop(true)
}

await platform?.stop()
await kernel.close()
await cluster?.stop()
const { stopAllServers } = await import('../tests/helpers/services.ts')
stopAllServers()
process.exit(0)
