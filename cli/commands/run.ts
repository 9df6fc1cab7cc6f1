/** `aob run start|status`. @module */
import { defineCommand } from 'citty'
import { existsSync } from 'node:fs'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { readInput, readJsonFile } from '../files.ts'
import { followRun, formatEvent } from '../follow.ts'
import { age, table } from '../table.ts'

interface RunView {
  run_id: string
  status: string
  workflow_id: string
  output: unknown
  error: { message: string; node_id?: string } | null
  nodes: Record<
    string,
    { type: string; status: string; attempts: number; error: { message: string } | null }
  >
}

const start = defineCommand({
  meta: { name: 'start', description: 'Start a run of a workflow file, id or tag' },
  args: {
    ...globalArgs,
    workflow: {
      type: 'positional',
      required: true,
      description: 'workflow JSON file, workflow id, or tag',
    },
    input: { type: 'string', description: 'run input: JSON or @file' },
    follow: {
      type: 'boolean',
      alias: 'f',
      description: 'follow events until the run ends',
      default: false,
    },
    'idempotency-key': { type: 'string', description: 'same key, same run' },
  },
  async run({ args }) {
    const mode = outputMode(args)
    const api = apiClient(args)
    const workflow = existsSync(args.workflow) ? await readJsonFile(args.workflow) : args.workflow
    const input = await readInput(args.input)
    const body: Record<string, unknown> = { workflow }
    if (input !== undefined) body.input = input
    if (args['idempotency-key']) body.idempotency_key = args['idempotency-key']
    const created = await api.request<{ run_id: string; status: string }>('POST', '/runs', body)
    if (!args.follow) {
      console.log(mode === 'json' ? JSON.stringify(created) : created.run_id)
      return
    }
    if (mode === 'text') console.log(`run ${created.run_id} started`)
    const last = await followRun(api, created.run_id, (ev) =>
      console.log(mode === 'json' ? JSON.stringify(ev) : formatEvent(ev))
    )
    const run = await api.request<RunView>('GET', `/runs/${created.run_id}`)
    if (mode === 'text')
      console.log(`run ${run.run_id} ${run.status}${run.error ? `: ${run.error.message}` : ''}`)
    if (last.type !== 'run_completed') throw new CliError('', EXIT.runFailed)
  },
})

const status = defineCommand({
  meta: { name: 'status', description: 'Show a run and its nodes' },
  args: { ...globalArgs, id: { type: 'positional', required: true, description: 'run id' } },
  async run({ args }) {
    const run = await apiClient(args).request<RunView>('GET', `/runs/${args.id}`)
    if (outputMode(args) === 'json') {
      console.log(JSON.stringify(run, null, 2))
      return
    }
    console.log(`run ${run.run_id}  ${run.status}  workflow ${run.workflow_id}`)
    if (run.error)
      console.log(
        `error: ${run.error.message}${run.error.node_id ? ` (node ${run.error.node_id})` : ''}`
      )
    for (const [id, n] of Object.entries(run.nodes)) {
      console.log(
        `  ${id.padEnd(24)} ${n.type.padEnd(10)} ${n.status.padEnd(10)} attempts ${n.attempts}${n.error ? `  ${n.error.message}` : ''}`
      )
    }
    if (run.status === 'succeeded') console.log(`output: ${JSON.stringify(run.output)}`)
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'List runs, newest first' },
  args: {
    ...globalArgs,
    status: {
      type: 'string',
      description: 'queued | running | paused | succeeded | failed | cancelled',
    },
    workflow: { type: 'string', description: 'workflow id or tag' },
    limit: { type: 'string', description: 'at most this many (1-500)', default: '20' },
  },
  async run({ args }) {
    const query = new URLSearchParams({ limit: args.limit })
    if (args.status) query.set('status', args.status)
    if (args.workflow) query.set('workflow', args.workflow)
    const page = await apiClient(args).request<{
      runs: {
        run_id: string
        workflow_id: string
        status: string
        created_at: string
        created_by: string | null
      }[]
      next_cursor: string | null
    }>('GET', `/runs?${query}`)
    if (outputMode(args) === 'json') return console.log(JSON.stringify(page))
    if (!page.runs.length) return console.log('no runs')
    console.log(
      table(
        ['RUN', 'STATUS', 'WORKFLOW', 'AGE', 'BY'],
        page.runs.map((r) => [
          r.run_id,
          r.status,
          r.workflow_id,
          age(r.created_at),
          r.created_by ?? '-',
        ])
      )
    )
  },
})

const cancel = defineCommand({
  meta: { name: 'cancel', description: 'Cancel a run' },
  args: {
    ...globalArgs,
    id: { type: 'positional', required: true, description: 'run id' },
    reason: { type: 'string', description: 'why (kept on the run_cancelled event)' },
  },
  async run({ args }) {
    const res = await apiClient(args).request<{ run_id: string; status: string }>(
      'POST',
      `/runs/${args.id}/cancel`,
      args.reason ? { reason: args.reason } : {}
    )
    console.log(outputMode(args) === 'json' ? JSON.stringify(res) : `run ${res.run_id} cancelled`)
  },
})

export default defineCommand({
  meta: { name: 'run', description: 'Runs' },
  subCommands: { start, status, list, cancel },
})
