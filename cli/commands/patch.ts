/** `aob patch list|show|approve|reject|apply`. @module */
import { defineCommand } from 'citty'
import { patchDiff } from '../../src/runs/patch-diff.ts'
import type { Operation } from 'fast-json-patch'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { readJsonFile } from '../files.ts'
import { age, table } from '../table.ts'

interface Patch {
  patch_id: string
  run_id: string
  status: string
  operations: Operation[]
  reason: string | null
  submitted_by: string | null
  decided_by: string | null
  ir_version: number | null
  created_at: string
  tainted?: boolean
}

const list = defineCommand({
  meta: { name: 'list', description: "A run's patches" },
  args: { ...globalArgs, run: { type: 'positional', required: true, description: 'run id' } },
  async run({ args }) {
    const res = await apiClient(args).request<{ patches: Patch[] }>(
      'GET',
      `/runs/${args.run}/patches`
    )
    if (outputMode(args) === 'json') return console.log(JSON.stringify(res))
    if (!res.patches.length) return console.log('no patches')
    console.log(
      table(
        ['PATCH', 'STATUS', 'OPS', 'BY', 'AGE', 'REASON'],
        res.patches.map((p) => [
          p.patch_id,
          `${p.status}${p.tainted ? ' (tainted)' : ''}`,
          String(p.operations.length),
          p.submitted_by ?? '-',
          age(p.created_at),
          p.reason ?? '',
        ])
      )
    )
  },
})

const show = defineCommand({
  meta: {
    name: 'show',
    description: 'A patch: its operations and the document before/after as a diff',
  },
  args: { ...globalArgs, id: { type: 'positional', required: true, description: 'patch id' } },
  async run({ args }) {
    const api = apiClient(args)
    const patch = await api.request<Patch>('GET', `/patches/${args.id}`)
    let diff = ''
    try {
      diff = await patchDiff((path) => api.request('GET', path), patch)
    } catch (e) {
      if (e instanceof CliError) throw e
      diff = `(no diff: ${(e as Error).message})`
    }
    if (outputMode(args) === 'json') return console.log(JSON.stringify({ ...patch, diff }))
    console.log(
      `patch ${patch.patch_id}  ${patch.status}  run ${patch.run_id}  by ${patch.submitted_by ?? '-'}`
    )
    if (patch.reason) console.log(`reason: ${patch.reason}`)
    for (const op of patch.operations) console.log(`  ${JSON.stringify(op)}`)
    console.log(colourDiff(diff))
  },
})

function colourDiff(diff: string): string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return diff
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+') && !l.startsWith('+++')
        ? `\x1b[32m${l}\x1b[0m`
        : l.startsWith('-') && !l.startsWith('---')
          ? `\x1b[31m${l}\x1b[0m`
          : l
    )
    .join('\n')
}

const decide = (decision: 'approve' | 'reject') =>
  defineCommand({
    meta: {
      name: decision,
      description: `${decision === 'approve' ? 'Approve' : 'Reject'} a pending patch`,
    },
    args: {
      ...globalArgs,
      id: { type: 'positional', required: true, description: 'patch id' },
      reason: { type: 'string', description: 'why' },
    },
    async run({ args }) {
      const res = await apiClient(args).request<Patch>(
        'POST',
        `/patches/${args.id}/${decision}`,
        args.reason ? { reason: args.reason } : {}
      )
      console.log(
        outputMode(args) === 'json' ? JSON.stringify(res) : `patch ${res.patch_id} ${res.status}`
      )
    },
  })

const apply = defineCommand({
  meta: {
    name: 'apply',
    description: 'Patch a running run: an RFC 6902 array or {operations, reason}',
  },
  args: {
    ...globalArgs,
    run: { type: 'positional', required: true, description: 'run id' },
    file: { type: 'positional', required: true, description: 'patch file, or - for stdin' },
    reason: { type: 'string', description: 'why' },
  },
  async run({ args }) {
    let raw: unknown
    if (args.file === '-') {
      try {
        raw = JSON.parse(await Bun.stdin.text())
      } catch (e) {
        throw new CliError(`stdin is not valid JSON: ${(e as Error).message}`, EXIT.usage)
      }
    } else raw = await readJsonFile(args.file)
    const body = Array.isArray(raw) ? { operations: raw } : (raw as Record<string, unknown>)
    if (args.reason) body.reason = args.reason
    const res = await apiClient(args).request<{
      patch_id: string
      status: string
      ir_version: number
    }>('POST', `/runs/${args.run}/patch`, body)
    console.log(
      outputMode(args) === 'json'
        ? JSON.stringify(res)
        : `patch ${res.patch_id} ${res.status}${res.status === 'applied' ? ` (ir_version ${res.ir_version})` : ''}`
    )
  },
})

export default defineCommand({
  meta: { name: 'patch', description: 'Patches of running workflows' },
  subCommands: { list, show, approve: decide('approve'), reject: decide('reject'), apply },
})
