/** `aob tool add|list` and `aob openapi add` (the agents' registries). @module */
import { defineCommand } from 'citty'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { readJsonFile } from '../files.ts'
import { clip, table } from '../table.ts'

const toolAdd = defineCommand({
  meta: { name: 'add', description: 'Store a composite tool (a new version if the name exists)' },
  args: {
    ...globalArgs,
    file: { type: 'positional', required: true, description: 'tool JSON file' },
  },
  async run({ args }) {
    const res = await apiClient(args).request<{ name: string; version: number }>(
      'POST',
      '/tools',
      await readJsonFile(args.file)
    )
    console.log(
      outputMode(args) === 'json' ? JSON.stringify(res) : `tool ${res.name} version ${res.version}`
    )
  },
})

const toolList = defineCommand({
  meta: { name: 'list', description: 'Composite tools (search with --q)' },
  args: { ...globalArgs, q: { type: 'string', description: 'words to search for' } },
  async run({ args }) {
    const res = await apiClient(args).request<{
      tools: { name: string; version: number; description: string }[]
    }>('GET', `/tools${args.q ? `?q=${encodeURIComponent(args.q)}` : ''}`)
    if (outputMode(args) === 'json') return console.log(JSON.stringify(res))
    if (!res.tools.length) return console.log('no tools')
    console.log(
      table(
        ['NAME', 'VERSION', 'DESCRIPTION'],
        res.tools.map((t) => [t.name, String(t.version), clip(t.description, 80)])
      )
    )
  },
})

export const tool = defineCommand({
  meta: { name: 'tool', description: 'Composite tools for agents' },
  subCommands: { add: toolAdd, list: toolList },
})

const openapiAdd = defineCommand({
  meta: { name: 'add', description: 'Register an OpenAPI 3.x document agents may call' },
  args: {
    ...globalArgs,
    name: { type: 'positional', required: true, description: 'name' },
    file: { type: 'positional', required: true, description: 'OpenAPI JSON file' },
    'base-url': { type: 'string', description: 'base URL (else the document’s first server)' },
    'auth-header': { type: 'string', description: 'header carrying the credential' },
    'auth-secret': {
      type: 'string',
      description: 'environment variable of the agent worker holding it',
    },
  },
  async run({ args }) {
    const body: Record<string, unknown> = {
      name: args.name,
      document: await readJsonFile(args.file),
    }
    if (args['base-url']) body.base_url = args['base-url']
    if (args['auth-header'] || args['auth-secret'])
      body.auth = { header: args['auth-header'], secret: args['auth-secret'] }
    const res = await apiClient(args).request<{ name: string; operations: string[] }>(
      'POST',
      '/openapi',
      body
    )
    console.log(
      outputMode(args) === 'json'
        ? JSON.stringify(res)
        : `api ${res.name}: ${res.operations.length} operation(s): ${res.operations.join(', ')}`
    )
  },
})

export const openapi = defineCommand({
  meta: { name: 'openapi', description: 'OpenAPI documents for agents' },
  subCommands: { add: openapiAdd },
})
