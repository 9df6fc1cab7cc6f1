/**
 * Operations (SPEC §8) end to end: a W3C trace id sent on POST /runs is on the run, in the logs
 * and on the outbound requests; `/metrics` of every service parses as Prometheus text and
 * carries the §8 names (token on the API port, open on AOB_HEALTH_PORT).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN } from '../helpers/kernel.ts'
import {
  migratedEnv,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
} from '../helpers/cluster.ts'
import { E2E_TOKEN, startDev, type DevProcess } from '../helpers/processes.ts'
import { freePort } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait-for.ts'

const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|Nan|[+-]Inf)$/

/** Prometheus text: every line a comment or a sample; returns the metric names declared by TYPE. */
export function parsePrometheus(text: string): Map<string, string> {
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) types.set(type[1], type[2])
    else if (!line.startsWith('# HELP '))
      expect({ line, ok: SAMPLE.test(line) }).toEqual({ line, ok: true })
  }
  return types
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`

describe('operations on aob dev', () => {
  let dev: DevProcess
  let target: ReturnType<typeof Bun.serve>
  const received: { path: string; traceparent: string | null }[] = []
  const headers = { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'application/json' }
  beforeAll(async () => {
    target = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        received.push({
          path: new URL(req.url).pathname,
          traceparent: req.headers.get('traceparent'),
        })
        return Response.json({ ok: true })
      },
    })
    dev = await startDev({
      env: {
        AOB_LOG_LEVEL: 'info',
        AOB_HTTP_ALLOW: '127.0.0.1',
        AOB_HTTP_PORTS: String(target.port),
      },
    })
  })
  afterAll(async () => {
    await dev.stop()
    target.stop(true)
  })

  test('a traceparent on POST /runs: on the run, in the logs, on outbound http nodes and http_request steps', async () => {
    const base = `http://127.0.0.1:${target.port}`
    const workflow = {
      name: 'traced',
      nodes: [
        { id: 'call', type: 'http', config: { url: `${base}/node` } },
        {
          id: 'step',
          type: 'transform',
          config: { pipeline: [{ op: 'http_request', url: `${base}/step` }] },
        },
      ],
      edges: [{ from: 'call', to: 'step' }],
    }
    const created = await fetch(`${dev.url}/api/v1/runs`, {
      method: 'POST',
      headers: { ...headers, traceparent: TRACEPARENT },
      body: JSON.stringify({ workflow }),
    })
    expect(created.status).toBe(201)
    const { run_id } = (await created.json()) as { run_id: string }
    const run = await waitFor(async () => {
      const r = (await (await fetch(`${dev.url}/api/v1/runs/${run_id}`, { headers })).json()) as any
      return r.status === 'succeeded' ? r : undefined
    })
    expect(run.trace_id).toBe(TRACE)
    // Each outbound call is a new span of the run's trace.
    const spans = received.map((r) => r.traceparent)
    expect(received.map((r) => r.path)).toEqual(['/node', '/step'])
    for (const tp of spans) expect(tp).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`))
    expect(new Set(spans).size).toBe(2)
    // The run's log lines carry its trace id.
    const lines = dev
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((l) => l.run_id === run_id)
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['run created', 'run ended']))
    for (const l of lines) expect(l.trace_id).toBe(TRACE)
    // A malformed traceparent starts a new trace instead.
    const fresh = await fetch(`${dev.url}/api/v1/runs`, {
      method: 'POST',
      headers: { ...headers, traceparent: '00-zz-not-a-trace' },
      body: JSON.stringify({ workflow: { name: 'n', nodes: [{ id: 'a', type: 'noop' }] } }),
    })
    const other = (await fresh.json()) as { run_id: string }
    const otherRun = (await (
      await fetch(`${dev.url}/api/v1/runs/${other.run_id}`, { headers })
    ).json()) as any
    expect(otherRun.trace_id).toMatch(/^[0-9a-f]{32}$/)
    expect(otherRun.trace_id).not.toBe(TRACE)
  })

  test('/metrics on the API port: a token of any role, Prometheus text with the §8 names', async () => {
    expect((await fetch(`${dev.url}/metrics`)).status).toBe(401)
    const res = await fetch(`${dev.url}/metrics`, { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain')
    const text = await res.text()
    const types = parsePrometheus(text)
    for (const [name, type] of [
      ['workflow_runs_total', 'counter'],
      ['node_executions_total', 'counter'],
      ['agent_decisions_total', 'counter'],
      ['http_requests_total', 'counter'],
      ['api_requests_total', 'counter'],
      ['hitl_approvals_total', 'counter'],
      ['completion_signals_total', 'counter'],
      ['websocket_connections', 'gauge'],
      ['rate_limited_total', 'counter'],
      ['api_request_duration_seconds', 'histogram'],
      ['node_duration_seconds', 'histogram'],
      ['routing_duration_seconds', 'histogram'],
      ['process_cpu_seconds_total', 'counter'],
    ])
      expect({ name, type: types.get(name) }).toEqual({ name, type })
    // What the traced run did is counted, by closed label sets (no run ids).
    expect(text).toMatch(/^node_executions_total\{type="http",status="succeeded"\} [1-9]/m)
    expect(text).toMatch(/^http_requests_total\{status_class="2xx"\} [1-9]/m)
    expect(text).toMatch(
      /^api_requests_total\{method="POST",route="\/api\/v1\/runs",status="201"\} [1-9]/m
    )
    expect(text).toMatch(/^workflow_runs_total\{status="succeeded"\} [1-9]/m)
    expect(text).not.toContain('run_')
  })
})

describe('operations of separate services', () => {
  let procs: ServiceProcess[] = []
  const ports: Record<string, number> = {}
  let orchestratorUrl = ''
  beforeAll(async () => {
    const env = await migratedEnv()
    for (const name of ['coordinator', 'worker', 'http-worker', 'hitl-worker'] as const)
      ports[name] = await freePort()
    const orchestrator = await spawnOrchestrator(env)
    orchestratorUrl = orchestrator.url
    procs = [
      orchestrator,
      ...(['coordinator', 'worker', 'http-worker', 'hitl-worker'] as const).map((name) =>
        spawnService(name, { ...env, AOB_HEALTH_PORT: String(ports[name]) })
      ),
    ]
    for (const port of Object.values(ports))
      await waitFor(() =>
        fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false
        )
      )
  })
  afterAll(async () => {
    for (const p of procs) await p.kill()
  })

  test('coordinators and workers serve open /metrics on AOB_HEALTH_PORT', async () => {
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
    const created = await fetch(`${orchestratorUrl}/api/v1/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ workflow: { name: 'm', nodes: [{ id: 'a', type: 'noop' }] } }),
    })
    const { run_id } = (await created.json()) as { run_id: string }
    await waitFor(async () => {
      const r = (await (
        await fetch(`${orchestratorUrl}/api/v1/runs/${run_id}`, { headers })
      ).json()) as any
      return r.status === 'succeeded'
    })
    const scrape = async (name: string) => {
      const res = await fetch(`http://127.0.0.1:${ports[name]}/metrics`)
      expect(res.status).toBe(200)
      const text = await res.text()
      return { text, types: parsePrometheus(text) }
    }
    const coordinator = await scrape('coordinator')
    expect(coordinator.types.get('routing_duration_seconds')).toBe('histogram')
    expect(coordinator.text).toMatch(/^completion_signals_total\{outcome="done"\} [1-9]/m)
    expect(coordinator.text).toMatch(/^node_executions_total\{type="noop",status="succeeded"\} 1/m)
    const worker = await scrape('worker')
    expect(worker.text).toMatch(/^node_duration_seconds_count\{type="noop"\} 1/m)
    expect(worker.types.get('process_resident_memory_bytes')).toBe('gauge')
    for (const name of ['http-worker', 'hitl-worker'])
      expect((await scrape(name)).types.get('node_duration_seconds')).toBe('histogram')
  })
})
