/**
 * `bun run bench agent [--runs N]`: what aob adds per model turn. The scripted OpenAI-compatible
 * server (tests/helpers) answers at once: each conversation is 10 turns, 9 of them one
 * execute_pipeline call. Baseline, measured in the same run: a bare loop of the same `openai` SDK
 * calls (same messages, no aob). Then the same conversation as an agent node on the embedded
 * platform, one run at a time (added latency per turn: p50/p99 over runs) and 16 at once
 * (turns/s).
 */
import OpenAI from 'openai'
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import { startPlatform } from '../cli/platform.ts'
import { parseConfig } from '../src/config.ts'
import type { RunEvent } from '../src/engine/state.ts'
import { createKernel, type Kernel } from '../src/kernel.ts'
import { createLogger } from '../src/log.ts'
import { CHANNELS } from '../src/ports/bus.ts'
import { createRun } from '../src/runs/create-run.ts'
import { startLlmServer, turnsOf } from '../tests/helpers/llm-server.ts'
import { ms, summarize } from './stats.ts'

const TURNS = 10
const workflow = {
  name: 'bench-agent',
  nodes: [
    {
      id: 'agent',
      type: 'agent',
      config: { instructions: 'bench', tools: ['execute_pipeline'], max_turns: TURNS },
    },
  ],
}

export async function benchAgent(opts: { runs: number }) {
  const llm = startLlmServer((body) =>
    turnsOf(body) + 1 < TURNS
      ? {
          tool_calls: [
            {
              name: 'execute_pipeline',
              arguments: { steps: [{ op: 'transform', expr: '$.n + 1' }] },
            },
          ],
        }
      : { content: 'done' }
  )
  const config = parseConfig(
    {
      AOB_LOG_LEVEL: 'error',
      OPENAI_BASE_URL: llm.url,
      OPENAI_API_KEY: 'bench',
      AOB_AGENT_MODEL: 'bench',
    },
    { dataPath: ':memory:', tokens: [] }
  )
  const kernel = await createKernel(config, { log: createLogger('error', 'bench') })
  const platform = await startPlatform(kernel, { host: '127.0.0.1', port: 0 })
  try {
    console.log(
      `aob bench agent: embedded, ${TURNS} turns per conversation, runs=${opts.runs}, bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`
    )
    const client = new OpenAI({ baseURL: llm.url, apiKey: 'bench', maxRetries: 0 })
    const bare = async () => {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'bench' },
        { role: 'user', content: '{"n":1}' },
      ]
      const t0 = performance.now()
      for (let turn = 1; turn <= TURNS; turn++) {
        const res = await client.chat.completions.create({ model: 'bench', messages })
        const m = res.choices[0].message
        messages.push(m as ChatCompletionMessageParam)
        for (const c of m.tool_calls ?? [])
          messages.push({ role: 'tool', tool_call_id: c.id, content: '2' })
      }
      return (performance.now() - t0) / TURNS
    }
    const node = async (i: number) => {
      const t0 = performance.now()
      await runOnce(kernel, i)
      return (performance.now() - t0) / TURNS
    }
    for (let i = 0; i < 20; i++) await Promise.all([bare(), node(i)]) // warm-up
    const bareTurns: number[] = []
    const nodeTurns: number[] = []
    for (let i = 0; i < opts.runs; i++) {
      bareTurns.push(await bare())
      nodeTurns.push(await node(i))
    }
    const b = summarize(bareTurns)
    const n = summarize(nodeTurns)
    const added = summarize(nodeTurns.map((t, i) => t - bareTurns[i]))
    console.log(`baseline  bare openai SDK loop: per turn p50 ${ms(b.p50)} p99 ${ms(b.p99)}`)
    console.log(`agent     aob agent node:       per turn p50 ${ms(n.p50)} p99 ${ms(n.p99)}`)
    console.log(
      `agent     added by aob per turn: p50 ${ms(added.p50)} p99 ${ms(added.p99)} (checkpoints, agent_turn events, the tool call, the node's own dispatch and completion)`
    )
    const concurrent = 16
    const t0 = performance.now()
    await Promise.all(Array.from({ length: concurrent * 4 }, (_, i) => runOnce(kernel, 10_000 + i)))
    const seconds = (performance.now() - t0) / 1000
    console.log(
      `agent     ${concurrent * 4} runs, ${concurrent * 4 * TURNS} turns at once: ${((concurrent * 4 * TURNS) / seconds).toFixed(0)} turns/s`
    )
  } finally {
    await platform.stop()
    await kernel.close()
    llm.stop()
  }
}

/** One run of the agent workflow, to its end (followed through the bus). */
async function runOnce(kernel: Kernel, i: number): Promise<void> {
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const { run } = await createRun(kernel, {
    workflowId: 'wf_bench_agent',
    document: workflow as never,
    input: { n: i },
  })
  const unsubscribe = await kernel.bus.subscribe(CHANNELS.runEvents(run.id), (payload) => {
    for (const ev of payload as RunEvent[])
      if (ev.type === 'run_completed' || ev.type === 'run_failed') done()
  })
  const poll = setInterval(async () => {
    const s = await kernel.store.loadRun(run.id)
    if (s && ['succeeded', 'failed'].includes(s.run.status)) done()
  }, 500)
  await finished
  clearInterval(poll)
  unsubscribe()
}
