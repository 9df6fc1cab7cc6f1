/**
 * `bun run bench cli [--runs N]`: the compiled `dist/aob` answering `--version` and `workflow
 * validate examples/chain.json`, against a compiled hello-world built the same way in the same
 * run: process wall time (median, p95). Peak RSS is not reported: this machine's
 * rusage of short-lived children is not trustworthy (GNU time shows terabytes).
 */
import { $ } from 'bun'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ms, percentile } from './stats.ts'

export async function benchCli(opts: { runs: number }) {
  const root = join(import.meta.dir, '..')
  await $`bun run build aob`.cwd(root).quiet()
  const dir = mkdtempSync(join(tmpdir(), 'aob-bench-cli-'))
  writeFileSync(join(dir, 'hello.ts'), "console.log('hello')\n")
  await $`bun build ${join(dir, 'hello.ts')} --compile --minify --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --outfile ${join(dir, 'hello')}`.quiet()
  const aob = join(root, 'dist/aob')
  const cases: [string, string[]][] = [
    ['hello-world', [join(dir, 'hello')]],
    ['aob --version', [aob, '--version']],
    ['aob workflow validate', [aob, 'workflow', 'validate', join(root, 'examples/chain.json')]],
  ]
  console.log(
    `aob bench cli: ${opts.runs} runs each, bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`
  )
  const medians: Record<string, number> = {}
  for (const [name, cmd] of cases) {
    const times: number[] = []
    for (let i = 0; i < opts.runs + 3; i++) {
      const t0 = performance.now()
      const proc = Bun.spawn(cmd, {
        stdout: 'ignore',
        stderr: 'ignore',
        env: { PATH: process.env.PATH ?? '', AOB_HOME: dir },
      })
      const code = await proc.exited
      if (code !== 0) throw new Error(`${name} exited ${code}`)
      if (i >= 3) times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    medians[name] = percentile(times, 50)
    const base = medians['hello-world']
    console.log(
      `${name.padEnd(22)} p50 ${ms(percentile(times, 50))} p95 ${ms(percentile(times, 95))}${name === 'hello-world' ? '' : `  (${(percentile(times, 50) / base).toFixed(2)}× hello-world)`}`
    )
  }
}
