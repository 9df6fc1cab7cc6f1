#!/usr/bin/env bun
/**
 * The `aob` CLI's entry, small so that the commonest quick commands start as fast as a
 * hello-world: `--version` here, `workflow validate <file>` from its own small module; anything
 * else loads the command tree (cli/app.ts). Both are separate entrypoints of the binary. Nothing
 * here may touch process.stdout (its stream costs more than the rest of `--version`).
 * @module
 */
import { importBundled } from '../src/bundled-module.ts'
import { VERSION } from '../src/version.ts'

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  console.log(VERSION)
  process.exit(0)
}
const validate = plainValidate(args)
if (validate) {
  const { validateFile } =
    await importBundled<typeof import('./validate-file.ts')>('cli/validate-file.ts')
  // A missing or unreadable file is reported by the command tree, like every other error.
  const code = await validateFile(validate.file, validate.mode).catch(() => null)
  if (code !== null) process.exit(code)
}
const { runCli } = await importBundled<typeof import('./app.ts')>('cli/app.ts')
await runCli(args)

/** `workflow validate <file> [--output text|json]` and nothing else (the rest: cli/app.ts). */
function plainValidate(a: string[]): { file: string; mode: 'text' | 'json' } | null {
  if (a[0] !== 'workflow' || a[1] !== 'validate') return null
  let file: string | undefined
  let mode: 'text' | 'json' = 'text'
  for (let i = 2; i < a.length; i++) {
    const arg = a[i]
    const value = arg === '--output' ? a[++i] : arg.startsWith('--output=') ? arg.slice(9) : null
    if (value === 'text' || value === 'json') mode = value
    else if (value !== null || arg.startsWith('-') || file !== undefined) return null
    else file = arg
  }
  return file === undefined ? null : { file, mode }
}
