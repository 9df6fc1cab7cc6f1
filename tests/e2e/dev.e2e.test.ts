import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, E2E_TOKEN, startDev, type DevProcess } from '../helpers/processes.ts'

const root = join(import.meta.dir, '../..')
const auth = { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'application/json' }

/** POST /runs on a dev process; the response (201 expected by callers that check). */
async function startRun(url: string, workflow: unknown, input?: unknown) {
  const res = await fetch(`${url}/api/v1/runs`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ workflow, input }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

/** The run's view once it succeeded or failed (polled). */
async function endedRun(url: string, id: string) {
  let run: any
  for (let i = 0; i < 200; i++) {
    run = await (await fetch(`${url}/api/v1/runs/${id}`, { headers: auth })).json()
    if (['succeeded', 'failed'].includes(run.status)) break
    await Bun.sleep(25)
  }
  return run
}

describe('aob dev as a process, driven over HTTP and by the CLI', () => {
  let dev: DevProcess
  beforeAll(async () => {
    dev = await startDev()
  })
  afterAll(() => dev.stop())

  test('prints the URL and the token, saves them for the CLI, and answers /health', async () => {
    expect(dev.output()).toContain(`admin token: ${E2E_TOKEN}`)
    const saved = await Bun.file(join(dev.home, 'credentials.json')).json()
    expect(saved).toEqual({ server: dev.url, token: E2E_TOKEN })
    const health = await fetch(`${dev.url}/health`)
    expect(health.status).toBe(200)
    expect(((await health.json()) as any).status).toBe('ok')
    expect((await fetch(`${dev.url}/api/v1/runs`)).status).toBe(401)
  })

  test('every example runs to success over HTTP', async () => {
    const inputs: Record<string, unknown> = {
      chain: { name: 'ada' },
      'branch-join': { items: [{ price: 60 }, { price: 70 }] },
      loop: {},
    }
    for (const [name, input] of Object.entries(inputs)) {
      const workflow = await Bun.file(join(root, 'examples', `${name}.json`)).json()
      const res = await startRun(dev.url, workflow, input)
      expect(res.status).toBe(201)
      const run = await endedRun(dev.url, res.body.run_id)
      expect({ name, status: run.status }).toEqual({ name, status: 'succeeded' })
    }
  })

  test('the fanout WebSocket is on the same port: a run followed over /ws from seq 0 to its end', async () => {
    const { wsConnect, seqsOf } = await import('../helpers/ws-client.ts')
    const workflow = await Bun.file(join(root, 'examples/chain.json')).json()
    const { run_id } = (await startRun(dev.url, workflow, { name: 'ws' })).body
    const c = await wsConnect(
      `${dev.url.replace('http', 'ws')}/ws?token=${E2E_TOKEN}&run=${run_id}`
    )
    await c.has((m) => m.type === 'event' && m.event.type === 'run_completed')
    const seqs = seqsOf(c, run_id)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    c.close()
  })

  test('aob logs stream: filters, --after, exit 3 for a failed run, 4 for an unknown one; SSE when there is no WebSocket', async () => {
    const start = async (workflow: unknown, input: unknown = {}) =>
      (await startRun(dev.url, workflow, input)).body.run_id as string
    const chain = await Bun.file(join(root, 'examples/chain.json')).json()
    const ok = await start(chain, { name: 'logs' })
    const byNode = await cli(dev, ['logs', 'stream', ok, '--node', 'shout', '--output', 'json'])
    expect(byNode.code).toBe(0)
    const events = byNode.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(events.every((e) => e.node_id === 'shout' || e.type === 'run_completed')).toBe(true)
    expect(events.at(-1).type).toBe('run_completed')
    const after = await cli(dev, ['logs', 'stream', ok, '--after', '3', '--output', 'json'])
    const seqs = after.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).seq)
    expect(seqs[0]).toBe(4)
    expect(seqs).toEqual(seqs.map((_, i) => i + 4))

    const failing = await start({
      name: 'fails-logs',
      nodes: [
        {
          id: 't',
          type: 'transform',
          config: { pipeline: [{ op: 'transform', expr: "$error('nope')" }] },
        },
      ],
    })
    const errors = await cli(dev, ['logs', 'stream', failing, '--filter', 'errors'])
    expect(errors.code).toBe(3)
    expect(errors.stdout).toContain('node_failed t')
    expect(errors.stdout).toContain('run_failed')
    expect(errors.stdout).not.toContain('node_started')

    // No WebSocket where the fanout is said to be: the follower falls back to the API's SSE.
    const plain = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('no', { status: 404 }),
    })
    const sse = await cli(dev, [
      'logs',
      'stream',
      ok,
      '--fanout',
      `http://127.0.0.1:${plain.port}`,
      '--output',
      'json',
    ])
    plain.stop(true)
    expect(sse.code).toBe(0)
    expect(sse.stdout.trim().split('\n').at(-1)).toContain('run_completed')

    expect((await cli(dev, ['logs', 'stream', `run_${'0'.repeat(28)}`])).code).toBe(4)
    expect((await cli(dev, ['logs', 'stream', ok, '--filter', 'nope'])).code).toBe(2)
  })

  test('aob run start -f follows a run live and exits 0', async () => {
    const res = await cli(dev, [
      'run',
      'start',
      'examples/chain.json',
      '--input',
      '{"name":"ada"}',
      '-f',
    ])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('node_completed shout {"text":"HELLO ADA!"}')
    expect(res.stdout).toMatch(/run run_\w+ succeeded/)
    const runId = /run (run_\w+) started/.exec(res.stdout)![1]
    const status = await cli(dev, ['run', 'status', runId, '--output', 'json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).output).toEqual({ shout: { text: 'HELLO ADA!' } })
  })

  test('a followed run that fails exits 3; --output json prints one event per line', async () => {
    const file = join(dev.home, 'fails.json')
    writeFileSync(
      file,
      JSON.stringify({
        name: 'fails',
        nodes: [
          {
            id: 't',
            type: 'transform',
            config: { pipeline: [{ op: 'transform', expr: "$error('nope')" }] },
          },
        ],
      })
    )
    const res = await cli(dev, ['run', 'start', file, '-f', '--output', 'json'])
    expect(res.code).toBe(3)
    const events = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(events.at(-1).type).toBe('run_failed')
  })

  test('CLI errors: bad input is exit 2, an unknown workflow exit 4 (not found), both with a message', async () => {
    const usage = await cli(dev, ['run', 'start', 'examples/chain.json', '--input', '{not json'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--input is not valid JSON')
    const missing = await cli(dev, ['run', 'start', 'no-such-tag'])
    expect(missing.code).toBe(4)
    expect(missing.stderr).toContain('no workflow with id or tag "no-such-tag"')
    const noArgs = await cli(dev, ['run', 'start'])
    expect(noArgs.code).toBe(2)
  })

  test('an SSE stream stays open through more than 10 s of silence', async () => {
    const workflow = { name: 'quiet', nodes: [{ id: 's', type: 'sleep', config: { ms: 11_000 } }] }
    const created = (await startRun(dev.url, workflow)).body
    const res = await fetch(`${dev.url}/api/v1/runs/${created.run_id}/events/stream`, {
      headers: auth,
    })
    let text = ''
    const decoder = new TextDecoder()
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk)
      if (text.includes('run_completed')) break
    }
    expect(text).toContain('event: run_completed')
    expect(text).toContain(': keep-alive')
  }, 30_000)
})

