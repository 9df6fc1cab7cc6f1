import { expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { E2E_TOKEN, startDev } from '../helpers/processes.ts'

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
    const validate = Bun.spawnSync(
      [join(dir, 'aob'), 'workflow', 'validate', join(root, 'examples/loop.json')],
      { cwd: dir }
    )
    expect(validate.exitCode).toBe(0)
  } finally {
    await dev.stop()
  }
}, 60_000)
