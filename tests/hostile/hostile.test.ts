/**
 * The hostile-input suite, over real HTTP on both backends: hundreds of bad requests on every
 * write route, each answered with a documented 4xx and the SPEC error body, none changing any
 * stored workflow, tag or run; then runaway expressions in workflows that are valid. `/health`
 * is polled the whole time and must answer within a second.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKENDS } from '../helpers/backends.ts'
import { ADMIN, OPERATOR, VIEWER, testPlatform, type TestPlatform } from '../helpers/kernel.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { hostileCases, type HostileCase, type Targets } from './cases.ts'

const SEED = Number(process.env.AOB_HOSTILE_SEED ?? 20261201)
const GENERATED = 200

interface Live {
  url: string
  stop(): void
}

function serve(p: TestPlatform): Live {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: p.app.fetch, idleTimeout: 30 })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}

/** Polls /health every 50 ms and keeps the slowest answer. */
function healthWatch(url: string) {
  let worst = 0
  let failures = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const started = performance.now()
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })
        if (res.status !== 200) failures++
        await res.arrayBuffer()
      } catch {
        failures++
      }
      worst = Math.max(worst, performance.now() - started)
      await Bun.sleep(50)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { worstMs: worst, failures }
    },
  }
}

async function send(
  url: string,
  c: HostileCase
): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) }
  if (c.token !== null) headers.authorization ??= `Bearer ${c.token ?? ADMIN}`
  if (c.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
  const res = await fetch(`${url}/api/v1${c.path}`, { method: c.method, headers, body: c.body })
  const text = await res.text()
  let body: any = null
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body, text }
}

/** Everything a bad request could have changed, read through the API. */
async function snapshot(p: TestPlatform, t: Targets) {
  const get = async (path: string) => (await p.call('GET', path)).body
  const runs = await get('/runs?limit=500')
  const details = await Promise.all([t.running, t.finished].map((id) => get(`/runs/${id}`)))
  const events = await Promise.all(
    [t.running, t.finished].map((id) => get(`/runs/${id}/events?limit=10000`))
  )
  return {
    workflows: await get('/workflows?limit=1000'),
    tags: await get('/tags'),
    history: await get(`/tags/${t.tag}/history`),
    runs,
    details,
    events,
    patch: await get(`/patches/${t.patch}`),
    approvals: await get('/approvals?limit=500'),
    tools: await get('/tools'),
    apis: await get('/openapi'),
    patches: await get(`/runs/${t.running}/patches`),
  }
}

/** A one-node workflow whose transform step evaluates `expr`. */
const transformOf = (expr: string) => ({
  name: 'runaway-transform',
  nodes: [{ id: 'a', type: 'transform', config: { pipeline: [{ op: 'transform', expr }] } }],
})

