/**
 * `bun run bench [chain10|fanout10|all] [--runs N] [--concurrency C]`
 *
 * Runs N runs of each workload through the real coordinator and workers on the embedded backend
 * (in one process), C runs in flight at a time, and reports runs/s, node transitions/s, run
 * latency and per-step latency (the gap between one node's completion and the next's in a
 * chain) p50/p99, counting only runs started after the first 10% (warm-up). The baseline,
 * measured in the same run, is one bus round trip (publish, consume, ack) on the same backend.
 */
import { parseArgs } from 'node:util'
import { parseConfig } from '../src/config.ts'
import { createKernel, type Kernel } from '../src/kernel.ts'
import { createLogger } from '../src/log.ts'
import { startPlatform } from '../src/platform.ts'
import { CHANNELS } from '../src/ports/bus.ts'
import { createRun } from '../src/runs/create-run.ts'
import type { RunEvent } from '../src/engine/state.ts'
import { ms, summarize } from './stats.ts'
import { WORKLOADS } from './workloads.ts'

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    'latency-runs': { type: 'string', default: '200' },
  },
})
const latencyRuns = Number(values['latency-runs'])
const runs = Number(values.runs)
const concurrency = Number(values.concurrency)
const selected = positionals.length === 0 || positionals.includes('all') ? Object.keys(WORKLOADS) : positionals

const config = parseConfig({ AOB_LOG_LEVEL: 'error' }, { dataPath: ':memory:', tokens: [] })
const kernel = await createKernel(config, { log: createLogger('error', 'bench') })
const platform = await startPlatform(kernel, { host: '127.0.0.1', port: 0 })

console.log(`aob bench: backend=embedded runs=${runs} concurrency=${concurrency} bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`)
const hop = await busRoundTrip(kernel, 2000)
const commit = await storeCommit(kernel, 2000)
console.log(`baseline  bus round trip (publish→consume→ack): p50 ${ms(hop.p50)} p99 ${ms(hop.p99)}`)
console.log(`baseline  store commit (one transition):        p50 ${ms(commit.p50)} p99 ${ms(commit.p99)}`)

for (const name of selected) {
  const w = WORKLOADS[name]
  if (!w) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`)
  const loaded = afterWarmup(await runWorkload(kernel, w.workflow, runs, concurrency), runs)
  const window = (Math.max(...loaded.map((x) => x.end)) - Math.min(...loaded.map((x) => x.start))) / 1000
  const latency = summarize(loaded.map((x) => x.end - x.start))
  console.log(
    `${name.padEnd(9)} loaded (c=${concurrency}): ${(loaded.length / window).toFixed(0)} runs/s, ${((loaded.length * w.nodes) / window).toFixed(0)} node transitions/s; ` +
      `run p50 ${ms(latency.p50)} p99 ${ms(latency.p99)}`
  )
  const idle = afterWarmup(await runWorkload(kernel, w.workflow, latencyRuns, 1), latencyRuns)
  const run = summarize(idle.map((x) => x.end - x.start))
  const steps = summarize(idle.flatMap((x) => x.gaps))
  const stepText = w.chainLength ? `; step p50 ${ms(steps.p50)} p99 ${ms(steps.p99)} (${(steps.p50 / commit.p50).toFixed(1)}× a store commit)` : ''
  console.log(`${name.padEnd(9)} idle   (c=1): run p50 ${ms(run.p50)} p99 ${ms(run.p99)}${stepText}`)
}
await platform.stop()
await kernel.close()

// --- internal ---

interface RunTiming {
  index: number
  start: number
  end: number
  gaps: number[]
}

async function runWorkload(kernel: Kernel, workflow: any, total: number, inFlight: number): Promise<RunTiming[]> {
  const out: RunTiming[] = []
  let next = 0
  const one = async (index: number) => {
    const completions: number[] = []
    let done!: () => void
    const finished = new Promise<void>((r) => (done = r))
    let unsubscribe = () => {}
    const start = performance.now()
    const { run } = await createRun(kernel, { workflowId: 'wf_bench', document: workflow, input: { i: index } })
    unsubscribe = await kernel.bus.subscribe(CHANNELS.runEvents(run.id), (payload) => {
      const now = performance.now()
      for (const ev of payload as RunEvent[]) {
        if (ev.type === 'node_completed') completions.push(now)
        if (ev.type === 'run_completed' || ev.type === 'run_failed') done()
      }
    })
    const state = await kernel.store.loadRun(run.id)
    if (state && ['succeeded', 'failed'].includes(state.run.status)) done()
    await finished
    unsubscribe()
    const end = performance.now()
    const gaps = completions.slice(1).map((t, i) => t - completions[i])
    out.push({ index, start, end, gaps: workflow.name.startsWith('chain') ? gaps : [] })
  }
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await one(next++)
    })
  )
  return out
}

function afterWarmup(timings: RunTiming[], total: number): RunTiming[] {
  return timings.filter((x) => x.index >= Math.floor(total * 0.1))
}

async function storeCommit(kernel: Kernel, n: number) {
  const { run } = await createRun(kernel, { workflowId: 'wf_bench', document: { name: 'commit', nodes: [{ id: 'x', type: 'unknown-type' }] }, input: null })
  const samples: number[] = []
  let base = (await kernel.store.loadRun(run.id))!.run
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await kernel.store.commitTransition(base, { run: {}, nodes: {}, events: [{ type: 'log', data: { i } }], tasks: [] })
    base = { ...base, version: base.version + 1, last_seq: base.last_seq + 1 }
    samples.push(performance.now() - t0)
  }
  return summarize(samples.slice(Math.floor(n * 0.1)))
}

async function busRoundTrip(kernel: Kernel, n: number) {
  const topic = `bench.hop.${crypto.randomUUID()}`
  const samples: number[] = []
  await kernel.bus.consume(topic, 'g', 'c', { count: 1, blockMs: 0 })
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await kernel.bus.publish(topic, { i })
    const [d] = await kernel.bus.consume(topic, 'g', 'c', { count: 1, blockMs: 1000 })
    await kernel.bus.ack(topic, 'g', [d.id])
    samples.push(performance.now() - t0)
  }
  return summarize(samples.slice(Math.floor(n * 0.1)))
}
