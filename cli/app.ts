/**
 * The `aob` CLI's command tree (citty); subcommands load lazily. A separate entrypoint of the
 * binary, loaded by cli/main.ts. Exit codes: 0 ok, 1 error, 2 usage, 3 run failed, 4 not found.
 * @module
 */
import './no-color.ts'
import { defineCommand, renderUsage, runCommand } from 'citty'
import { VERSION } from '../src/version.ts'
import { CliError, EXIT } from './errors.ts'

const main = defineCommand({
  meta: { name: 'aob', version: VERSION, description: 'aob: agent orchestration backbone' },
  subCommands: {
    approvals: () => import('./commands/approvals.ts').then((m) => m.approvals),
    approve: () => import('./commands/approvals.ts').then((m) => m.approve),
    logs: () => import('./commands/logs.ts').then((m) => m.default),
    patch: () => import('./commands/patch.ts').then((m) => m.default),
    replay: () => import('./commands/replay.ts').then((m) => m.default),
    tag: () => import('./commands/tag.ts').then((m) => m.default),
    tool: () => import('./commands/registry.ts').then((m) => m.tool),
    openapi: () => import('./commands/registry.ts').then((m) => m.openapi),
    completion: () => import('./commands/completion.ts').then((m) => m.default),
    dev: () => import('./commands/dev.ts').then((m) => m.default),
    migrate: () => import('./commands/migrate.ts').then((m) => m.default),
    run: () => import('./commands/run.ts').then((m) => m.default),
    workflow: () => import('./commands/workflow.ts').then((m) => m.default),
  },
})

/** Runs the command `rawArgs` names and exits with its code. */
export async function runCli(rawArgs: string[]): Promise<never> {
  try {
    if (rawArgs.length === 0 || rawArgs.includes('--help') || rawArgs.includes('-h')) {
      console.log(await usageOf(rawArgs))
      process.exit(rawArgs.length === 0 ? EXIT.usage : EXIT.ok)
    }
    await runCommand(main, { rawArgs })
    process.exit(EXIT.ok)
  } catch (e) {
    if (e instanceof CliError) {
      const json = rawArgs.some(
        (a, i) => a === '--output=json' || (a === '--output' && rawArgs[i + 1] === 'json')
      )
      if (json && e.body) console.error(JSON.stringify(e.body))
      else if (e.message) console.error(`error: ${e.message}`)
      if (e.exitCode === EXIT.usage && !json) console.error(`\n${await usageOf(rawArgs)}`)
      process.exit(e.exitCode)
    }
    if ((e as Error).name === 'CLIError') {
      console.error(`error: ${(e as Error).message}\n\n${await usageOf(rawArgs)}`)
      process.exit(EXIT.usage)
    }
    console.error(`error: ${(e as Error).message ?? e}`)
    process.exit(EXIT.error)
  }
}

/** The usage of the deepest command `args` name (citty renders it from the command's definition). */
async function usageOf(args: string[]): Promise<string> {
  let cmd: any = main
  let parent: any
  for (const a of args) {
    if (a.startsWith('-')) break
    const subs = cmd.subCommands
    const next = subs?.[a]
    if (!next) break
    parent = cmd
    cmd = typeof next === 'function' ? await next() : next
  }
  return renderUsage(cmd, parent)
}
