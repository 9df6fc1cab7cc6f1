import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, distributedEnv } from '../helpers/kernel.ts'
import {
  apiOf,
  migratedEnv,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
} from '../helpers/cluster.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { semanticsContract } from '../contract/semantics.contract.ts'
import { processPlatform } from '../helpers/cluster.ts'
import { startLlmServer, toolResults, turnsOf } from '../helpers/llm-server.ts'

const root = join(import.meta.dir, '../..')
const TOKENS = `admin:${ADMIN},operator:operator-token-0001,viewer:viewer-token-0001`

// The whole semantics suite with the orchestrator, the coordinator and the built-in worker as
// separate processes talking only through Redis and Postgres (the suite's scripted noop worker
// runs in the test process).
semanticsContract('redis-pg, separate processes', (opts) => processPlatform(opts))

describe('services as separate processes', () => {
  let env: Record<string, string>
  let procs: ServiceProcess[] = []
  let api: ReturnType<typeof apiOf>
  beforeAll(async () => {
    env = { ...(await distributedEnv()), AOB_TOKENS: TOKENS, AOB_VISIBILITY_MS: '2000' }
    const migrate = Bun.spawnSync(['bun', join(root, 'cli/main.ts'), 'migrate'], {
      env: { ...process.env, ...env },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(migrate.exitCode).toBe(0)
    const orchestrator = await spawnOrchestrator(env)
    procs = [orchestrator, spawnService('coordinator', env), spawnService('worker', env)]
    api = apiOf(orchestrator.url, ADMIN)
  })
  afterAll(async () => {
    for (const p of procs) await p.kill()
  })

  test('a chain, a branch with a join and a loop run to success across processes', async () => {
    for (const [name, input] of [
      ['chain', { name: 'proc' }],
      ['branch-join', { items: [{ price: 500 }] }],
      ['loop', {}],
    ] as const) {
      const workflow = await Bun.file(join(root, 'examples', `${name}.json`)).json()
      const created = await api('POST', '/runs', { workflow, input })
      expect(created.status).toBe(201)
      let run: any
      for (let i = 0; i < 200; i++) {
        run = (await api('GET', `/runs/${created.body.run_id}`)).body
        if (['succeeded', 'failed'].includes(run.status)) break
        await Bun.sleep(25)
      }
      expect({ name, status: run.status }).toEqual({ name, status: 'succeeded' })
    }
  })

  test('SSE from the orchestrator follows a run driven by the other processes', async () => {
    const created = await api('POST', '/runs', {
      workflow: {
        name: 'sse',
        nodes: [
          { id: 's', type: 'sleep', config: { ms: 300 } },
          { id: 'n', type: 'noop' },
        ],
        edges: [{ from: 's', to: 'n' }],
      },
    })
    const res = await fetch(
      `${procs[0] && (procs[0] as any).url}/api/v1/runs/${created.body.run_id}/events/stream`,
      { headers: { authorization: `Bearer ${ADMIN}` } }
    )
    let text = ''
    for await (const chunk of res.body!) {
      text += new TextDecoder().decode(chunk)
      if (text.includes('run_completed')) break
    }
    const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    expect(text).toContain('event: run_completed')
  })

  test('a bad configuration stops a service with a message naming the variable', async () => {
    const bad = spawnService('coordinator', { ...env, AOB_VISIBILITY_MS: 'soon' })
    expect(await bad.proc.exited).toBe(1)
    expect(bad.output()).toContain('AOB_VISIBILITY_MS')
    const missing = spawnService('orchestrator', { AOB_REDIS_URL: env.AOB_REDIS_URL })
    expect(await missing.proc.exited).toBe(1)
    expect(missing.output()).toContain('AOB_DATABASE_URL')
  })
})

test('runs created before any coordinator started are dispatched once, not again by its start', async () => {
  const llm = startLlmServer(() => ({ delay_ms: 300, content: 'done' }))
  const env = await migratedEnv({ AOB_TOKENS: TOKENS })
  const procs: ServiceProcess[] = []
  try {
    // A brand-new bus: the orchestrator dispatches before the coordinator ever looked at it.
    const orchestrator = await spawnOrchestrator(env)
    procs.push(orchestrator)
    const api = apiOf(orchestrator.url, ADMIN)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await api('POST', '/runs', {
        workflow: {
          name: 'early',
          nodes: [{ id: 'a', type: 'agent', config: { instructions: 'x' } }],
        },
        input: { i },
      })
      expect(res.status).toBe(201)
      ids.push(res.body.run_id)
    }
    procs.push(
      spawnService('coordinator', env),
      spawnService('agent-worker', {
        ...env,
        OPENAI_BASE_URL: llm.url,
        OPENAI_API_KEY: 'test',
        AOB_AGENT_MODEL: 'm',
      })
    )
    for (const id of ids)
      await waitFor(
        async () => (await api('GET', `/runs/${id}`)).body.status === 'succeeded' || null,
        30_000,
        `run ${id} to succeed`
      )
    expect(llm.requests.length).toBe(3)
  } finally {
    for (const p of procs) await p.kill()
    llm.stop()
  }
}, 60_000)

test('compiled binaries copied to an empty directory run the platform on Redis + Postgres', async () => {
  const build = Bun.spawnSync(['bun', 'run', 'build'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  expect(build.exitCode).toBe(0)
  const dir = mkdtempSync(join(tmpdir(), 'aob-bins-'))
  const bins = [
    'aob',
    'aob-orchestrator',
    'aob-coordinator',
    'aob-builtin-worker',
    'aob-http-worker',
    'aob-hitl-worker',
    'aob-agent-worker',
  ]
  for (const bin of bins) copyFileSync(join(root, 'dist', bin), join(dir, bin))
  Bun.spawnSync(['chmod', '+x', ...bins.map((b) => join(dir, b))])
  await Bun.write(join(dir, '.env'), 'AOB_DATABASE_URL=postgres://wrong@127.0.0.1:1/nope\n')
  const env = { ...(await distributedEnv()), AOB_TOKENS: TOKENS }
  const target = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => Response.json({ hello: 'binaries' }),
  })
  const llm = startLlmServer((body) =>
    turnsOf(body) === 0
      ? {
          tool_calls: [
            {
              name: 'execute_pipeline',
              arguments: { steps: [{ op: 'transform', expr: 'v * 6' }] },
            },
          ],
        }
      : { content: `the answer is ${toolResults(body)[0]}` }
  )
  const migrate = Bun.spawnSync([join(dir, 'aob'), 'migrate'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  expect(migrate.stdout.toString()).toContain('applied: 0001_init, 0002_commit_transitions')
  const orchestrator = await spawnOrchestrator(env, {
    binary: join(dir, 'aob-orchestrator'),
    cwd: dir,
  })
  const others = [
    spawnService('coordinator', env, { binary: join(dir, 'aob-coordinator'), cwd: dir }),
    spawnService('worker', env, { binary: join(dir, 'aob-builtin-worker'), cwd: dir }),
    spawnService(
      'http-worker',
      { ...env, AOB_HTTP_ALLOW: '127.0.0.1/32', AOB_HTTP_PORTS: String(target.port) },
      { binary: join(dir, 'aob-http-worker'), cwd: dir }
    ),
    spawnService('hitl-worker', env, { binary: join(dir, 'aob-hitl-worker'), cwd: dir }),
    spawnService(
      'agent-worker',
      { ...env, OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: 'test', AOB_AGENT_MODEL: 'm' },
      { binary: join(dir, 'aob-agent-worker'), cwd: dir }
    ),
  ]
  try {
    const api = apiOf(orchestrator.url, ADMIN)
    const chain = await Bun.file(join(root, 'examples/chain.json')).json()
    const workflow = {
      ...chain,
      nodes: [
        ...chain.nodes,
        { id: 'call', type: 'http', config: { url: `http://127.0.0.1:${target.port}/hello` } },
      ],
      edges: [...chain.edges, { from: 'shout', to: 'call' }],
    }
    const created = await api('POST', '/runs', { workflow, input: { name: 'binaries' } })
    let run: any
    for (let i = 0; i < 200; i++) {
      run = (await api('GET', `/runs/${created.body.run_id}`)).body
      if (['succeeded', 'failed'].includes(run.status)) break
      await Bun.sleep(25)
    }
    expect(run.nodes.shout.output).toEqual({ text: 'HELLO BINARIES!' })
    expect(run.output).toEqual({
      call: { status: 200, headers: expect.any(Object), body: { hello: 'binaries' } },
    })

    // An approval opened by aob-hitl-worker, decided by an operator, resumes the run.
    const gated = await api('POST', '/runs', {
      workflow: {
        name: 'binary-gate',
        nodes: [
          { id: 'gate', type: 'hitl', config: { prompt: 'ship {{ input.v }}?' } },
          { id: 'ship', type: 'noop', config: { output: 'shipped' } },
        ],
        edges: [{ from: 'gate', to: 'ship', on: 'approve' }],
      },
      input: { v: 7 },
    })
    let approval: any
    for (let i = 0; i < 200 && !approval; i++) {
      approval = (await api('GET', `/approvals?run=${gated.body.run_id}`)).body.approvals[0]
      if (!approval) await Bun.sleep(25)
    }
    expect(approval.prompt).toBe('ship 7?')
    const operator = apiOf(orchestrator.url, 'operator-token-0001')
    const decided = await operator('POST', `/approvals/${approval.id}/decide`, {
      decision: 'approve',
    })
    expect(decided.status).toBe(200)
    for (let i = 0; i < 200; i++) {
      run = (await api('GET', `/runs/${gated.body.run_id}`)).body
      if (['succeeded', 'failed'].includes(run.status)) break
      await Bun.sleep(25)
    }
    expect(run.output).toEqual({ ship: 'shipped' })

    // An agent node in aob-agent-worker against the scripted model server.
    const agentRun = await api('POST', '/runs', {
      workflow: {
        name: 'binary-agent',
        nodes: [{ id: 'think', type: 'agent', config: { instructions: 'compute' } }],
      },
      input: { v: 7 },
    })
    for (let i = 0; i < 200; i++) {
      run = (await api('GET', `/runs/${agentRun.body.run_id}`)).body
      if (['succeeded', 'failed'].includes(run.status)) break
      await Bun.sleep(25)
    }
    expect(run.nodes.think.output).toMatchObject({ content: 'the answer is 42', turns: 2 })
  } finally {
    llm.stop()
    for (const p of [orchestrator, ...others]) await p.kill()
    target.stop(true)
  }
}, 60_000)
