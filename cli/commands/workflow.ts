/** `aob workflow validate <file>` (offline). @module */
import { defineCommand } from 'citty'
import { validateWorkflow } from '../../src/model/validate.ts'
import { globalArgs, outputMode } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { readJsonFile } from '../files.ts'

const validate = defineCommand({
  meta: { name: 'validate', description: 'Validate a workflow file (offline, no server)' },
  args: {
    ...globalArgs,
    file: { type: 'positional', required: true, description: 'workflow JSON file' },
  },
  async run({ args }) {
    const mode = outputMode(args)
    const result = validateWorkflow(await readJsonFile(args.file))
    const { valid, errors, warnings } = result
    if (mode === 'json') console.log(JSON.stringify({ valid, errors, warnings }, null, 2))
    else {
      for (const e of errors) console.log(`error   ${e.path}: ${e.message}`)
      for (const w of warnings) console.log(`warning ${w.path}: ${w.message}`)
      console.log(
        valid ? `${args.file}: valid` : `${args.file}: invalid (${errors.length} error(s))`
      )
    }
    if (!valid) throw new CliError('', EXIT.error)
  },
})

export default defineCommand({
  meta: { name: 'workflow', description: 'Workflows' },
  subCommands: { validate },
})
