/**
 * The README's agent example, as a user runs it: `aob dev` pointed at an OpenAI-compatible
 * server (here the scripted one, over real HTTP), `aob run start examples/agent-triage.json -f`.
 * The scripted model does what the instructions ask, through the tools.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli, startDev, type DevProcess } from '../helpers/processes.ts'
import { startLlmServer, toolResults, turnsOf, type LlmServer } from '../helpers/llm-server.ts'

describe('examples/agent-triage.json on aob dev', () => {
  let dev: DevProcess
  let llm: LlmServer
  beforeAll(async () => {
    llm = startLlmServer((body) => {
      const turn = turnsOf(body) + 1
      if (turn === 1)
        return {
          tool_calls: [
            {
              name: 'execute_pipeline',
              arguments: {
                steps: [
                  { op: 'transform', expr: 'tickets' },
                  { op: 'table_filter', where: [{ field: 'priority', op: 'eq', value: 1 }] },
                  { op: 'table_select', fields: ['id', 'subject'] },
                ],
              },
            },
          ],
        }
      const urgent = (toolResults(body)[0] as { id: string }[]).map((t) => t.id)
      if (turn === 2)
        return {
          tool_calls: [
            {
              name: 'patch_workflow',
              arguments: {
                operations: [
                  {
                    op: 'add',
                    path: '/nodes/-',
                    value: {
                      id: 'escalate',
                      type: 'noop',
                      config: { output: { page_on_call: urgent } },
                    },
                  },
                  { op: 'add', path: '/edges/-', value: { from: 'triage', to: 'escalate' } },
                ],
                reason: `${urgent.length} urgent tickets`,
              },
            },
          ],
        }
      return {
        content: JSON.stringify({
          urgent,
          summary: `${urgent.length} tickets need the on-call engineer`,
        }),
      }
    })
    dev = await startDev({ env: { OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: 'local' } })
  })
  afterAll(async () => {
    await dev.stop()
    llm.stop()
  })

  test('the agent reads the tickets, patches in the escalation branch, and the run ends with its report', async () => {
    const res = await cli(dev, [
      'run',
      'start',
      'examples/agent-triage.json',
      '--input',
      '@examples/agent-triage.input.json',
      '-f',
    ])
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' })
    expect(res.stdout).toContain('agent_turn triage')
    expect(res.stdout).toContain('patch_applied')
    const runId = /run (run_\w+) started/.exec(res.stdout)![1]
    const run = JSON.parse((await cli(dev, ['run', 'status', runId, '--output', 'json'])).stdout)
    expect(run.status).toBe('succeeded')
    expect(run.nodes.escalate.output).toEqual({ page_on_call: ['T-102', 'T-104'] })
    expect(run.nodes.report.output).toEqual({
      urgent: ['T-102', 'T-104'],
      summary: '2 tickets need the on-call engineer',
    })
    expect(run.usage).toMatchObject({ llm_calls: 3 })
    expect(llm.requests).toHaveLength(3)
  })
})
