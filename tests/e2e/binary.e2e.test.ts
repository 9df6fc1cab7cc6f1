import { expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli, E2E_TOKEN, startDev } from '../helpers/processes.ts'

const root = join(import.meta.dir, '../..')

test('the compiled aob runs `aob dev` from an empty directory (no node_modules, no source)', async () => {
  const build = Bun.spawnSync(['bun', 'run', 'build', 'aob'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  expect(build.exitCode).toBe(0)
  const dir = mkdtempSync(join(tmpdir(), 'aob-bin-'))
  copyFileSync(join(root, 'dist/aob'), join(dir, 'aob'))
  Bun.spawnSync(['chmod', '+x', join(dir, 'aob')])
  // An ambient .env must not be loaded by the binary.
  await Bun.write(join(dir, '.env'), 'AOB_TOKEN=from-dotenv-file\n')
  const dev = await startDev({ cmd: [join(dir, 'aob')], cwd: dir, home: dir })
  try {
    expect(dev.output()).toContain(`admin token: ${E2E_TOKEN}`)
    const workflow = await Bun.file(join(root, 'examples/chain.json')).json()
    const headers = { authorization: `Bearer ${E2E_TOKEN}`, 'content-type': 'application/json' }
    const { run_id } = (await (
      await fetch(`${dev.url}/api/v1/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ workflow, input: { name: 'bin' } }),
      })
    ).json()) as any
    let run: any
    for (let i = 0; i < 100; i++) {
      run = await (await fetch(`${dev.url}/api/v1/runs/${run_id}`, { headers })).json()
      if (run.status === 'succeeded') break
      await Bun.sleep(50)
    }
    expect(run.output).toEqual({ shout: { text: 'HELLO BIN!' } })
    // An expression that runs in the sandbox: its Worker is a module inside the binary too.
    const sandboxed = (await (
      await fetch(`${dev.url}/api/v1/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          workflow: {
            name: 'sandboxed',
            nodes: [
              {
                id: 't',
                type: 'transform',
                config: {
                  input: [1, 2, 3],
                  pipeline: [{ op: 'transform', expr: '$map($, function($x) { $x * 2 })' }],
                },
              },
            ],
          },
        }),
      })
    ).json()) as any
    let doubled: any
    for (let i = 0; i < 100; i++) {
      doubled = await (
        await fetch(`${dev.url}/api/v1/runs/${sandboxed.run_id}`, { headers })
      ).json()
      if (['succeeded', 'failed'].includes(doubled.status)) break
      await Bun.sleep(50)
    }
    expect({ status: doubled.status, output: doubled.output }).toEqual({
      status: 'succeeded',
      output: { t: [2, 4, 6] },
    })
    // The CLI commands from the copied binary, with the token `aob dev` saved.
    const aob = (args: string[]) => cli(dev, args, dir, [join(dir, 'aob')])
    expect((await aob(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const valid = await aob(['workflow', 'validate', join(root, 'examples/loop.json')])
    expect(valid.code).toBe(0)
    await Bun.write(
      join(dir, 'bad.json'),
      JSON.stringify({ name: 'bad', nodes: [{ id: 'a', type: 'transform', config: {} }] })
    )
    const invalid = await aob(['workflow', 'validate', 'bad.json', '--output', 'json'])
    expect(invalid.code).toBe(1)
    expect(JSON.parse(invalid.stdout).errors[0].path).toStartWith('/nodes/0')
    // Regexes, dates and JSON Schemas are checked by libraries the binary loads only when a
    // document needs them (src/libs.ts): they must be inside it and found from anywhere.
    const needsLibs = (pattern: string, zone: string) => ({
      name: 'libs',
      nodes: [
        {
          id: 't',
          type: 'transform',
          config: {
            pipeline: [
              { op: 'regex_extract', pattern, field: 'text' },
              { op: 'parse_date', zone, field: 'at' },
            ],
          },
        },
        {
          id: 'a',
          type: 'agent',
          config: { instructions: 'x', output_schema: { type: 'object', required: 'nope' } },
        },
      ],
    })
    await Bun.write(join(dir, 'libs.json'), JSON.stringify(needsLibs('(?<=a)b', 'Mars/Olympus')))
    const libs = await aob(['workflow', 'validate', 'libs.json', '--output=json'])
    expect(libs.code).toBe(1)
    expect(
      (JSON.parse(libs.stdout).errors as { path: string }[]).map((e) => e.path).sort()
    ).toEqual([
      '/nodes/0/config/pipeline/0/pattern',
      '/nodes/0/config/pipeline/1/zone',
      '/nodes/1/config/output_schema',
    ])
    await Bun.write(join(dir, 'libs-ok.json'), JSON.stringify(needsLibs('(a+)+$', 'Europe/Paris')))
    const fine = await aob(['workflow', 'validate', 'libs-ok.json'])
    expect(fine.stderr).toBe('')
    // Still one error: the schema's; the pattern and the zone are fine now.
    expect(fine.stdout).toContain('/nodes/1/config/output_schema')
    // What the quick path does not take goes to the command tree, with its usage on errors.
    const usage = await aob(['workflow', 'validate'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('USAGE')
    const missing = await aob(['workflow', 'validate', 'nope.json'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('error: no such file: nope.json\n')
    await Bun.write(join(dir, 'input.json'), '{"name":"file"}')
    const started = await aob([
      'run',
      'start',
      join(root, 'examples/chain.json'),
      '--input',
      '@input.json',
      '-f',
      '--output',
      'json',
    ])
    expect(started.code).toBe(0)
    const lines = started.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.at(-1)).toMatchObject({ type: 'run_completed' })
    const status = await aob(['run', 'status', lines[0].run_id, '--output', 'json'])
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'succeeded',
      output: { shout: { text: 'HELLO FILE!' } },
    })
    // The web UI and its assets are inside the binary.
    const signIn = await fetch(`${dev.url}/`, { redirect: 'manual' })
    expect(signIn.status).toBe(303)
    expect(signIn.headers.get('location')).toStartWith('/sign-in')
    const form = await (await fetch(`${dev.url}/sign-in`)).text()
    expect(form).toStartWith('<!doctype html>')
    expect(form).toContain('name="csrf"')
    for (const asset of ['live.js', 'style.css']) {
      const res = await fetch(`${dev.url}/ui/assets/${asset}`)
      expect({ asset, status: res.status, size: (await res.text()).length > 500 }).toEqual({
        asset,
        status: 200,
        size: true,
      })
    }
    const unknown = await aob(['run', 'status', 'run_nope'])
    expect(unknown.code).toBe(4)
    expect(unknown.stderr).toStartWith('error: ')
  } finally {
    await dev.stop()
  }
}, 60_000)
