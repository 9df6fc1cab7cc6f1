/**
 * http nodes end to end: through the coordinator and a real http worker, with the guard's
 * resolver and connector injected so every request lands on a loopback test server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createHttpHandler } from '../../workers/http/handler.ts'
import { BACKENDS } from '../helpers/backends.ts'
import { ADMIN, testPlatform, type TestPlatform } from '../helpers/kernel.ts'
import { apiOf, spawnOrchestrator, spawnService, migratedEnv } from '../helpers/cluster.ts'
import { harness } from '../net/guard-harness.ts'
import { runToEnd } from '../contract/semantics.contract.ts'

let server: ReturnType<typeof Bun.serve>
const hits: { path: string; method: string; key: string | null; body: string; query: string }[] = []
let flaky = 0

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const u = new URL(req.url)
      hits.push({
        path: u.pathname,
        method: req.method,
        key: req.headers.get('idempotency-key'),
        body: await req.text(),
        query: u.search,
      })
      if (u.pathname === '/leads/42') return Response.json({ id: 42, name: 'Ada', score: 77 })
      if (u.pathname === '/text')
        return new Response('plain words', { headers: { 'content-type': 'text/plain' } })
      if (u.pathname === '/missing') return new Response('no', { status: 404 })
      if (u.pathname === '/busy')
        return ++flaky < 3
          ? new Response('slow down', { status: 429, headers: { 'retry-after': '0' } })
          : Response.json({ ok: true, after: flaky })
      if (u.pathname === '/big') return new Response('x'.repeat(50_000))
      if (u.pathname === '/slow') return Bun.sleep(2_000).then(() => Response.json({ late: true }))
      return Response.json({ echo: true })
    },
  })
})
afterAll(() => server.stop(true))

const guard = () =>
  harness({
    dns: { 'api.example.com': ['93.184.216.34'] },
    respond: (t, init) =>
      fetch(
        `http://127.0.0.1:${server.port}${new URL(t.url).pathname}${new URL(t.url).search}`,
        init
      ),
  }).fetch

for (const backend of BACKENDS) {
  describe(`http nodes [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      const fetcher = guard()
      p = await testPlatform({
        backend,
        handlers: { http: createHttpHandler(fetcher) },
        fetch: fetcher,
      })
    })
    afterAll(() => p.close())

    test('a templated GET, its JSON body parsed, feeding a branch; the idempotency key is sent', async () => {
      const { id, run } = await runToEnd(
        p,
        {
          name: 'lead',
          nodes: [
            {
              id: 'fetch',
              type: 'http',
              config: {
                url: 'https://api.example.com/leads/{{ input.lead }}',
                query: { fields: 'all' },
              },
            },
            { id: 'hot', type: 'noop', config: { output: '{{ nodes.fetch.output.body.name }}' } },
          ],
          edges: [{ from: 'fetch', to: 'hot', when: 'nodes.fetch.output.body.score > 50' }],
        },
        { lead: 42 }
      )
      expect(run.status).toBe('succeeded')
      expect(run.nodes.fetch.output.status).toBe(200)
      expect(run.nodes.fetch.output.body).toEqual({ id: 42, name: 'Ada', score: 77 })
      expect(run.nodes.hot.output).toBe('Ada')
      const hit = hits.find((h) => h.path === '/leads/42' && h.key?.startsWith(id))!
      expect(hit.key).toBe(`${id}:fetch:1`)
      expect(hit.query).toBe('?fields=all')
    })

    test('POST with a JSON body; text responses stay text', async () => {
      const { run } = await runToEnd(
        p,
        {
          name: 'post',
          nodes: [
            {
              id: 'send',
              type: 'http',
              config: {
                method: 'POST',
                url: 'https://api.example.com/hooks',
                body: { who: '{{ input.who }}' },
              },
            },
            { id: 'read', type: 'http', config: { url: 'https://api.example.com/text' } },
          ],
          edges: [{ from: 'send', to: 'read' }],
        },
        { who: 'ada' }
      )
      expect(run.status).toBe('succeeded')
      expect(hits.find((h) => h.path === '/hooks')?.body).toBe('{"who":"ada"}')
      expect(run.nodes.read.output.body).toBe('plain words')
    })

    test('a 404 fails the node at once; expect_status accepts it', async () => {
      const failed = await runToEnd(p, {
        name: 'nf',
        nodes: [
          {
            id: 'get',
            type: 'http',
            retry: { max_attempts: 3, backoff_ms: 10 },
            config: { url: 'https://api.example.com/missing' },
          },
        ],
      })
      expect(failed.run.status).toBe('failed')
      expect(failed.run.nodes.get.attempts).toBe(1)
      expect(failed.run.nodes.get.error.message).toContain('answered 404')
      const ok = await runToEnd(p, {
        name: 'nf-ok',
        nodes: [
          {
            id: 'get',
            type: 'http',
            config: { url: 'https://api.example.com/missing', expect_status: [404] },
          },
        ],
      })
      expect(ok.run.nodes.get.output.status).toBe(404)
    })

    test('429 is retried (honouring Retry-After) until it passes', async () => {
      flaky = 0
      const { run } = await runToEnd(p, {
        name: 'busy',
        nodes: [
          {
            id: 'get',
            type: 'http',
            retry: { max_attempts: 4, backoff_ms: 20 },
            config: { url: 'https://api.example.com/busy' },
          },
        ],
      })
      expect(run.status).toBe('succeeded')
      expect(run.nodes.get.attempts).toBe(3)
    })

    test('the response size cap and the node timeout fail the node with a clear error', async () => {
      const big = await runToEnd(p, {
        name: 'big',
        nodes: [
          {
            id: 'get',
            type: 'http',
            config: { url: 'https://api.example.com/big', max_response_bytes: 10_000 },
          },
        ],
      })
      expect(big.run.nodes.get.error.message).toContain('over the cap of 10000')
      const slow = await runToEnd(p, {
        name: 'slow',
        nodes: [
          {
            id: 'get',
            type: 'http',
            timeout_ms: 200,
            config: { url: 'https://api.example.com/slow' },
          },
        ],
      })
      expect(slow.run.nodes.get.error.message).toContain('timed out after 200 ms')
    })

    test('a blocked URL fails the node naming the layer, and nothing is sent', async () => {
      const before = hits.length
      const { run } = await runToEnd(p, {
        name: 'ssrf',
        nodes: [
          {
            id: 'get',
            type: 'http',
            retry: { max_attempts: 3, backoff_ms: 10 },
            config: { url: 'http://169.254.169.254/v1/instance' },
          },
        ],
      })
      expect(run.status).toBe('failed')
      expect(run.nodes.get.attempts).toBe(1)
      expect(run.nodes.get.error.message).toContain('request blocked by the SSRF guard (address)')
      expect(hits.length).toBe(before)
    })

    test('a transform pipeline calls http_request through the same guard', async () => {
      const { run } = await runToEnd(p, {
        name: 'pipe-http',
        nodes: [
          {
            id: 't',
            type: 'transform',
            config: {
              input: null,
              pipeline: [
                { op: 'http_request', url: 'https://api.example.com/leads/42' },
                { op: 'transform', expr: 'name' },
              ],
            },
          },
        ],
      })
      expect(run.nodes.t.output).toBe('Ada')
    })
  })
}

test('the http worker as its own process on Redis, reaching an operator-allowed address', async () => {
  const env = await migratedEnv()
  const orchestrator = await spawnOrchestrator(env)
  const procs = [
    orchestrator,
    spawnService('coordinator', env),
    spawnService('http-worker', {
      ...env,
      AOB_HTTP_ALLOW: '127.0.0.1/32',
      AOB_HTTP_PORTS: String(server.port),
    }),
  ]
  try {
    const api = apiOf(orchestrator.url, ADMIN)
    const created = await api('POST', '/runs', {
      workflow: {
        name: 'http-proc',
        nodes: [
          { id: 'get', type: 'http', config: { url: `http://127.0.0.1:${server.port}/leads/42` } },
          { id: 'meta', type: 'http', config: { url: `http://127.0.0.2:${server.port}/leads/42` } },
        ],
      },
    })
    let run: any
    for (let i = 0; i < 200; i++) {
      run = (await api('GET', `/runs/${created.body.run_id}`)).body
      if (['succeeded', 'failed'].includes(run.status)) break
      await Bun.sleep(25)
    }
    expect(run.nodes.get.output.body.name).toBe('Ada')
    expect(run.nodes.meta.error.message).toContain('(address)') // 127.0.0.2 is not in the allow list
  } finally {
    for (const p of procs) await p.kill()
  }
}, 60_000)
