/** Canonical JSON (sorted keys) and content-address ids for workflow documents. @module */
import type { WorkflowId } from '../ids.ts'
import { dict } from './dict.ts'

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object') {
    const out = dict<unknown>()
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k]
      if (v !== undefined) out[k] = sortKeys(v)
    }
    return out
  }
  return value
}

/** `wf_` + the first 16 hex digits of SHA-256 over the canonical JSON. */
export function workflowId(doc: unknown): WorkflowId {
  const hex = new Bun.CryptoHasher('sha256').update(canonicalJson(doc)).digest('hex')
  return `wf_${hex.slice(0, 16)}` as WorkflowId
}
