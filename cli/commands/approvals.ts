/** `aob approvals` (the inbox) and `aob approve <id> approve|reject`. @module */
import { defineCommand } from 'citty'
import { apiClient, globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { readInput } from '../files.ts'
import { age, clip, table } from '../table.ts'

interface Approval {
  id: string
  run_id: string
  node_id: string
  prompt: string
  status: string
  quorum: number
  votes: { by: string; decision: string }[]
  decided_by: string | null
  created_at: string
  timeout_at: string | null
}

export const approvals = defineCommand({
  meta: { name: 'approvals', description: 'List approvals (pending ones by default)' },
  args: {
    ...globalArgs,
    run: { type: 'string', description: 'only this run' },
    status: {
      type: 'string',
      description: 'pending | approved | rejected | timed_out | cancelled | all',
      default: 'pending',
    },
    limit: { type: 'string', description: 'at most this many (1-500)', default: '50' },
  },
  async run({ args }) {
    const mode = outputMode(args)
    const query = new URLSearchParams({ limit: args.limit })
    if (args.status !== 'all') query.set('status', args.status)
    if (args.run) query.set('run', args.run)
    const page = await apiClient(args).request<{
      approvals: Approval[]
      next_cursor: string | null
    }>('GET', `/approvals?${query}`)
    if (mode === 'json') {
      console.log(JSON.stringify(page))
      return
    }
    if (page.approvals.length === 0) {
      console.log(`no ${args.status === 'all' ? '' : `${args.status} `}approvals`)
      return
    }
    const rows = page.approvals.map((a) => [
      a.id,
      a.run_id,
      a.node_id,
      a.status,
      `${a.votes.filter((v) => v.decision === 'approve').length}/${a.quorum}`,
      age(a.created_at),
      a.timeout_at ? age(a.timeout_at) : '-',
      clip(a.prompt, 60),
    ])
    console.log(table(['ID', 'RUN', 'NODE', 'STATUS', 'VOTES', 'AGE', 'TIMEOUT', 'PROMPT'], rows))
  },
})

export const approve = defineCommand({
  meta: { name: 'approve', description: 'Decide an approval: approve or reject' },
  args: {
    ...globalArgs,
    id: { type: 'positional', required: true, description: 'approval id' },
    decision: { type: 'positional', required: true, description: 'approve | reject' },
    reason: { type: 'string', description: 'a comment kept with the vote' },
    data: { type: 'string', description: 'decision data: JSON or @file' },
  },
  async run({ args }) {
    const mode = outputMode(args)
    if (args.decision !== 'approve' && args.decision !== 'reject')
      throw new CliError(
        `the decision must be approve or reject, got "${args.decision}"`,
        EXIT.usage
      )
    const body: Record<string, unknown> = { decision: args.decision }
    if (args.reason) body.comment = args.reason
    const data = await readInput(args.data, '--data')
    if (data !== undefined) body.data = data
    const a = await apiClient(args).request<Approval>('POST', `/approvals/${args.id}/decide`, body)
    if (mode === 'json') {
      console.log(JSON.stringify(a))
      return
    }
    const approvals = a.votes.filter((v) => v.decision === 'approve').length
    console.log(
      a.status === 'pending'
        ? `approval ${a.id}: vote recorded (${approvals} of ${a.quorum} approvals)`
        : `approval ${a.id} ${a.status}${a.decided_by ? ` by ${a.decided_by}` : ''}`
    )
  },
})
