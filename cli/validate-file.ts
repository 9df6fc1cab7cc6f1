/**
 * `aob workflow validate <file>`: the document checked offline by the API's own validation,
 * each problem with its JSON-pointer path, and when valid the node, edge and agent counts and
 * the rate tier it would get. Small on purpose: the CLI's entry runs it without loading the
 * rest of the CLI (cli/main.ts).
 * @module
 */
import { LibsNotLoadedError, loadLibs } from '../src/libs.ts'
import { workflowStats } from '../src/model/stats.ts'
import { validateWorkflow, type ValidationResult } from '../src/model/validate.ts'
import { EXIT } from './errors.ts'
import { readJsonFile } from './files.ts'

/** Prints the report; resolves with the exit code (0 valid, 1 invalid). Throws CliError for a missing or non-JSON file. */
export async function validateFile(file: string, mode: 'text' | 'json'): Promise<number> {
  const doc = await readJsonFile(file)
  const { valid, errors, warnings } = await validate(doc)
  const stats = workflowStats(doc)
  if (mode === 'json') console.log(JSON.stringify({ valid, errors, warnings, stats }, null, 2))
  else {
    for (const e of errors) console.log(`error   ${e.path}: ${e.message}`)
    for (const w of warnings) console.log(`warning ${w.path}: ${w.message}`)
    console.log(
      valid
        ? `${file}: valid (${stats.nodes} nodes, ${stats.edges} edges, ${stats.agents} agents, tier ${stats.tier})`
        : `${file}: invalid (${errors.length} error(s))`
    )
  }
  return valid ? EXIT.ok : EXIT.error
}

/** Most documents need no regex, date or JSON Schema library: those load only when one does. */
async function validate(doc: unknown): Promise<ValidationResult> {
  try {
    return validateWorkflow(doc)
  } catch (e) {
    if (!(e instanceof LibsNotLoadedError)) throw e
    await loadLibs()
    return validateWorkflow(doc)
  }
}
