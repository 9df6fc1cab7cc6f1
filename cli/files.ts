/** Reading JSON arguments: files and `--input JSON|@file`. @module */
import { CliError } from './errors.ts'

export async function readJsonFile(path: string): Promise<unknown> {
  const file = Bun.file(path)
  if (!(await file.exists())) throw new CliError(`no such file: ${path}`)
  try {
    return JSON.parse(await file.text())
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`)
  }
}

/** `--input` (or another flag: `--data`) takes inline JSON or `@file`; bad JSON is a usage error. */
export async function readInput(raw: string | undefined, flag = '--input'): Promise<unknown> {
  if (raw === undefined) return undefined
  if (raw.startsWith('@')) return readJsonFile(raw.slice(1))
  try {
    return JSON.parse(raw)
  } catch (e) {
    throw new CliError(`${flag} is not valid JSON: ${(e as Error).message}`, 2)
  }
}
