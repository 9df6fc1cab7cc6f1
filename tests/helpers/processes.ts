/** Starting `aob` as a real process for end-to-end tests. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const E2E_TOKEN = 'e2e-admin-token-0001'

export interface DevProcess {
  url: string
  home: string
  proc: ReturnType<typeof Bun.spawn>
  output(): string
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** Starts `aob dev` (from source, or a given binary) on a free port and waits for its URL. */
export async function startDev(
  opts: {
    args?: string[]
    env?: Record<string, string>
    cmd?: string[]
    cwd?: string
    home?: string
  } = {}
): Promise<DevProcess> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'aob-e2e-'))
  const cmd = opts.cmd ?? ['bun', join(import.meta.dir, '../../cli/main.ts')]
  const proc = Bun.spawn([...cmd, 'dev', '--port', '0', ...(opts.args ?? ['--memory'])], {
    cwd: opts.cwd ?? home,
    env: {
      ...process.env,
      AOB_HOME: home,
      AOB_TOKEN: E2E_TOKEN,
      AOB_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const output = collectOutput(proc)
  const deadline = Date.now() + 20_000
  let url: string | undefined
  while (!url) {
    url = /API on (http:\/\/[^\s]+)\/api\/v1/.exec(output())?.[1]
    if (url) break
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`aob dev did not start:\n${output()}`)
    await Bun.sleep(25)
  }
  return {
    url,
    home,
    proc,
    output,
    async stop(signal = 'SIGTERM') {
      proc.kill(signal)
      await proc.exited
    },
  }
}

/** Runs the CLI from source with the dev process's saved credentials. */
export async function cli(
  dev: Pick<DevProcess, 'home'>,
  args: string[],
  cwd = join(import.meta.dir, '../..'),
  /** The command that is `aob` (default: the CLI from source). */
  aob = ['bun', join(import.meta.dir, '../../cli/main.ts')]
) {
  const proc = Bun.spawn([...aob, ...args], {
    cwd,
    env: { ...process.env, AOB_HOME: dev.home, AOB_TOKEN: '', AOB_SERVER: '' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ])
  return { code: await proc.exited, stdout, stderr }
}

/** Accumulates a process's stdout and stderr; returns a reader of what arrived so far. */
export function collectOutput(proc: { stdout: unknown; stderr: unknown }): () => string {
  let out = ''
  const decoder = new TextDecoder()
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) out += decoder.decode(chunk)
  }
  pump(proc.stdout as ReadableStream<Uint8Array>)
  pump(proc.stderr as ReadableStream<Uint8Array>)
  return () => out
}
