/**
 * Agent workers SIGKILLed mid-agent on Redis + Postgres, again and again: every run finishes, the
 * model server's log shows no completed model call asked again, and no side effect (a patch)
 * happens twice.
 */
import { expect, test } from 'bun:test'
import { ADMIN } from '../helpers/kernel.ts'
import {
  apiOf,
  migratedEnv,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
} from '../helpers/cluster.ts'
import { startLlmServer, toolResults, turnsOf } from '../helpers/llm-server.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { ledger } from './ledger.ts'

const RUNS = 16

test('agent workers killed mid-agent: every run finishes, no completed model call repeated', async () => {
  const llm = startLlmServer((body) => {
    const turn = turnsOf(body) + 1
    const delay_ms = 120
    if (turn === 1)
      return {
        delay_ms,
        tool_calls: [
          {
            name: 'execute_pipeline',
            arguments: { steps: [{ op: 'transform', expr: '$count(items)' }] },
          },
        ],
      }
    if (turn === 2)
      return {
        delay_ms,
        tool_calls: [
          {
            name: 'patch_workflow',
            arguments: {
              operations: [{ op: 'add', path: '/nodes/-', value: { id: 'added', type: 'noop' } }],
            },
          },
        ],
      }
    return { delay_ms, content: JSON.stringify(toolResults(body)) }
  })
  const env = await migratedEnv({ AOB_VISIBILITY_MS: '1000' })
  const agentEnv = {
    ...env,
    OPENAI_BASE_URL: llm.url,
    OPENAI_API_KEY: 'test',
    AOB_AGENT_MODEL: 'm',
  }
  const orchestrator = await spawnOrchestrator(env)
  const fixed = [spawnService('coordinator', env), spawnService('worker', env)]
  let agents: ServiceProcess[] = [
    spawnService('agent-worker', agentEnv),
    spawnService('agent-worker', agentEnv),
  ]
  const api = apiOf(orchestrator.url, ADMIN)
  const runIds: string[] = []
  let kills = 0
  try {
    await Bun.sleep(500)
    for (let i = 0; i < RUNS; i++) {
      const res = await api('POST', '/runs', {
        workflow: {
          name: 'crash-agent',
          nodes: [
            {
              id: 'agent',
              type: 'agent',
              config: {
                instructions: 'count, then patch',
                tools: ['execute_pipeline', 'patch_workflow'],
              },
            },
          ],
        },
        input: { items: Array.from({ length: i + 1 }, (_, k) => k) },
      })
      expect(res.status).toBe(201)
      runIds.push(res.body.run_id)
    }
    // Kill one agent worker at a time, four times, while agents are mid-conversation: with the
    // model's answers held, so the victim dies waiting for its model calls (the moment a
    // checkpoint exists for), not in the instant between an answer arriving and its checkpoint.
    for (let k = 0; k < 4; k++) {
      await Bun.sleep(300)
      llm.hold()
      await Bun.sleep(100)
      const victim = agents[k % agents.length]
      await victim.kill('SIGKILL')
      kills++
      llm.release()
      agents = agents.map((a) => (a === victim ? spawnService('agent-worker', agentEnv) : a))
    }
    await waitFor(
      async () => {
        const runs = (await api('GET', '/runs?limit=100')).body.runs as { status: string }[]
        return (
          runs.filter((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status)).length ===
            RUNS || null
        )
      },
      60_000,
      'every run to end'
    )
    const result = await ledger(env, runIds)
    let patches = 0
    for (const id of runIds)
      patches += (await api('GET', `/runs/${id}/patches`)).body.patches.length
    const answered = [...llm.completed.values()].reduce((a, b) => a + b, 0)
    console.log(
      `crash/agent: runs=${RUNS} kills=${kills} succeeded=${result.byStatus.succeeded ?? 0} model_calls_answered=${answered} repeated_model_calls=${llm.repeats()} requests=${llm.requests.length} patches=${patches} duplicate_commits=${result.duplicateCommits}`
    )
    expect(result.byStatus).toEqual({ succeeded: RUNS })
    expect(llm.repeats()).toBe(0)
    expect(answered).toBe(RUNS * 3)
    expect(patches).toBe(RUNS)
    expect(result.duplicateCommits).toBe(0)
  } finally {
    for (const p of [...agents, ...fixed, orchestrator]) await p.kill('SIGKILL')
    llm.stop()
  }
}, 120_000)