describe('aob workflow validate works offline', () => {
  const home = { home: '/nonexistent' }
  test('valid file: exit 0', async () => {
    const res = await cli(home, ['workflow', 'validate', 'examples/loop.json'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('valid')
  })
  test('invalid file: exit 1 with each error; json output', async () => {
    const file = join(require('node:os').tmpdir(), `bad-${crypto.randomUUID()}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        name: 'bad',
        nodes: [{ id: 'a', type: 'noop' }],
        edges: [{ from: 'a', to: 'a' }],
      })
    )
    const res = await cli(home, ['workflow', 'validate', file, '--output', 'json'])
    expect(res.code).toBe(1)
    const body = JSON.parse(res.stdout)
    expect(body.valid).toBe(false)
    expect(body.errors[0].message).toContain('cycle a -> a')
  })
  test('missing file: exit 1', async () => {
    expect((await cli(home, ['workflow', 'validate', 'nope.json'])).code).toBe(1)
  })
})

describe('aob dev with a state file', () => {
  test('a run in flight when the process is killed finishes after a restart', async () => {
    const first = await startDev({ args: [], env: { AOB_DATA: 'state/aob.db' } })
    const workflow = {
      name: 'survives',
      nodes: [
        { id: 's', type: 'sleep', config: { ms: 1500 } },
        { id: 'n', type: 'noop', config: { output: 'after restart' } },
      ],
      edges: [{ from: 's', to: 'n' }],
    }
    const created = (await startRun(first.url, workflow)).body
    await Bun.sleep(200)
    await first.stop('SIGKILL')
    const second = await startDev({ args: [], env: { AOB_DATA: 'state/aob.db' }, home: first.home })
    try {
      let run: any
      for (let i = 0; i < 200; i++) {
        run = await (
          await fetch(`${second.url}/api/v1/runs/${created.run_id}`, { headers: auth })
        ).json()
        if (run.status === 'succeeded') break
        await Bun.sleep(50)
      }
      expect(run.status).toBe('succeeded')
      expect(run.nodes.n.output).toBe('after restart')
    } finally {
      await second.stop()
    }
  }, 30_000)
})

describe('aob dev runs http nodes through the SSRF guard', () => {
  test('an operator-allowed local service is reached; the metadata address is refused', async () => {
    const target = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) =>
        Response.json({ path: new URL(req.url).pathname, key: req.headers.get('idempotency-key') }),
    })
    const dev = await startDev({
      env: { AOB_HTTP_ALLOW: '127.0.0.1', AOB_HTTP_PORTS: `80,443,${target.port}` },
    })
    try {
      const workflow = {
        name: 'dev-http',
        nodes: [
          { id: 'local', type: 'http', config: { url: `http://127.0.0.1:${target.port}/ping` } },
          { id: 'meta', type: 'http', config: { url: 'http://169.254.169.254/x' } },
        ],
      }
      const created = (await startRun(dev.url, workflow)).body
      const run = await endedRun(dev.url, created.run_id)
      expect(run.nodes.local.output.body).toEqual({
        path: '/ping',
        key: `${created.run_id}:local:1`,
      })
      expect(run.nodes.meta.error.message).toContain('request blocked by the SSRF guard (address)')
      expect(run.status).toBe('failed')
    } finally {
      await dev.stop()
      target.stop(true)
    }
  }, 30_000)
})

describe('aob dev on Redis + Postgres', () => {
  test('with AOB_DATABASE_URL and AOB_REDIS_URL set, aob dev migrates and runs the example there', async () => {
    const { distributedEnv } = await import('../helpers/kernel.ts')
    const dev = await startDev({ args: [], env: await distributedEnv() })
    try {
      expect(dev.output()).toContain('state: Postgres + Redis')
      const res = await cli(dev, ['run', 'start', 'examples/loop.json', '-f'])
      expect(res.code).toBe(0)
      expect(res.stdout).toContain('run_completed {"done":{"n":3}}')
    } finally {
      await dev.stop()
    }
  }, 30_000)
})
