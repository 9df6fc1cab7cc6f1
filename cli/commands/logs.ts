/** `aob logs stream <run>`: a run's events live, filtered, until it ends (exit 3 if it failed). @module */
import { defineCommand } from 'citty'
import type { RunEvent } from '../../src/engine/state.ts'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { followRun, formatEvent } from '../follow.ts'

const FILTERS: Record<string, (ev: RunEvent) => boolean> = {
  errors: (ev) =>
    ev.type === 'node_failed' ||
    ev.type === 'run_failed' ||
    (ev.type === 'log' && ['error', 'warn'].includes(String(ev.data.level))),
  approvals: (ev) => ev.type === 'approval_required' || ev.type === 'approval_decided',
  agent: (ev) => ev.type === 'agent_turn' || ev.type.startsWith('patch_'),
}
const TERMINAL = new Set(['run_completed', 'run_failed', 'run_cancelled'])

const stream = defineCommand({
  meta: { name: 'stream', description: "Follow a run's events live until it ends" },
  args: {
    ...globalArgs,
    fanout: { type: 'string', description: 'fanout address when not the API server (AOB_FANOUT)' },
    run: { type: 'positional', required: true, description: 'run id' },
    node: { type: 'string', description: 'only events of this node' },
    filter: { type: 'string', description: 'errors | approvals | agent' },
    after: { type: 'string', description: 'start after this seq', default: '0' },
  },
  async run({ args }) {
    const mode = outputMode(args)
    if (args.filter !== undefined && !Object.hasOwn(FILTERS, args.filter))
      throw new CliError('--filter must be errors, approvals or agent', EXIT.usage)
    const after = Number(args.after)
    if (!Number.isSafeInteger(after) || after < 0)
      throw new CliError('--after must be a seq (an integer ≥ 0)', EXIT.usage)
    const keep = (ev: RunEvent) =>
      TERMINAL.has(ev.type) ||
      ((!args.node || ev.node_id === args.node) && (!args.filter || FILTERS[args.filter](ev)))
    const last = await followRun(
      apiClient(args),
      args.run,
      (ev) => {
        if (keep(ev)) console.log(mode === 'json' ? JSON.stringify(ev) : formatEvent(ev))
      },
      { after }
    )
    if (last.type !== 'run_completed') throw new CliError('', EXIT.runFailed)
  },
})

export default defineCommand({
  meta: { name: 'logs', description: "A run's events" },
  subCommands: { stream },
})
