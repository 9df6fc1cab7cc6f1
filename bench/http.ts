/**
 * http nodes/s against a local Bun server answering after 0 ms and after 50 ms, and the
 * guard's added cost per request against a plain fetch loop, measured in the same run.
 */
import type { Kernel } from '../src/kernel.ts'
import { createGuardedFetch } from '../src/net/guarded-fetch.ts'
import { createPolicy } from '../src/net/policy.ts'
import { ms, summarize } from './stats.ts'
import { afterWarmup, runWorkload } from './runner.ts'

export function startHttpTarget() {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      if (new URL(req.url).pathname === '/slow') await Bun.sleep(50)
      return Response.json({ ok: true })
    },
  })
}

/** The guard as an operator would configure it to reach this one loopback server. */
export function benchGuard(port: number) {
  return createGuardedFetch({ policy: createPolicy({ allow: ['127.0.0.1/32'], ports: [port] }) })
}

export async function benchHttp(
  kernel: Kernel,
  port: number,
  opts: { runs: number; concurrency: number }
) {
  const base = `http://127.0.0.1:${port}`
  for (const path of ['/fast', '/slow']) {
    const workflow = {
      name: 'http-bench',
      nodes: [{ id: 'get', type: 'http', config: { url: `${base}${path}` } }],
    }
    const timings = afterWarmup(
      await runWorkload(kernel, workflow, opts.runs, opts.concurrency),
      opts.runs
    )
    const window =
      (Math.max(...timings.map((t) => t.end)) - Math.min(...timings.map((t) => t.start))) / 1000
    const latency = summarize(timings.map((t) => t.end - t.start))
    console.log(
      `http      ${path === '/fast' ? '0 ms ' : '50 ms'} server (c=${opts.concurrency}): ${(timings.length / window).toFixed(0)} http nodes/s, run p50 ${ms(latency.p50)} p99 ${ms(latency.p99)}`
    )
  }
  const guard = benchGuard(port)
  // Interleaved, so both see the same warm-up, the same server state and the same noise.
  const [plain, guarded] = await interleaved(2000, [
    async () => (await fetch(`${base}/fast`)).arrayBuffer(),
    async () => (await guard(`${base}/fast`)).response.arrayBuffer(),
  ])
  console.log(`baseline  plain fetch (sequential): p50 ${ms(plain.p50)} p99 ${ms(plain.p99)}`)
  console.log(
    `guard     guarded fetch (sequential): p50 ${ms(guarded.p50)} p99 ${ms(guarded.p99)}; added p50 ${ms(guarded.p50 - plain.p50)} (${(guarded.p50 / plain.p50).toFixed(2)}× plain)`
  )
}

async function interleaved(n: number, fns: (() => Promise<unknown>)[]) {
  const samples = fns.map(() => [] as number[])
  for (let i = 0; i < n; i++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now()
      await fn()
      samples[k].push(performance.now() - t0)
    }
  }
  return samples.map((s) => summarize(s.slice(Math.floor(n * 0.1))))
}
