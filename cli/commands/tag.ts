/** `aob tag list|history|move`. @module */
import { defineCommand } from 'citty'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { age, table } from '../table.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'Tags and the workflows they point at' },
  args: { ...globalArgs },
  async run({ args }) {
    const res = await apiClient(args).request<{
      tags: { name: string; workflow_id: string; updated_at: string }[]
    }>('GET', '/tags')
    if (outputMode(args) === 'json') return console.log(JSON.stringify(res))
    if (!res.tags.length) return console.log('no tags')
    console.log(
      table(
        ['TAG', 'WORKFLOW', 'MOVED'],
        res.tags.map((t) => [t.name, t.workflow_id, age(t.updated_at)])
      )
    )
  },
})

const history = defineCommand({
  meta: { name: 'history', description: 'Every move of a tag, newest first' },
  args: { ...globalArgs, name: { type: 'positional', required: true, description: 'tag' } },
  async run({ args }) {
    const res = await apiClient(args).request<{
      history: { workflow_id: string; previous_id: string | null; moved_at: string }[]
    }>('GET', `/tags/${encodeURIComponent(args.name)}/history`)
    if (outputMode(args) === 'json') return console.log(JSON.stringify(res))
    console.log(
      table(
        ['WORKFLOW', 'PREVIOUS', 'MOVED'],
        res.history.map((m) => [m.workflow_id, m.previous_id ?? '-', age(m.moved_at)])
      )
    )
  },
})

const move = defineCommand({
  meta: { name: 'move', description: 'Point a tag at a workflow (compare-and-swap with --expect)' },
  args: {
    ...globalArgs,
    name: { type: 'positional', required: true, description: 'tag' },
    workflow: { type: 'positional', required: true, description: 'workflow id' },
    expect: { type: 'string', description: 'move only if the tag points here now' },
  },
  async run({ args }) {
    const body: Record<string, unknown> = { workflow_id: args.workflow }
    if (args.expect !== undefined) body.expect = args.expect
    const res = await apiClient(args).request<{ name: string; workflow_id: string }>(
      'POST',
      `/tags/${encodeURIComponent(args.name)}/move`,
      body
    )
    console.log(
      outputMode(args) === 'json' ? JSON.stringify(res) : `${res.name} → ${res.workflow_id}`
    )
  },
})

export default defineCommand({
  meta: { name: 'tag', description: 'Tags' },
  subCommands: { list, history, move },
})
