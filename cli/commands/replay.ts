/** `aob replay <run_id> [--from NODE] [-f]`. @module */
import { defineCommand } from 'citty'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { followRun, formatEvent } from '../follow.ts'

export default defineCommand({
  meta: {
    name: 'replay',
    description: 'Run a finished run again, from a node or from what failed',
  },
  args: {
    ...globalArgs,
    id: { type: 'positional', required: true, description: 'run id' },
    from: { type: 'string', description: 'this node and its descendants run again' },
    follow: { type: 'boolean', alias: 'f', description: 'follow the new run', default: false },
  },
  async run({ args }) {
    const mode = outputMode(args)
    const api = apiClient(args)
    const res = await api.request<{ run_id: string; replay_of: string; status: string }>(
      'POST',
      `/runs/${args.id}/replay`,
      args.from ? { from: args.from } : {}
    )
    if (!args.follow) return console.log(mode === 'json' ? JSON.stringify(res) : res.run_id)
    if (mode === 'text') console.log(`run ${res.run_id} started (replay of ${res.replay_of})`)
    const last = await followRun(api, res.run_id, (ev) =>
      console.log(mode === 'json' ? JSON.stringify(ev) : formatEvent(ev))
    )
    if (last.type !== 'run_completed') throw new CliError('', EXIT.runFailed)
  },
})
