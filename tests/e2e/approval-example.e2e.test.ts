/** The README's approval example, as a user runs it: `aob dev`, `aob run start`, `aob approvals`, `aob approve`. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli, startDev, type DevProcess } from '../helpers/processes.ts'
import { waitFor } from '../helpers/wait-for.ts'

const MANAGER = 'manager-token-0001'

describe('examples/approval.json from the CLI', () => {
  let dev: DevProcess
  beforeAll(async () => {
    dev = await startDev({ env: { AOB_TOKENS: `operator@manager:${MANAGER}` } })
  })
  afterAll(() => dev.stop())

  const statusOf = async (runId: string) =>
    JSON.parse((await cli(dev, ['run', 'status', runId, '--output', 'json'])).stdout)
  const succeeded = (runId: string) =>
    waitFor(
      async () => {
        const r = await statusOf(runId)
        return r.status === 'succeeded' ? r : null
      },
      10_000,
      'the run to finish'
    )

  test('a big order waits for the manager; approving it from the CLI finishes the run', async () => {
    const order = '{"order":{"id":"A-17","customer":"ada@example.com","amount":2500}}'
    const started = await cli(dev, ['run', 'start', 'examples/approval.json', '--input', order])
    expect(started.code).toBe(0)
    const runId = started.stdout.trim()
    const pending = await waitFor(
      async () => {
        const res = await cli(dev, ['approvals', '--run', runId, '--output', 'json'])
        return JSON.parse(res.stdout).approvals[0] ?? null
      },
      10_000,
      'the approval'
    )
    expect(pending.prompt).toBe(
      'Order A-17 from ada@example.com is 2500 EUR, over the 1,000 EUR limit. Approve it?'
    )
    const inbox = await cli(dev, ['approvals'])
    expect(inbox.code).toBe(0)
    expect(inbox.stdout).toMatch(/^ID\s+RUN\s+NODE\s+STATUS\s+VOTES\s+AGE\s+TIMEOUT\s+PROMPT/)
    expect(inbox.stdout).toContain(`${pending.id}  ${runId}  manager_approval  pending  0/1`)
    expect((await statusOf(runId)).status).toBe('paused')

    // aob dev's own token is an admin, but not the manager (and it started the run).
    const refused = await cli(dev, ['approve', pending.id, 'approve'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('403')
    const usage = await cli(dev, ['approve', pending.id, 'maybe'])
    expect(usage.code).toBe(2)
    const badData = await cli(dev, ['approve', pending.id, 'approve', '--data', '{nope'])
    expect(badData.code).toBe(2)
    const unknown = await cli(dev, ['approve', `apr_${'0'.repeat(28)}`, 'approve'])
    expect(unknown.code).toBe(4)

    const approved = await cli(dev, [
      'approve',
      pending.id,
      'approve',
      '--reason',
      'known customer',
      '--data',
      '{"discount_pct":5}',
      '--token',
      MANAGER,
    ])
    expect({ code: approved.code, stderr: approved.stderr }).toEqual({ code: 0, stderr: '' })
    expect(approved.stdout.trim()).toBe(`approval ${pending.id} approved by manager`)
    const run = await succeeded(runId)
    expect(run.nodes.fulfil.output).toEqual({
      order: 'A-17',
      status: 'fulfilled',
      approved_by: 'manager',
    })
    expect(run.nodes.manager_approval.output.data).toEqual({ discount_pct: 5 })
    expect(run.nodes.notify_rejection.status).toBe('skipped')
  })

  test('a rejected order notifies the customer; a small one needs no approval', async () => {
    const big = await cli(dev, [
      'run',
      'start',
      'examples/approval.json',
      '--input',
      '{"order":{"id":"B-2","customer":"bob@example.com","amount":5000}}',
    ])
    const runId = big.stdout.trim()
    const pending = await waitFor(
      async () =>
        JSON.parse((await cli(dev, ['approvals', '--run', runId, '--output', 'json'])).stdout)
          .approvals[0] ?? null,
      10_000,
      'the approval'
    )
    const rejected = await cli(dev, [
      'approve',
      pending.id,
      'reject',
      '--reason',
      'over budget',
      '--token',
      MANAGER,
      '--output',
      'json',
    ])
    expect(rejected.code).toBe(0)
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      status: 'rejected',
      comment: 'over budget',
    })
    const run = await succeeded(runId)
    expect(run.nodes.notify_rejection.output).toEqual({
      to: 'bob@example.com',
      message: 'Your order B-2 was declined: over budget',
    })
    expect(run.nodes.fulfil.status).toBe('skipped')

    const small = await cli(dev, [
      'run',
      'start',
      'examples/approval.json',
      '--input',
      '{"order":{"id":"C-3","customer":"cy@example.com","amount":20}}',
      '-f',
    ])
    expect(small.code).toBe(0)
    expect(small.stdout).toContain('node_skipped manager_approval')
  })
})
