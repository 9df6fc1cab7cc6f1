/** `aob workflow validate <file>` (offline). @module */
import { defineCommand } from 'citty'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { age, table } from '../table.ts'
import { CliError, EXIT } from '../errors.ts'
import { validateFile } from '../validate-file.ts'

const validate = defineCommand({
  meta: { name: 'validate', description: 'Validate a workflow file (offline, no server)' },
  args: {
    ...globalArgs,
    file: { type: 'positional', required: true, description: 'workflow JSON file' },
  },
  async run({ args }) {
    const code = await validateFile(args.file, outputMode(args))
    if (code !== EXIT.ok) throw new CliError('', code)
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'Stored workflows, newest first' },
  args: {
    ...globalArgs,
    limit: { type: 'string', default: '50', description: 'at most this many' },
  },
  async run({ args }) {
    const res = await apiClient(args).request<{
      workflows: { id: string; name: string; created_at: string }[]
    }>('GET', `/workflows?limit=${encodeURIComponent(args.limit)}`)
    if (outputMode(args) === 'json') return console.log(JSON.stringify(res))
    if (!res.workflows.length) return console.log('no workflows')
    console.log(
      table(
        ['ID', 'NAME', 'AGE'],
        res.workflows.map((w) => [w.id, w.name, age(w.created_at)])
      )
    )
  },
})

const show = defineCommand({
  meta: { name: 'show', description: 'A stored workflow document, by id or tag' },
  args: {
    ...globalArgs,
    ref: { type: 'positional', required: true, description: 'workflow id or tag' },
  },
  async run({ args }) {
    const res = await apiClient(args).request<unknown>(
      'GET',
      `/workflows/${encodeURIComponent(args.ref)}`
    )
    console.log(outputMode(args) === 'json' ? JSON.stringify(res) : JSON.stringify(res, null, 2))
  },
})

export default defineCommand({
  meta: { name: 'workflow', description: 'Workflows' },
  subCommands: { validate, list, show },
})
