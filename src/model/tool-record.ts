/**
 * Composite tools (SPEC §4.2): a saved pipeline of the §7 primitives with a name, a description
 * and the JSON Schema of its input, found by agents with `search_tools` and run with
 * `execute_pipeline {tool, input}`. Storing a name again makes a new version.
 * @module
 */
import * as v from 'valibot'
import { schemaProblems } from '../agent/json-schema.ts'
import type { ErrorDetail } from '../errors.ts'
import { pipelineErrors } from '../pipeline/pipeline.ts'
import { isJsonObject, strictObject } from './schema.ts'

export const REGISTRY_NAME = /^[a-z0-9._-]{1,64}$/

export interface ToolRecord {
  name: string
  version: number
  description: string
  input_schema: Record<string, unknown>
  pipeline: Record<string, unknown>[]
  created_at: string
  created_by: string | null
}

export const ToolBody = strictObject({
  name: v.pipe(v.string(), v.regex(REGISTRY_NAME, 'must be 1-64 of [a-z0-9._-]')),
  description: v.pipe(v.string(), v.minLength(1), v.maxLength(4_000)),
  input_schema: v.custom<Record<string, unknown>>(isJsonObject, 'must be a JSON Schema object'),
  pipeline: v.array(v.custom<Record<string, unknown>>(isJsonObject, 'each step is an object')),
})
export type ToolBody = v.InferOutput<typeof ToolBody>

/** What is wrong with a tool beyond its shape: its schema and its pipeline's steps. */
export function toolErrors(body: ToolBody): ErrorDetail[] {
  return [
    ...schemaProblems(body.input_schema, '/input_schema'),
    ...pipelineErrors(body.pipeline, '/pipeline'),
  ]
}

export const MAX_SEARCH_RESULTS = 20

/**
 * Tools matching `query`, best first: each query word found in the name counts 3, in the
 * description 1, the exact name 10. `names` (a node's `tool_names`) limits the candidates.
 */
export function searchTools(
  tools: ToolRecord[],
  query: string,
  names?: readonly string[]
): ToolRecord[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []
  const q = query.trim().toLowerCase()
  return tools
    .filter((t) => !names || names.includes(t.name))
    .map((t) => {
      const name = t.name.toLowerCase()
      const description = t.description.toLowerCase()
      let score = name === q ? 10 : 0
      for (const w of words) {
        if (name.includes(w)) score += 3
        if (description.includes(w)) score += 1
      }
      return { t, score }
    })
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.t.name.localeCompare(b.t.name))
    .slice(0, MAX_SEARCH_RESULTS)
    .map((x) => x.t)
}

/** The pipeline uses the network (its output is untrusted: SPEC §7 taint). */
export function usesNetwork(pipeline: readonly Record<string, unknown>[]): boolean {
  return pipeline.some((s) => s.op === 'http_request')
}
