import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKENDS } from '../helpers/backends.ts'
import { ADMIN, OPERATOR, OPERATOR2, testPlatform, type TestPlatform } from '../helpers/kernel.ts'
import { waitFor } from '../helpers/wait-for.ts'

const quick = {
  name: 'quick',
  nodes: [{ id: 'a', type: 'noop', config: { output: '{{ input.v }}' } }],
}
const slow = (ms = 400) => ({
  name: 'slow',
  nodes: [
    { id: 's', type: 'sleep', config: { ms } },
    { id: 'after', type: 'noop' },
  ],
  edges: [{ from: 's', to: 'after' }],
})

async function readSse(
  res: Response,
  until: (text: string) => boolean,
  timeoutMs = 5_000
): Promise<string> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + timeoutMs
  while (!until(text)) {
    if (Date.now() > deadline) throw new Error(`SSE: timed out; got so far:\n${text}`)
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  await reader.cancel().catch(() => {})
  return text
}

const sseEvents = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => b.includes('data:'))
    .map((b) => {
      const id = /^id: ?(.*)$/m.exec(b)?.[1]
      const data = JSON.parse(/^data: ?(.*)$/m.exec(b)![1])
      return { id, data }
    })

for (const backend of BACKENDS)
  describe(`runs API [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      // These cases create many runs as OPERATOR: its budgets are tests/contract/rate-limits.contract.ts's subject.
      p = await testPlatform({ backend, config: { rateLimits: null } })
    })
    afterAll(() => p.close())

    const endOf = (id: string) =>
      waitFor(async () => {
        const r = (await p.call('GET', `/runs/${id}`)).body
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null
      })

    test('create by inline document, by id and by tag; GET shows per-node state', async () => {
      const inline = await p.call('POST', '/runs', { workflow: quick, input: { v: 42 } }, OPERATOR)
      expect(inline.status).toBe(201)
      const id = inline.body.run_id
      // (toMatchObject with asymmetric matchers rewrites the object it checks on Bun 1.4.5: read first.)
      expect(id).toMatch(/^run_/)
      expect(inline.body.status).toBe('running')
      const run = await endOf(id)
      expect(run).toMatchObject({
        status: 'succeeded',
        input: { v: 42 },
        output: { a: 42 },
        ir_version: 1,
        approvals: [],
        patches: [],
      })
      expect(run.nodes.a).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        output: 42,
        error: null,
        started_at: expect.any(String),
        finished_at: expect.any(String),
      })
      const stored = await p.call('POST', '/workflows?tag=quick', quick)
      const byId = await p.call(
        'POST',
        '/runs',
        { workflow: stored.body.id, input: { v: 1 } },
        OPERATOR
      )
      const byTag = await p.call('POST', '/runs', { workflow: 'quick', input: { v: 2 } }, OPERATOR)
      expect((await endOf(byId.body.run_id)).output).toEqual({ a: 1 })
      expect((await endOf(byTag.body.run_id)).workflow_id).toBe(stored.body.id)
    })

    test('the same idempotency key gives the same run; with another workflow it is a conflict', async () => {
      const first = await p.call(
        'POST',
        '/runs',
        { workflow: quick, input: { v: 1 }, idempotency_key: 'order-7' },
        OPERATOR
      )
      const second = await p.call(
        'POST',
        '/runs',
        { workflow: quick, input: { v: 1 }, idempotency_key: 'order-7' },
        OPERATOR
      )
      expect(first.status).toBe(201)
      expect(second.status).toBe(200)
      expect(second.body.run_id).toBe(first.body.run_id)
      const other = await p.call(
        'POST',
        '/runs',
        { workflow: slow(), idempotency_key: 'order-7' },
        OPERATOR
      )
      expect(other.status).toBe(409)
    })

    test('bad run requests change nothing: invalid document 422, unknown ref 404, bad shape 400', async () => {
      const before = (await p.call('GET', '/runs?limit=500')).body.runs.length
      const wfBefore = (await p.call('GET', '/workflows')).body.workflows.length
      const invalid = await p.call(
        'POST',
        '/runs',
        { workflow: { name: 'x', nodes: [{ id: 'a', type: 'sleep' }] } },
        OPERATOR
      )
      expect(invalid.status).toBe(422)
      expect(invalid.body.error.details[0].path).toBe('/nodes/0/config/ms')
      expect((await p.call('POST', '/runs', { workflow: 'no-such-tag' }, OPERATOR)).status).toBe(
        404
      )
      expect((await p.call('POST', '/runs', { workflow: quick, extra: 1 }, OPERATOR)).status).toBe(
        400
      )
      expect((await p.call('POST', '/runs', { input: 1 }, OPERATOR)).status).toBe(400)
      expect((await p.call('GET', '/runs?limit=500')).body.runs.length).toBe(before)
      expect((await p.call('GET', '/workflows')).body.workflows.length).toBe(wfBefore)
    })

    test('list: newest first, filters by status and workflow, pages with a cursor', async () => {
      const wf = { name: 'listed', nodes: [{ id: 'a', type: 'noop' }] }
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push((await p.call('POST', '/runs', { workflow: wf }, OPERATOR)).body.run_id)
      for (const id of ids) await endOf(id)
      const wfId = (await p.call('POST', '/workflows', wf)).body.id
      const page1 = await p.call('GET', `/runs?workflow=${wfId}&limit=3`)
      expect(page1.body.runs.map((r: any) => r.run_id)).toEqual(ids.slice(2).reverse())
      const page2 = await p.call(
        'GET',
        `/runs?workflow=${wfId}&limit=3&cursor=${page1.body.next_cursor}`
      )
      expect(page2.body.runs.map((r: any) => r.run_id)).toEqual(ids.slice(0, 2).reverse())
      expect(page2.body.next_cursor).toBeNull()
      const failedRun = (
        await p.call(
          'POST',
          '/runs',
          {
            workflow: {
              name: 'fails',
              nodes: [
                {
                  id: 't',
                  type: 'transform',
                  config: { pipeline: [{ op: 'transform', expr: "$error('x')" }] },
                },
              ],
            },
          },
          OPERATOR
        )
      ).body.run_id
      await endOf(failedRun)
      const failed = await p.call('GET', '/runs?status=failed')
      expect(failed.body.runs.map((r: any) => r.run_id)).toContain(failedRun)
      expect(failed.body.runs.every((r: any) => r.status === 'failed')).toBe(true)
    })

    test('events: JSON with ?after=, seq from 1 with no gaps', async () => {
      const id = (await p.call('POST', '/runs', { workflow: slow(10) }, OPERATOR)).body.run_id
      await endOf(id)
      const all = (await p.call('GET', `/runs/${id}/events`)).body.events
      expect(all.map((e: any) => e.seq)).toEqual(all.map((_: any, i: number) => i + 1))
      expect(all[0]).toMatchObject({
        seq: 1,
        run_id: id,
        type: 'run_started',
        ts: expect.any(String),
        data: expect.any(Object),
      })
      const tail = (await p.call('GET', `/runs/${id}/events?after=3`)).body.events
      expect(tail.map((e: any) => e.seq)).toEqual(all.slice(3).map((e: any) => e.seq))
      expect((await p.call('GET', `/runs/${id}/events?after=-1`)).status).toBe(400)
    })

    test('SSE streams live events with id = seq, keeps idle streams alive, and ends after the terminal event', async () => {
      const id = (await p.call('POST', '/runs', { workflow: slow(600) }, OPERATOR)).body.run_id
      const res = await p.app.request(`/api/v1/runs/${id}/events/stream`, {
        headers: { authorization: `Bearer ${OPERATOR}` },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      const text = await readSse(res, (t) => t.includes('run_completed'))
      expect(text).toContain(': keep-alive')
      const events = sseEvents(text)
      expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1))
      expect(events.map((e) => e.data.seq)).toEqual(events.map((e) => Number(e.id)))
      expect(events.at(-1)?.data.type).toBe('run_completed')
    })

    test('SSE resumes after Last-Event-ID (or ?after=) and misses nothing', async () => {
      const id = (await p.call('POST', '/runs', { workflow: slow(10) }, OPERATOR)).body.run_id
      await endOf(id)
      const total = (await p.call('GET', `/runs/${id}/events`)).body.events.length
      const res = await p.app.request(`/api/v1/runs/${id}/events/stream`, {
        headers: { authorization: `Bearer ${OPERATOR}`, 'last-event-id': '2' },
      })
      const events = sseEvents(await readSse(res, (t) => t.includes('run_completed')))
      expect(events.map((e) => Number(e.id))).toEqual(
        Array.from({ length: total - 2 }, (_, i) => i + 3)
      )
      const viaQuery = await p.app.request(`/api/v1/runs/${id}/events/stream?after=${total - 1}`, {
        headers: { authorization: `Bearer ${OPERATOR}` },
      })
      expect(
        sseEvents(await readSse(viaQuery, (t) => t.includes('run_completed'))).map((e) =>
          Number(e.id)
        )
      ).toEqual([total])
    })

    test('SSE of a finished run resumed at or after its last seq ends at once', async () => {
      const id = (await p.call('POST', '/runs', { workflow: quick, input: { v: 1 } }, OPERATOR))
        .body.run_id
      await endOf(id)
      const total = (await p.call('GET', `/runs/${id}/events`)).body.events.length
      for (const after of [total, total + 5]) {
        const res = await p.app.request(`/api/v1/runs/${id}/events/stream`, {
          headers: { authorization: `Bearer ${OPERATOR}`, 'last-event-id': String(after) },
        })
        // `until` never holds: readSse returns only because the stream ended (else it times out).
        expect(sseEvents(await readSse(res, () => false, 3_000))).toEqual([])
      }
    })

    test('SSE delivers everything and ends even when every live notification is lost', async () => {
      const notify = p.kernel.bus.notify
      p.kernel.bus.notify = async () => {}
      try {
        const id = (await p.call('POST', '/runs', { workflow: slow(300) }, OPERATOR)).body.run_id
        const res = await p.app.request(`/api/v1/runs/${id}/events/stream`, {
          headers: { authorization: `Bearer ${OPERATOR}` },
        })
        const events = sseEvents(await readSse(res, () => false, 5_000))
        const stored = (await p.call('GET', `/runs/${id}/events`)).body.events
        expect(events.map((e) => Number(e.id))).toEqual(stored.map((e: any) => e.seq))
        expect(events.at(-1)?.data.type).toBe('run_completed')
      } finally {
        p.kernel.bus.notify = notify
      }
    })

    test('cancel and replay refuse bad input', async () => {
      const id = (await p.call('POST', '/runs', { workflow: quick, input: { v: 1 } }, OPERATOR))
        .body.run_id
      await endOf(id)
      expect((await p.call('POST', `/runs/${id}/cancel`, { reason: 1 }, OPERATOR)).status).toBe(400)
      expect((await p.call('POST', `/runs/${id}/cancel`, {}, OPERATOR)).status).toBe(409)
      expect((await p.call('POST', `/runs/${id}/replay`, { from: 'zzz' }, OPERATOR)).status).toBe(
        400
      )
      expect((await p.call('POST', `/runs/${id}/replay`, {}, OPERATOR)).status).toBe(409)
      expect(
        (await p.call('POST', '/runs/run_0000000000000000000000000000/cancel', {}, OPERATOR)).status
      ).toBe(404)
    })
  })

for (const backend of BACKENDS)
  describe(`patch API [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      p = await testPlatform({ backend })
    })
    afterAll(() => p.close())

    const start = async (doc: unknown) =>
      (await p.call('POST', '/runs', { workflow: doc }, OPERATOR)).body.run_id as string
    const eventsOf = async (id: string) =>
      (await p.call('GET', `/runs/${id}/events`)).body.events.length

    test('principals: runs record created_by; a patch records who submitted and who decided, and its submitter may not decide it', async () => {
      const digest = new Bun.CryptoHasher('sha256').update(OPERATOR).digest('hex').slice(0, 8)
      const id = await start({
        name: 'who',
        patch_policy: 'approve',
        nodes: [{ id: 'a', type: 'sleep', config: { ms: 300 } }],
      })
      const run = (await p.call('GET', `/runs/${id}`)).body
      expect(run.created_by).toBe(`operator-${digest}`)
      expect(
        (await p.call('GET', '/runs?limit=5')).body.runs.find((r: any) => r.run_id === id)
          .created_by
      ).toBe(`operator-${digest}`)
      const op = [{ op: 'add', path: '/nodes/-', value: { id: 'late', type: 'noop' } }]
      const submitted = (await p.call('POST', `/runs/${id}/patch`, { operations: op }, OPERATOR2))
        .body
      expect(submitted.status).toBe('pending')
      const self = await p.call('POST', `/patches/${submitted.patch_id}/approve`, {}, OPERATOR2)
      expect(self.status).toBe(403)
      expect(self.body.error.code).toBe('FORBIDDEN')
      expect((await p.call('GET', `/patches/${submitted.patch_id}`)).body).toMatchObject({
        status: 'pending',
        submitted_by: 'ops2',
        decided_by: null,
      })
      const approved = await p.call('POST', `/patches/${submitted.patch_id}/approve`, {}, OPERATOR)
      expect(approved.body).toMatchObject({
        status: 'applied',
        submitted_by: 'ops2',
        decided_by: `operator-${digest}`,
      })
      const second = (
        await p.call(
          'POST',
          `/runs/${id}/patch`,
          { operations: [{ op: 'add', path: '/nodes/-', value: { id: 'later', type: 'noop' } }] },
          ADMIN
        )
      ).body
      const rejected = await p.call(
        'POST',
        `/patches/${second.patch_id}/reject`,
        { reason: 'no' },
        OPERATOR2
      )
      expect(rejected.body).toMatchObject({ status: 'rejected', decided_by: 'ops2' })
    })

    test('invalid operations are 422 and change nothing', async () => {
      const id = await start(slow(800))
      const before = await eventsOf(id)
      const cases = [
        { operations: [{ op: 'replace', path: '/name', value: 'x' }] },
        { operations: [{ op: 'bogus', path: '/nodes/0' }] },
        { operations: [] },
        { operations: [{ op: 'add', path: '/edges/-', value: { from: 'after', to: 'ghost' } }] },
        { operations: [{ op: 'add', path: '/nodes/1/__proto__/x', value: 1 }] },
      ]
      for (const body of cases) {
        const res = await p.call('POST', `/runs/${id}/patch`, body, OPERATOR)
        expect({ body, status: res.status }).toEqual({ body, status: 422 })
        expect(res.body.error.details.length).toBeGreaterThan(0)
      }
      const run = (await p.call('GET', `/runs/${id}`)).body
      expect(run.ir_version).toBe(1)
      expect(run.patches).toEqual([])
      expect(await eventsOf(id)).toBe(before)
    })

    test('changing a started node is 409; a failed test op is 409; a finished run is 409', async () => {
      const id = await start(slow(800))
      await waitFor(
        async () => (await p.call('GET', `/runs/${id}`)).body.nodes.s.status === 'running'
      )
      const res = await p.call(
        'POST',
        `/runs/${id}/patch`,
        { operations: [{ op: 'replace', path: '/nodes/0/config/ms', value: 1 }] },
        OPERATOR
      )
      expect(res.status).toBe(409)
      expect(res.body.error.details[0].message).toContain('"s" has started')
      const test409 = await p.call(
        'POST',
        `/runs/${id}/patch`,
        { operations: [{ op: 'test', path: '/nodes/1/id', value: 'other' }] },
        OPERATOR
      )
      expect(test409.status).toBe(409)
      await p.call('POST', `/runs/${id}/cancel`, {}, OPERATOR)
      const done = await p.call(
        'POST',
        `/runs/${id}/patch`,
        { operations: [{ op: 'add', path: '/nodes/-', value: { id: 'n', type: 'noop' } }] },
        OPERATOR
      )
      expect(done.status).toBe(409)
    })

    test('patch_policy "approve": the patch waits, then approve applies it; deciding twice is 409', async () => {
      const id = await start({ ...slow(600), patch_policy: 'approve' })
      const res = await p.call(
        'POST',
        `/runs/${id}/patch`,
        {
          operations: [{ op: 'add', path: '/nodes/1/config', value: { output: 'patched' } }],
          reason: 'agent idea',
        },
        OPERATOR
      )
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ status: 'pending', ir_version: null })
      const listed = (await p.call('GET', `/runs/${id}/patches`)).body.patches
      expect(listed).toHaveLength(1)
      expect(listed[0]).toMatchObject({
        patch_id: res.body.patch_id,
        status: 'pending',
        reason: 'agent idea',
      })
      expect((await p.call('GET', `/runs/${id}`)).body.ir_version).toBe(1)
      const approved = await p.call('POST', `/patches/${res.body.patch_id}/approve`, {}, OPERATOR2)
      expect(approved.status).toBe(200)
      expect(approved.body).toMatchObject({ status: 'applied', ir_version: 2 })
      expect(
        (await p.call('POST', `/patches/${res.body.patch_id}/reject`, {}, OPERATOR2)).status
      ).toBe(409)
      const run = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${id}`)).body
        return r.status === 'succeeded' ? r : null
      })
      expect(run.nodes.after.output).toBe('patched')
      const types = (await p.call('GET', `/runs/${id}/events`)).body.events.map((e: any) => e.type)
      expect(types).toContain('patch_pending')
      expect(types).toContain('patch_applied')
      expect((await p.call('GET', `/patches/${res.body.patch_id}`)).body.status).toBe('applied')
    })

    test('a rejected patch changes nothing', async () => {
      const id = await start({ ...slow(300), patch_policy: 'approve' })
      const res = await p.call(
        'POST',
        `/runs/${id}/patch`,
        { operations: [{ op: 'add', path: '/nodes/1/config', value: { output: 'no' } }] },
        OPERATOR
      )
      const rejected = await p.call('POST', `/patches/${res.body.patch_id}/reject`, {}, OPERATOR2)
      expect(rejected.body.status).toBe('rejected')
      const run = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${id}`)).body
        return r.status === 'succeeded' ? r : null
      })
      expect(run.nodes.after.output).toBeNull()
      expect(run.ir_version).toBe(1)
    })

    test('a pending patch keeps a quiet run paused until it is decided', async () => {
      const id = await start({
        name: 'paused-by-patch',
        patch_policy: 'approve',
        nodes: [{ id: 'a', type: 'sleep', config: { ms: 100 } }],
      })
      const res = await p.call(
        'POST',
        `/runs/${id}/patch`,
        {
          operations: [
            {
              op: 'add',
              path: '/nodes/-',
              value: { id: 'late', type: 'noop', config: { output: 'added' } },
            },
          ],
        },
        OPERATOR
      )
      expect(res.body.status).toBe('pending')
      await waitFor(
        async () => {
          const r = (await p.call('GET', `/runs/${id}`)).body
          return r.nodes.a.status === 'succeeded' && r.status === 'paused'
        },
        5_000,
        'a quiet run paused by its pending patch'
      )
      await p.call('POST', `/patches/${res.body.patch_id}/approve`, {}, OPERATOR2)
      const run = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${id}`)).body
        return r.status === 'succeeded' ? r : null
      })
      expect(run.nodes.late.output).toBe('added')
    })
  })
