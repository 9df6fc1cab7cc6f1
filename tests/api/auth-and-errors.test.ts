import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKENDS } from '../helpers/backends.ts'
import { ADMIN, OPERATOR, VIEWER, testPlatform, type TestPlatform } from '../helpers/kernel.ts'

const WF = { name: 'api-wf', nodes: [{ id: 'a', type: 'noop' }] }

for (const backend of BACKENDS)
  describe(`auth, roles and error bodies [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      p = await testPlatform({ backend, config: { bodyLimitBytes: 64 * 1024 } })
    })
    afterAll(() => p.close())

    test('/health needs no token and reports dependencies', async () => {
      const res = await p.app.request('/health')
      expect(res.status).toBe(200)
      const body = (await res.json()) as any
      expect(body.status).toBe('ok')
      expect(typeof body.service).toBe('string')
      expect(typeof body.version).toBe('string')
      expect(body.dependencies).toMatchObject(
        backend === 'embedded' ? { sqlite: 'ok', bus: 'ok' } : { postgres: 'ok', redis: 'ok' }
      )
      expect(body.uptime).toBeGreaterThanOrEqual(0)
    })

    test('every other route needs a valid bearer token (401 with the error body)', async () => {
      const none = await p.app.request('/api/v1/runs')
      expect(none.status).toBe(401)
      expect(await none.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: expect.any(String), details: [] },
      })
      const bad = await p.call('GET', '/runs', undefined, 'not-a-real-token')
      expect(bad.status).toBe(401)
      const basic = await p.app.request('/api/v1/runs', {
        headers: { authorization: `Basic ${btoa('a:b')}` },
      })
      expect(basic.status).toBe(401)
    })

    test('roles: viewers read, operators run, admins store workflows (403 otherwise, nothing written)', async () => {
      expect((await p.call('GET', '/runs', undefined, VIEWER)).status).toBe(200)
      const viewerRun = await p.call('POST', '/runs', { workflow: WF }, VIEWER)
      expect(viewerRun.status).toBe(403)
      expect(viewerRun.body.error.code).toBe('FORBIDDEN')
      const opStore = await p.call('POST', '/workflows', WF, OPERATOR)
      expect(opStore.status).toBe(403)
      expect((await p.call('GET', '/workflows')).body.workflows).toEqual([])
      expect((await p.call('GET', '/runs', undefined, VIEWER)).body.runs).toEqual([])
      expect((await p.call('POST', '/runs', { workflow: WF }, OPERATOR)).status).toBe(201)
      expect((await p.call('POST', '/workflows', WF, ADMIN)).status).toBe(201)
      expect(
        (await p.call('POST', '/tags/x/move', { workflow_id: 'wf_0000000000000000' }, OPERATOR))
          .status
      ).toBe(403)
    })

    test('malformed JSON is 400, never 500', async () => {
      for (const [method, path] of [
        ['POST', '/workflows'],
        ['POST', '/runs'],
        ['POST', '/workflows/validate'],
        ['POST', '/tags/t/move'],
      ]) {
        const res = await p.call(method, path, '{"name": ', ADMIN)
        expect({ path, status: res.status, code: res.body.error.code }).toEqual({
          path,
          status: 400,
          code: 'INVALID_JSON',
        })
      }
      const empty = await p.call('POST', '/runs', '', ADMIN)
      expect(empty.status).toBe(400)
    })

    test('bodies over the cap are 413', async () => {
      const big = { workflow: WF, input: { blob: 'x'.repeat(70 * 1024) } }
      const res = await p.call('POST', '/runs', big, OPERATOR)
      expect(res.status).toBe(413)
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE')
    })

    test('unknown routes and unknown ids are 404 with the error body', async () => {
      expect((await p.call('GET', '/nope')).status).toBe(404)
      const run = await p.call('GET', '/runs/run_0000000000000000000000000000')
      expect(run.status).toBe(404)
      expect(run.body.error.code).toBe('RUN_NOT_FOUND')
      expect((await p.call('GET', '/runs/garbage')).status).toBe(404)
      expect((await p.call('GET', '/workflows/no-such-tag')).status).toBe(404)
      expect((await p.call('GET', '/patches/pat_x')).status).toBe(404)
    })

    test('bad query parameters are 400', async () => {
      expect((await p.call('GET', '/runs?status=weird')).status).toBe(400)
      expect((await p.call('GET', '/runs?limit=0')).status).toBe(400)
      expect((await p.call('GET', '/runs?limit=abc')).status).toBe(400)
      expect((await p.call('GET', '/runs?cursor=zzz')).status).toBe(400)
    })
  })
