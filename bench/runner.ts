/** Drives workloads through a kernel and measures them. */
import type { RunEvent } from '../src/engine/state.ts'
import type { Kernel } from '../src/kernel.ts'
import type { Workflow } from '../src/model/workflow.ts'
import { CHANNELS } from '../src/ports/bus.ts'
import { createRun } from '../src/runs/create-run.ts'
import { ms, summarize } from './stats.ts'
import { WORKLOADS } from './workloads.ts'

export interface RunTiming {
  index: number
  start: number
  end: number
  gaps: number[]
}

export async function runWorkload(
  kernel: Kernel,
  workflow: Workflow,
  total: number,
  inFlight: number
): Promise<RunTiming[]> {
  const out: RunTiming[] = []
  let next = 0
  const one = async (index: number) => {
    const completions: number[] = []
    let done!: () => void
    const finished = new Promise<void>((r) => (done = r))
    const start = performance.now()
    const { run } = await createRun(kernel, {
      workflowId: 'wf_bench',
      document: workflow,
      input: { i: index },
    })
    const unsubscribe = await kernel.bus.subscribe(CHANNELS.runEvents(run.id), (payload) => {
      const now = performance.now()
      for (const ev of payload as RunEvent[]) {
        if (ev.type === 'node_completed') completions.push(now)
        if (ev.type === 'run_completed' || ev.type === 'run_failed') done()
      }
    })
    // Subscribed after the start (a run of many nodes cannot end within one Redis round trip);
    // a run whose end was missed anyway is seen in the store within a second.
    const check = async () => {
      const state = await kernel.store.loadRun(run.id)
      if (state && ['succeeded', 'failed'].includes(state.run.status)) done()
    }
    const poll = setInterval(check, 1_000)
    await finished
    clearInterval(poll)
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

export function afterWarmup(timings: RunTiming[], total: number): RunTiming[] {
  return timings.filter((x) => x.index >= Math.floor(total * 0.1))
}

/** One store commit of a one-event transition, sequentially. */
export async function storeCommit(kernel: Kernel, n: number) {
  const { run } = await createRun(kernel, {
    workflowId: 'wf_bench',
    document: { name: 'commit', nodes: [{ id: 'x', type: 'unknown-type' }] },
    input: null,
  })
  const samples: number[] = []
  let base = (await kernel.store.loadRun(run.id))!.run
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await kernel.store.commitTransition(base, {
      run: {},
      nodes: {},
      events: [{ type: 'log', data: { i } }],
      tasks: [],
    })
    base = { ...base, version: base.version + 1, last_seq: base.last_seq + 1 }
    samples.push(performance.now() - t0)
  }
  return summarize(samples.slice(Math.floor(n * 0.1)))
}

/** publish → consume → ack of one message, sequentially. */
export async function busRoundTrip(kernel: Kernel, n: number) {
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

/** Runs the selected workloads loaded (c = concurrency) and idle (c = 1); prints one line each. */
export async function reportWorkloads(
  kernel: Kernel,
  opts: {
    selected: string[]
    runs: number
    concurrency: number
    latencyRuns: number
    commitP50: number
    cpu?: () => Record<string, number>
  }
) {
  for (const name of opts.selected) {
    const w = WORKLOADS[name]
    if (!w) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`)
    const cpuBefore = opts.cpu?.()
    const all = await runWorkload(kernel, w.workflow, opts.runs, opts.concurrency)
    const cpuAfter = opts.cpu?.()
    const loaded = afterWarmup(all, opts.runs)
    const window =
      (Math.max(...loaded.map((x) => x.end)) - Math.min(...loaded.map((x) => x.start))) / 1000
    const latency = summarize(loaded.map((x) => x.end - x.start))
    console.log(
      `${name.padEnd(9)} loaded (c=${opts.concurrency}): ${(loaded.length / window).toFixed(0)} runs/s, ${((loaded.length * w.nodes) / window).toFixed(0)} node transitions/s; ` +
        `run p50 ${ms(latency.p50)} p99 ${ms(latency.p99)}`
    )
    if (cpuBefore && cpuAfter) {
      const transitions = all.length * w.nodes
      const parts = Object.keys(cpuAfter).map(
        (k) => [k, (cpuAfter[k] - cpuBefore[k]) / transitions] as const
      )
      const total = parts.reduce((sum, [, v]) => sum + v, 0)
      console.log(
        `${name.padEnd(9)} cpu per transition: ${parts.map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(', ')}; total ${total.toFixed(3)} ms ` +
          `(ceiling ≈ ${((navigator.hardwareConcurrency * 1000) / total).toFixed(0)} transitions/s on ${navigator.hardwareConcurrency} cores)`
      )
    }
    const idle = afterWarmup(
      await runWorkload(kernel, w.workflow, opts.latencyRuns, 1),
      opts.latencyRuns
    )
    const run = summarize(idle.map((x) => x.end - x.start))
    const steps = summarize(idle.flatMap((x) => x.gaps))
    const stepText = w.chainLength
      ? `; step p50 ${ms(steps.p50)} p99 ${ms(steps.p99)} (${(steps.p50 / opts.commitP50).toFixed(1)}× a store commit)`
      : ''
    console.log(
      `${name.padEnd(9)} idle   (c=1): run p50 ${ms(run.p50)} p99 ${ms(run.p99)}${stepText}`
    )
  }
}
