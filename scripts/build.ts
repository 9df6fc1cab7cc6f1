/**
 * Compiles the binaries into dist/ (SPEC §1). Ambient .env and bunfig loading are off in every
 * binary; the version is a build-time define. Usage: bun run build [name...]
 */
import { $ } from 'bun'
import pkg from '../package.json' with { type: 'json' }

export const BINARIES: Record<string, string> = {
  aob: 'cli/main.ts',
  'aob-orchestrator': 'cli/entries/orchestrator.ts',
  'aob-coordinator': 'cli/entries/coordinator.ts',
  'aob-fanout': 'cli/entries/fanout.ts',
  'aob-builtin-worker': 'workers/builtin/main.ts',
  'aob-http-worker': 'workers/http/main.ts',
  'aob-hitl-worker': 'workers/hitl/main.ts',
  'aob-agent-worker': 'workers/agent/main.ts',
}

if (import.meta.main) await build(process.argv.slice(2))

async function build(wanted: string[]): Promise<void> {
  const names = wanted.length ? wanted : Object.keys(BINARIES)
  for (const name of names) {
    const entry = BINARIES[name]
    if (!entry)
      throw new Error(`unknown binary "${name}"; known: ${Object.keys(BINARIES).join(', ')}`)
    const started = performance.now()
    // Extra entrypoints, each a module of its own inside the binary: the expression sandbox's
    // Worker, the heavy libraries (src/libs.ts) and, for aob, the CLI's command tree and its
    // validate command (cli/main.ts); they load only when used.
    const extra = [
      'src/expr/sandbox-worker.ts',
      'src/libs-entry.ts',
      ...(name === 'aob' ? ['cli/app.ts', 'cli/validate-file.ts'] : []),
    ]
    await $`bun build ${entry} ${extra} --compile --minify --sourcemap --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --define AOB_VERSION=${JSON.stringify(pkg.version)} --outfile dist/${name}`.quiet()
    console.log(`dist/${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }
}
