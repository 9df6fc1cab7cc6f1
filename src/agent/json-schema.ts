/**
 * JSON Schema validation of what models produce (tool arguments, `output_schema` answers) and of
 * tool schemas themselves: Ajv (kept, fast, standard drafts; its compiled validators are plain
 * JS, so they run in compiled binaries), with `pattern` run by RE2JS (linear time: a schema's
 * regex from a workflow or an admin can never stall the process). Schemas are bounded in size
 * and nesting before Ajv sees them, and compiled validators are cached by their text.
 * @module
 */
import type Ajv from 'ajv'
import type { ValidateFunction } from 'ajv'
import { BoundedMap } from '../bounded-map.ts'
import type { ErrorDetail } from '../errors.ts'
import { jsonProblem } from '../model/json-bounds.ts'
import { libs } from '../libs.ts'

/** A schema's JSON may be this large at most. */
export const MAX_SCHEMA_BYTES = 64 * 1024
const MAX_SCHEMA_DEPTH = 32

function linearRegExp(pattern: string, flags: string) {
  const { RE2JS } = libs()
  const re = RE2JS.compile(pattern, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0)
  return {
    test: (s: string) => re.matcher(s).find(),
    // Ajv keeps one compiled pattern per toString(): it must name this pattern.
    toString: () => `/${pattern}/${flags}`,
  }
}
linearRegExp.code = 'linearRegExp'

// Made on first use: loading a workflow validator must not pay for Ajv's setup.
let ajv: Ajv | undefined
const compiler = () =>
  (ajv ??= new (libs().Ajv)({
    strict: false,
    allErrors: false,
    validateSchema: true,
    code: { regExp: linearRegExp },
    // No remote references: a schema is what it says.
    loadSchema: undefined,
  }))
const compiled = new BoundedMap<string, ValidateFunction>(1_000)

/** Problems with the schema itself (too big, too deep, not a valid JSON Schema), or []. */
export function schemaProblems(schema: unknown, path = ''): ErrorDetail[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    return [{ path, message: 'a JSON Schema must be an object' }]
  const bounds = jsonProblem(schema, MAX_SCHEMA_DEPTH)
  if (bounds) return [{ path: `${path}${bounds.path}`, message: bounds.message }]
  const text = JSON.stringify(schema)
  if (text.length > MAX_SCHEMA_BYTES)
    return [{ path, message: `the schema is over ${MAX_SCHEMA_BYTES} bytes` }]
  compiler() // outside the try: the libraries not being loaded is not the schema's fault
  try {
    validatorOf(text)
    return []
  } catch (e) {
    return [{ path, message: `not a valid JSON Schema: ${(e as Error).message}` }]
  }
}

/** Validates `value` against `schema`; each error with its JSON-pointer path. */
export function schemaErrors(schema: unknown, value: unknown): ErrorDetail[] {
  const problems = schemaProblems(schema)
  if (problems.length) return problems
  const validate = validatorOf(JSON.stringify(schema))
  if (validate(value)) return []
  return (validate.errors ?? []).map((e) => ({
    path: e.instancePath || '/',
    message: e.message ?? 'does not match the schema',
  }))
}

function validatorOf(text: string): ValidateFunction {
  let fn = compiled.get(text)
  if (!fn) {
    fn = compiler().compile(JSON.parse(text))
    compiled.set(text, fn)
  }
  return fn
}
