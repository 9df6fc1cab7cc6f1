/** POST /runs of a one-node workflow against a real API process, at fixed concurrency. */
import { join } from 'node:path'
import { spawnOrchestrator, type ServiceProcess } from '../tests/helpers/cluster.ts'
import { freePort } from '../tests/helpers/services.ts'
import { ms, summarize } from './stats.ts'

const TOKEN = 'bench-admin-token-01'

export async function benchApi(
  backend: 'embedded' | 'redis-pg',
  env: Record<string, string>,
  opts: { requests: number; concurrency: number }
) {
  let server: { url: string; kill(): Promise<void> }
  if (backend === 'redis-pg') {
    server = await spawnOrchestrator({
      ...env,
      AOB_TOKENS: `admin:${TOKEN}`,
      AOB_LOG_LEVEL: 'error',
    })
  } else {
    const port = await freePort()
    const proc = Bun.spawn(
      ['bun', join(import.meta.dir, '../cli/main.ts'), 'dev', '--memory', '--port', String(port)],
      {
        env: {
          ...process.env,
          AOB_TOKEN: TOKEN,
          AOB_HOME: '/tmp/aob-bench-home',
          AOB_LOG_LEVEL: 'error',
        },
        stdout: 'ignore',
        stderr: 'ignore',
      }
    )
    const url = `http://127.0.0.1:${port}`
    for (
      let i = 0;
      i < 200 &&
      !(await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false
      ));
      i++
    )
      await Bun.sleep(50)
    server = {
      url,
      kill: async () => {
        proc.kill()
        await proc.exited
      },
    } as unknown as ServiceProcess & { url: string }
  }
  const body = JSON.stringify({
    workflow: { name: 'api-bench', nodes: [{ id: 'a', type: 'noop' }] },
    input: { x: 1 },
  })
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  const post = async () => {
    const t0 = performance.now()
    const res = await fetch(`${server.url}/api/v1/runs`, { method: 'POST', headers, body })
    await res.arrayBuffer()
    if (res.status !== 201) throw new Error(`POST /runs answered ${res.status}`)
    return performance.now() - t0
  }
  const health = async () => {
    const t0 = performance.now()
    await (await fetch(`${server.url}/health`)).arrayBuffer()
    return performance.now() - t0
  }
  const drive = async (fn: () => Promise<number>, n: number) => {
    const samples: number[] = []
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next++ < n) samples.push(await fn())
      })
    )
    return {
      rate: n / ((performance.now() - started) / 1000),
      ...summarize(samples.slice(Math.floor(n * 0.1))),
    }
  }
  await drive(post, Math.min(500, opts.requests)) // warm-up
  const baseline = await drive(health, opts.requests)
  const create = await drive(post, opts.requests)
  console.log(
    `baseline  GET /health (c=${opts.concurrency}): ${baseline.rate.toFixed(0)} req/s, p50 ${ms(baseline.p50)} p99 ${ms(baseline.p99)}`
  )
  console.log(
    `api       POST /runs  (c=${opts.concurrency}): ${create.rate.toFixed(0)} req/s, p50 ${ms(create.p50)} p99 ${ms(create.p99)} (${(baseline.rate / create.rate).toFixed(1)}× fewer than /health)`
  )
  await server.kill()
}
