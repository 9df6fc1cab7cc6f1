/**
 * Identifiers. Run, patch and approval ids sort by creation time (a 12-hex-digit millisecond
 * timestamp, then a per-process counter, then randomness), so "newest first" is an index order.
 * @module
 */
export type RunId = string & { readonly __brand: 'RunId' }
export type WorkflowId = string & { readonly __brand: 'WorkflowId' }
export type PatchId = string & { readonly __brand: 'PatchId' }

let lastMs = 0
let counter = 0

function sortableId(prefix: string): string {
  const now = Date.now()
  if (now === lastMs) counter++
  else {
    lastMs = now
    counter = 0
  }
  const rand = crypto.getRandomValues(new Uint8Array(6))
  const hex = Array.from(rand, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${prefix}${now.toString(16).padStart(12, '0')}${counter.toString(16).padStart(4, '0')}${hex}`
}

export const newRunId = (): RunId => sortableId('run_') as RunId
export const newPatchId = (): PatchId => sortableId('pat_') as PatchId
export const newTraceId = (): string => crypto.randomUUID().replaceAll('-', '')

export function isRunId(s: string): s is RunId {
  return /^run_[0-9a-f]{28}$/.test(s)
}
export function isWorkflowId(s: string): s is WorkflowId {
  return /^wf_[0-9a-f]{16}$/.test(s)
}
