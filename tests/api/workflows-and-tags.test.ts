import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKENDS } from '../helpers/backends.ts'
import { workflowId } from '../../src/model/canonical.ts'
import { testPlatform, type TestPlatform } from '../helpers/kernel.ts'

const doc = (name = 'tagged') => ({ name, nodes: [{ id: 'a', type: 'noop' }] })

for (const backend of BACKENDS)
  describe(`workflows and tags API [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      p = await testPlatform({ backend })
    })
    afterAll(() => p.close())

    test('storing returns the content id; storing twice gives the same id', async () => {
      const first = await p.call('POST', '/workflows', doc('stored'))
      expect(first.status).toBe(201)
      expect(first.body).toMatchObject({
        id: workflowId(doc('stored')),
        name: 'stored',
        created: true,
      })
      const again = await p.call('POST', '/workflows', {
        nodes: [{ type: 'noop', id: 'a' }],
        name: 'stored',
      })
      expect(again.body.id).toBe(first.body.id)
      expect(again.body.created).toBe(false)
      const got = await p.call('GET', `/workflows/${first.body.id}`)
      expect(got.body.document).toEqual(doc('stored'))
      expect(
        (await p.call('GET', '/workflows')).body.workflows.filter(
          (w: any) => w.id === first.body.id
        )
      ).toHaveLength(1)
    })

    test('an invalid workflow is 422 with every problem, and nothing is stored', async () => {
      const before = (await p.call('GET', '/workflows')).body.workflows.length
      const res = await p.call('POST', '/workflows?tag=never', {
        name: 'Bad!',
        nodes: [{ id: 'a', type: 'noop', extra: 1 }],
      })
      expect(res.status).toBe(422)
      expect(res.body.error.code).toBe('INVALID_WORKFLOW')
      expect(res.body.error.details.map((d: any) => d.path).sort()).toEqual([
        '/name',
        '/nodes/0/extra',
      ])
      expect((await p.call('GET', '/workflows')).body.workflows.length).toBe(before)
      expect(
        (await p.call('GET', '/tags')).body.tags.find((t: any) => t.name === 'never')
      ).toBeUndefined()
    })

    test('validate reports errors and warnings and stores nothing', async () => {
      const before = (await p.call('GET', '/workflows')).body.workflows.length
      const res = await p.call('POST', '/workflows/validate', {
        name: 'v',
        nodes: [{ id: 'a', type: 'mystery' }],
        edges: [{ from: 'a', to: 'b' }],
      })
      expect(res.status).toBe(200)
      expect(res.body.valid).toBe(false)
      expect(res.body.errors).toEqual([{ path: '/edges/0/to', message: 'unknown node "b"' }])
      expect(res.body.warnings).toHaveLength(1)
      expect(res.body.stats).toEqual({ nodes: 1, edges: 1, agents: 0, tier: 'simple' })
      const agents = await p.call('POST', '/workflows/validate', {
        name: 'a3',
        nodes: ['x', 'y', 'z'].map((id) => ({ id, type: 'agent', config: { instructions: 'i' } })),
      })
      expect(agents.body.stats).toMatchObject({ agents: 3, tier: 'heavy' })
      expect((await p.call('GET', '/workflows')).body.workflows.length).toBe(before)
    })

    test('?tag= stores and moves the tag; a workflow is found by tag', async () => {
      const v1 = await p.call('POST', '/workflows?tag=prod', doc('v1'))
      expect(v1.body.tag).toBe('prod')
      expect((await p.call('GET', '/workflows/prod')).body.id).toBe(v1.body.id)
      const v2 = await p.call('POST', '/workflows?tag=prod', doc('v2'))
      expect((await p.call('GET', '/workflows/prod')).body.id).toBe(v2.body.id)
      const hist = await p.call('GET', '/tags/prod/history')
      expect(hist.body.history.map((h: any) => h.workflow_id)).toEqual([v2.body.id, v1.body.id])
      expect(hist.body.history[0].previous_id).toBe(v1.body.id)
      expect((await p.call('GET', '/tags')).body.tags).toContainEqual({
        name: 'prod',
        workflow_id: v2.body.id,
        updated_at: expect.any(String),
      })
    })

    test('tag move with expect is compare-and-swap: 409 when the tag moved, nothing changes', async () => {
      const a = (await p.call('POST', '/workflows', doc('cas-a'))).body.id
      const b = (await p.call('POST', '/workflows', doc('cas-b'))).body.id
      expect(
        (await p.call('POST', '/tags/cas/move', { workflow_id: a, expect: null })).status
      ).toBe(200)
      const stale = await p.call('POST', '/tags/cas/move', { workflow_id: b, expect: b })
      expect(stale.status).toBe(409)
      expect(stale.body.error.code).toBe('TAG_CONFLICT')
      expect((await p.call('GET', '/workflows/cas')).body.id).toBe(a)
      const ok = await p.call('POST', '/tags/cas/move', { workflow_id: b, expect: a })
      expect(ok.body).toMatchObject({ name: 'cas', workflow_id: b, previous_id: a })
      expect((await p.call('GET', '/tags/cas/history')).body.history).toHaveLength(2)
    })

    test('bad tag moves are refused: unknown workflow 404, bad body 400, bad name 400', async () => {
      expect(
        (await p.call('POST', '/tags/x/move', { workflow_id: 'wf_00000000000000ff' })).status
      ).toBe(404)
      expect((await p.call('POST', '/tags/x/move', { workflow: 'oops' })).status).toBe(400)
      expect(
        (await p.call('POST', '/tags/Bad Name/move', { workflow_id: 'wf_00000000000000ff' })).status
      ).toBe(400)
      expect((await p.call('POST', '/workflows?tag=UPPER', doc('t'))).status).toBe(400)
      expect((await p.call('GET', '/tags/never-made/history')).status).toBe(404)
    })
  })
