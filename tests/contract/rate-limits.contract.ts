/**
 * Rate limits through the API (SPEC §4): per principal and tier, exact under concurrency,
 * refusals change nothing, admin unlimited, replay and tier-raising patches spend the budget.
 * `make` gives one or more API callers over one deployment (several orchestrators share the
 * budget); requests go to them in turn.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN, OPERATOR, OPERATOR2, VIEWER, type TestPlatform } from '../helpers/kernel.ts'

/** The limits every backend runs with: slow enough that nothing refills during a test. */
export const TEST_RATE_LIMITS = 'simple:100/h,standard:20/h,heavy:5/h'

export interface RateLimitDeployment {
  calls: TestPlatform['call'][]
  close(): Promise<void>
}

const sleeper = (name: string, agents = 0) => ({
  name,
  nodes: [
    { id: 'wait', type: 'sleep', config: { ms: 60_000 } },
    ...Array.from({ length: agents }, (_, i) => ({
      id: `agent${i}`,
      type: 'agent',
      config: { instructions: 'never reached' },
    })),
  ],
  edges: Array.from({ length: agents }, (_, i) => ({ from: 'wait', to: `agent${i}` })),
})

export function rateLimitContract(backend: string, make: () => Promise<RateLimitDeployment>) {
  describe(`rate limits [${backend}]`, () => {
    let d: RateLimitDeployment
    let turn = 0
    const call: TestPlatform['call'] = (...args) => d.calls[turn++ % d.calls.length](...args)
    beforeAll(async () => {
      d = await make()
    })
    afterAll(() => d.close())
    const runsOf = async (workflow: string) =>
      (await call('GET', `/runs?workflow=${workflow}&limit=500`)).body.runs.length

    test('200 concurrent run requests admit exactly the burst; the rest get 429 and change nothing', async () => {
      const stored = await call('POST', '/workflows', sleeper('burst'))
      expect(stored.status).toBe(201)
      const all = await Promise.all(
        Array.from({ length: 200 }, () =>
          call('POST', '/runs', { workflow: stored.body.id }, OPERATOR)
        )
      )
      const admitted = all.filter((r) => r.status === 201)
      const refused = all.filter((r) => r.status === 429)
      expect(admitted.length).toBe(10) // simple: 100/h → burst 10
      expect(refused.length).toBe(190)
      expect(admitted[0].headers.get('ratelimit-policy')).toBe('"simple";q=100;w=3600')
      expect(admitted[0].headers.get('ratelimit')).toMatch(/^"simple";r=\d;t=\d+$/)
      const r = refused[0]
      expect(r.body.error.code).toBe('RATE_LIMITED')
      // One more fits when one interval (3600 s / 100) has passed.
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(35)
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(36)
      expect(r.headers.get('ratelimit')).toMatch(/^"simple";r=0;t=\d+$/)
      expect(await runsOf(stored.body.id)).toBe(10)
    })

    test('each tier is its own budget; principals do not share; admin is not limited', async () => {
      const standard = await call('POST', '/workflows', sleeper('standard', 1))
      const heavy = await call('POST', '/workflows', sleeper('heavy', 3))
      const simple = await call('POST', '/workflows', sleeper('simple-2'))
      const statuses = async (id: string, n: number, token: string) =>
        (
          await Promise.all(
            Array.from({ length: n }, () => call('POST', '/runs', { workflow: id }, token))
          )
        )
          .map((r) => r.status)
          .sort()
      // OPERATOR spent its simple budget above; its standard (burst 2) and heavy (1) are whole.
      expect(await statuses(standard.body.id, 6, OPERATOR)).toEqual([201, 201, 429, 429, 429, 429])
      expect(await statuses(heavy.body.id, 4, OPERATOR)).toEqual([201, 429, 429, 429])
      expect(await statuses(simple.body.id, 12, OPERATOR2)).toEqual([
        ...Array(10).fill(201),
        429,
        429,
      ])
      expect(await statuses(simple.body.id, 30, ADMIN)).toEqual(Array(30).fill(201))
      // A viewer may not create runs at all (403 before any budget is spent).
      expect((await call('POST', '/runs', { workflow: simple.body.id }, VIEWER)).status).toBe(403)
    })

    test('a refused inline workflow is not stored', async () => {
      const doc = sleeper(`inline-${crypto.randomUUID().slice(0, 8)}`)
      const refused = await call('POST', '/runs', { workflow: doc }, OPERATOR)
      expect(refused.status).toBe(429)
      const names = (await call('GET', '/workflows')).body.workflows.map((w: any) => w.name)
      expect(names).not.toContain(doc.name)
    })

    test('replay spends the budget of the run’s tier', async () => {
      const wf = await call('POST', '/workflows', sleeper('replayed'))
      const run = await call('POST', '/runs', { workflow: wf.body.id }) // admin
      await call('POST', `/runs/${run.body.run_id}/cancel`)
      // OPERATOR's simple budget is spent: its replay is refused, an admin's is not.
      const refused = await call('POST', `/runs/${run.body.run_id}/replay`, {}, OPERATOR)
      expect(refused.status).toBe(429)
      expect(await runsOf(wf.body.id)).toBe(1)
      expect((await call('POST', `/runs/${run.body.run_id}/replay`, {})).status).toBe(201)
    })

    test('a patch that raises the tier spends the new tier’s budget of its submitter', async () => {
      const wf = await call('POST', '/workflows', sleeper('patched'))
      const run = await call('POST', '/runs', { workflow: wf.body.id }) // admin
      const addAgent = (id: string) => ({
        operations: [
          {
            op: 'add',
            path: '/nodes/-',
            value: { id, type: 'agent', config: { instructions: 'x' } },
          },
          { op: 'add', path: '/edges/-', value: { from: 'wait', to: id } },
        ],
      })
      // OPERATOR's standard budget went above: the patch is refused and not applied.
      const refused = await call('POST', `/runs/${run.body.run_id}/patch`, addAgent('a1'), OPERATOR)
      expect(refused.status).toBe(429)
      expect(refused.headers.get('ratelimit-policy')).toBe('"standard";q=20;w=3600')
      const after = await call('GET', `/runs/${run.body.run_id}`)
      expect(after.body.ir_version).toBe(1)
      expect(Object.keys(after.body.nodes)).toEqual(['wait'])
      // OPERATOR2 has standard budget left (burst 2): its patch applies; a patch within the
      // tier (a noop) spends nothing.
      const applied = await call(
        'POST',
        `/runs/${run.body.run_id}/patch`,
        addAgent('a1'),
        OPERATOR2
      )
      expect(applied.status).toBe(200)
      const noop = {
        operations: [{ op: 'add', path: '/nodes/-', value: { id: 'n', type: 'noop' } }],
      }
      const within = await call('POST', `/runs/${run.body.run_id}/patch`, noop, OPERATOR2)
      expect(within.status).toBe(200)
      expect(within.headers.get('ratelimit')).toBeNull()
      await call('POST', `/runs/${run.body.run_id}/cancel`)
    })

    test('validate reports the tier a workflow gets', async () => {
      const res = await call('POST', '/workflows/validate', sleeper('v', 3), OPERATOR)
      expect(res.body.stats).toEqual({ nodes: 4, edges: 3, agents: 3, tier: 'heavy' })
    })
  })
}
