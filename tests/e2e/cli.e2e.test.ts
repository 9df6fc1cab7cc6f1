/** The CLI's commands end to end against `aob dev`: text and JSON modes, exit codes, errors. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, startDev, type DevProcess } from '../helpers/processes.ts'
import { waitFor } from '../helpers/wait-for.ts'

describe('aob commands against aob dev', () => {
  let dev: DevProcess
  beforeAll(async () => {
    dev = await startDev({ env: { AOB_TOKENS: 'operator@ops:ops-token-0001' } })
  })
  afterAll(() => dev.stop())
  const json = async (args: string[]) => {
    const res = await cli(dev, [...args, '--output', 'json'])
    expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: '' })
    return JSON.parse(res.stdout)
  }
  const file = (name: string, value: unknown) => {
    const path = join(dev.home, name)
    writeFileSync(path, JSON.stringify(value))
    return path
  }

  test('run list and cancel; replay -f; workflow list and show', async () => {
    const sleeper = file('sleeper.json', {
      name: 'sleeper',
      nodes: [{ id: 's', type: 'sleep', config: { ms: 60_000 } }],
    })
    const { run_id } = await json(['run', 'start', sleeper])
    const list = await json(['run', 'list', '--status', 'running'])
    expect(list.runs.map((r: any) => r.run_id)).toContain(run_id)
    const text = await cli(dev, ['run', 'list'])
    expect(text.stdout).toMatch(/^RUN\s+STATUS\s+WORKFLOW\s+AGE\s+BY/)
    expect(await json(['run', 'cancel', run_id, '--reason', 'enough'])).toEqual({
      run_id,
      status: 'cancelled',
    })
    const again = await cli(dev, ['run', 'cancel', run_id])
    expect(again.code).toBe(1)
    expect(again.stderr).toStartWith('error: 409')
    const replayed = await json(['replay', run_id])
    expect(replayed.replay_of).toBe(run_id)
    await json(['run', 'cancel', replayed.run_id])
    const failing = file('failing.json', {
      name: 'failing',
      nodes: [
        {
          id: 't',
          type: 'transform',
          config: { pipeline: [{ op: 'transform', expr: "$error('no')" }] },
        },
      ],
    })
    const failed = await json(['run', 'start', failing])
    await waitFor(
      async () => (await json(['run', 'status', failed.run_id])).status === 'failed' || null
    )
    const again2 = await cli(dev, ['replay', failed.run_id, '-f'])
    expect(again2.code).toBe(3)
    expect(again2.stdout).toContain('run_failed')
  })

  test('workflow list and show; tag move (with --expect), list, history', async () => {
    const wf = await json(['run', 'start', 'examples/chain.json', '--input', '{"name":"t"}'])
    const status = await waitFor(async () => {
      const s = await json(['run', 'status', wf.run_id])
      return s.status === 'succeeded' ? s : null
    })
    const workflows = await json(['workflow', 'list'])
    expect(workflows.workflows.map((w: any) => w.id)).toContain(status.workflow_id)
    const shown = await json(['workflow', 'show', status.workflow_id])
    expect(shown.document.name).toBe('greeting-chain')
    const moved = await json(['tag', 'move', 'prod', status.workflow_id])
    expect(moved).toMatchObject({ name: 'prod', workflow_id: status.workflow_id })
    const conflict = await cli(dev, [
      'tag',
      'move',
      'prod',
      status.workflow_id,
      '--expect',
      'wf_0000000000000000',
    ])
    expect(conflict.code).toBe(1)
    const conflictJson = await cli(dev, [
      'tag',
      'move',
      'prod',
      status.workflow_id,
      '--expect',
      'wf_0000000000000000',
      '--output',
      'json',
    ])
    expect(JSON.parse(conflictJson.stderr).error.code).toBe('TAG_CONFLICT')
    expect((await json(['tag', 'list'])).tags.map((t: any) => t.name)).toContain('prod')
    expect((await json(['tag', 'history', 'prod'])).history).toHaveLength(1)
    expect((await cli(dev, ['workflow', 'show', 'no-such-tag'])).code).toBe(4)
  })

  test('patch apply, list, show (operations and a diff), approve and reject', async () => {
    const held = file('held.json', {
      name: 'held',
      patch_policy: 'approve',
      nodes: [{ id: 'wait', type: 'sleep', config: { ms: 3_000 } }],
    })
    const { run_id } = await json(['run', 'start', held])
    const ops = file('ops.json', [
      { op: 'add', path: '/nodes/-', value: { id: 'later', type: 'noop' } },
    ])
    const first = await json(['patch', 'apply', run_id, ops, '--reason', 'add later'])
    expect(first.status).toBe('pending')
    const second = await json([
      'patch',
      'apply',
      run_id,
      file('ops2.json', {
        operations: [{ op: 'add', path: '/nodes/-', value: { id: 'other', type: 'noop' } }],
        reason: 'other',
      }),
    ])
    const listed = await json(['patch', 'list', run_id])
    expect(listed.patches.map((p: any) => p.status)).toEqual(['pending', 'pending'])
    const show = await cli(dev, ['patch', 'show', first.patch_id])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain('"op":"add"')
    expect(show.stdout).toContain('+      "id": "later"')
    expect(show.stdout).not.toContain('\x1b[') // no colour off a TTY
    // On a terminal (a pseudo-terminal by `script`) the diff is coloured, unless NO_COLOR.
    const onTty = (env: Record<string, string>) => {
      const cmd = [
        'bun',
        join(import.meta.dir, '../../cli/main.ts'),
        'patch',
        'show',
        first.patch_id,
      ]
      const { NO_COLOR: _ambient, ...base } = process.env
      const res = Bun.spawnSync(['script', '-qec', cmd.join(' '), '/dev/null'], {
        env: { ...base, AOB_HOME: dev.home, AOB_TOKEN: '', AOB_SERVER: '', ...env },
      })
      return { code: res.exitCode, out: res.stdout.toString() }
    }
    const coloured = onTty({})
    expect(coloured.code).toBe(0)
    expect(coloured.out).toContain('\x1b[')
    const plain = onTty({ NO_COLOR: '1' })
    expect(plain.code).toBe(0)
    expect(plain.out).toContain('"id": "later"')
    expect(plain.out).not.toContain('\x1b[')
    // aob dev's own token submitted them; it may not decide them (SPEC §4).
    expect((await cli(dev, ['patch', 'approve', first.patch_id])).code).toBe(1)
    const bad = await cli(dev, ['patch', 'apply', run_id, file('bad.json', { nope: 1 })])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toStartWith('error: 4')
    expect(second.status).toBe('pending')
    const ops2 = ['--token', 'ops-token-0001']
    expect(await json(['patch', 'approve', first.patch_id, ...ops2])).toMatchObject({
      status: 'applied',
      decided_by: 'ops',
    })
    expect(
      await json(['patch', 'reject', second.patch_id, '--reason', 'no', ...ops2])
    ).toMatchObject({
      status: 'rejected',
    })
    const applied = await cli(dev, ['patch', 'show', first.patch_id])
    expect(applied.stdout).toContain('+      "id": "later"')
  })

  test('tool add and list; openapi add; completion; --version; a server that is down', async () => {
    const tool = file('tool.json', {
      name: 'double',
      description: 'Doubles a number',
      input_schema: { type: 'object', properties: { n: { type: 'number' } } },
      pipeline: [{ op: 'transform', expr: 'n * 2' }],
    })
    expect(await json(['tool', 'add', tool])).toMatchObject({ name: 'double', version: 1 })
    expect((await json(['tool', 'list', '--q', 'doubles'])).tools.map((t: any) => t.name)).toEqual([
      'double',
    ])
    const doc = file('api.json', {
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      servers: [{ url: 'https://api.example' }],
      paths: {
        '/x': { get: { operationId: 'getX', responses: { '200': { description: 'ok' } } } },
      },
    })
    expect(await json(['openapi', 'add', 'example', doc])).toMatchObject({
      name: 'example',
      operations: ['getX'],
    })
    for (const shell of ['bash', 'zsh', 'fish']) {
      const res = await cli(dev, ['completion', shell])
      expect(res.code).toBe(0)
      expect(res.stdout).toContain('workflow')
    }
    const tcsh = await cli(dev, ['completion', 'tcsh'])
    expect(tcsh.code).toBe(2)
    expect(tcsh.stderr).toContain('error: the shell must be bash, zsh or fish, got "tcsh"')
    expect(tcsh.stderr).toContain('USAGE aob completion') // the command's usage follows
    const badInput = await cli(dev, ['run', 'start', 'examples/chain.json', '--input', '{nope'])
    expect(badInput.code).toBe(2)
    expect(badInput.stderr).toMatch(/^error: .*--input/)
    expect(badInput.stderr).toContain('USAGE run start')
    const missing = await cli(dev, ['tag', 'move', 'only-a-name'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('USAGE tag move')
    const validated = await json(['workflow', 'validate', 'examples/agent-triage.json'])
    expect(validated).toMatchObject({
      valid: true,
      stats: { nodes: 2, edges: 1, agents: 1, tier: 'standard' },
    })
    const help = await cli(dev, ['--help'])
    expect(help.stdout).toContain('completion')
    expect(help.stdout).not.toContain('\x1b[') // off a TTY: no colour
    const version = await cli(dev, ['--version'])
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const down = await cli(dev, ['run', 'list', '--server', 'http://127.0.0.1:1'])
    expect(down.code).toBe(1)
    expect(down.stderr.trim()).toBe(
      'error: cannot reach http://127.0.0.1:1: connection refused; is aob dev running?'
    )
  })
})