for (const backend of BACKENDS) {
  describe(`hostile input [${backend}]`, () => {
    let p: TestPlatform
    let live: Live
    let t: Targets
    beforeAll(async () => {
      p = await testPlatform({ backend })
      live = serve(p)
      const stored = await p.call('POST', '/workflows?tag=hostile', {
        name: 'hostile',
        nodes: [{ id: 'a', type: 'noop', config: { output: '{{ input }}' } }],
      })
      const finished = (
        await p.call('POST', '/runs', { workflow: 'hostile', input: { v: 1 } }, OPERATOR)
      ).body.run_id
      const running = (
        await p.call(
          'POST',
          '/runs',
          {
            workflow: {
              name: 'hostile-sleeper',
              patch_policy: 'approve',
              nodes: [{ id: 'sleeper', type: 'sleep', config: { ms: 600_000 } }],
            },
          },
          OPERATOR
        )
      ).body.run_id
      const patch = (
        await p.call(
          'POST',
          `/runs/${running}/patch`,
          { operations: [{ op: 'add', path: '/nodes/-', value: { id: 'later', type: 'noop' } }] },
          OPERATOR
        )
      ).body.patch_id
      await waitFor(
        async () => ['succeeded'].includes((await p.call('GET', `/runs/${finished}`)).body.status),
        10_000,
        'the finished target'
      )
      await waitFor(
        async () =>
          (await p.call('GET', `/runs/${running}`)).body.nodes.sleeper.status === 'running',
        10_000,
        'the running target'
      )
      const gated = (
        await p.call(
          'POST',
          '/runs',
          {
            workflow: {
              name: 'hostile-gate',
              nodes: [{ id: 'gate', type: 'hitl', config: { prompt: 'hostile?' } }],
            },
          },
          OPERATOR
        )
      ).body.run_id
      const approval = await waitFor(
        async () => (await p.call('GET', `/approvals?run=${gated}`)).body.approvals[0]?.id ?? null,
        10_000,
        'the approval target'
      )
      t = { running, finished, patch, approval, tag: 'hostile', workflowId: stored.body.id }
    })
    afterAll(async () => {
      live?.stop()
      await p?.close()
    })

    test('every bad request gets a documented 4xx with the SPEC error body, and changes nothing', async () => {
      const cases = hostileCases(t, VIEWER, { generated: GENERATED, seed: SEED })
      const before = await snapshot(p, t)
      const watch = healthWatch(live.url)
      const wrong: string[] = []
      let serverErrors = 0
      for (const c of cases) {
        const res = await send(live.url, c)
        if (res.status >= 500) serverErrors++
        const refusedByValidate =
          c.validate &&
          res.status === 200 &&
          res.body?.valid === false &&
          Array.isArray(res.body.errors) &&
          res.body.errors.length > 0
        const errorBody =
          res.body?.error &&
          typeof res.body.error.code === 'string' &&
          typeof res.body.error.message === 'string' &&
          Array.isArray(res.body.error.details)
        const refused =
          res.status === 200 ? refusedByValidate : c.expect.includes(res.status) && errorBody
        if (!refused) {
          wrong.push(`${c.name}: ${res.status} ${res.text.slice(0, 160)}`)
        }
      }
      const health = await watch.stop()
      const after = await snapshot(p, t)
      console.log(
        `hostile[${backend}]: cases=${cases.length} seed=${SEED} server_errors=${serverErrors} wrong=${wrong.length} health_worst_ms=${health.worstMs.toFixed(0)} health_failures=${health.failures}`
      )
      expect(wrong).toEqual([])
      expect(serverErrors).toBe(0)
      expect(after).toEqual(before)
      expect(cases.length).toBeGreaterThanOrEqual(500)
      expect(health.failures).toBe(0)
      expect(health.worstMs).toBeLessThan(1_000)
    }, 240_000)

    test('runaway expressions fail their node (or count as a false edge) and the server keeps answering', async () => {
      const watch = healthWatch(live.url)
      const runaway = "$count($distinct($map([1..25000], function($i){ {'k': $i} })))"
      const cases: { name: string; workflow: unknown; expect(run: any): void }[] = [
        {
          name: 'when',
          workflow: {
            name: 'runaway-when',
            nodes: [
              { id: 'a', type: 'noop' },
              { id: 'b', type: 'noop' },
            ],
            edges: [{ from: 'a', to: 'b', when: `${runaway} > 0` }],
          },
          expect: (run) => {
            expect(run.status).toBe('succeeded')
            expect(run.nodes.b.status).toBe('skipped')
          },
        },
        ...(
          [
            [
              'transform step',
              '( $f := function($n){ $n <= 1 ? 1 : $f($n-1) + $f($n-2) }; $f(40) )',
              /stopped|timeout/i,
            ],
            ['$eval', '($x := "$eval($x)"; $eval($x))', /\$eval is not available/],
            ['$pad', "$length($pad('', 2e8))", /over the limit/],
            [
              'memory',
              "$length($reduce([1..40], function($a, $b){ $a & $a }, 'xxxxxxxxxxxxxxxx'))",
              /./,
            ],
          ] as const
        ).map(([name, expr, message]) => ({
          name,
          workflow: transformOf(expr),
          expect: (run: any) => {
            expect(run.status).toBe('failed')
            expect(run.nodes.a.error.message).toMatch(message)
          },
        })),
        {
          name: 'template',
          workflow: {
            name: 'runaway-template',
            nodes: [{ id: 'a', type: 'noop', config: { output: `{{ ${runaway} }}` } }],
          },
          expect: (run) => {
            expect(run.status).toBe('failed')
            expect(run.nodes.a.error.code).toBe('EXPRESSION_ERROR')
          },
        },
      ]
      const ids = await Promise.all(
        cases.map(
          async (c) =>
            (await p.call('POST', '/runs', { workflow: c.workflow }, OPERATOR)).body
              .run_id as string
        )
      )
      for (const [i, c] of cases.entries()) {
        const run = await waitFor(
          async () => {
            const r = (await p.call('GET', `/runs/${ids[i]}`)).body
            return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null
          },
          20_000,
          `the ${c.name} run`
        )
        c.expect(run)
      }
      const health = await watch.stop()
      console.log(
        `hostile[${backend}]: runaway expressions=${cases.length} health_worst_ms=${health.worstMs.toFixed(0)}`
      )
      expect(health.failures).toBe(0)
      expect(health.worstMs).toBeLessThan(1_000)
    }, 60_000)
  })
}
