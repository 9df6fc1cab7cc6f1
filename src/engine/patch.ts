/**
 * Patching a running run (RFC 6902 on its materialized document). Each operation is checked
 * first (the six RFC ops only, paths under /nodes and /edges, a cap on count and size); the
 * result must validate; nodes that started may not change or go. The new IR takes effect at
 * the next routing decision.
 * @module
 */
import jsonpatch, { type Operation as JsonPatchOperation } from 'fast-json-patch'
import * as v from 'valibot'
import { option, strictObject, variant } from '../model/schema.ts'
import { AobError, ErrorCode } from '../errors.ts'
import { newPatchId } from '../ids.ts'
import { compileWorkflow } from '../model/ir.ts'
import { issuesToDetails } from '../model/issues.ts'
import { validateWorkflow } from '../model/validate.ts'
import { DEFAULT_LIMITS, type Limits, type Workflow } from '../model/workflow.ts'
import { canonicalJson } from '../model/canonical.ts'
import { newNodeState, type Draft } from './draft.ts'
import { reconsiderPending, settle } from './route.ts'
import { FINISHED_NODE_STATUSES, isTerminalRun, type PatchRecord } from './state.ts'

export const MAX_PATCH_OPERATIONS = 100

const Pointer = v.pipe(
  v.string(),
  v.maxLength(1024, 'must be at most 1024 characters'),
  v.regex(/^\/(nodes|edges)(\/.*)?$/, 'must be a JSON pointer under /nodes or /edges'),
  v.check(
    (p) => !/\/(__proto__|constructor|prototype)(\/|$)/.test(p),
    'must not name __proto__, constructor or prototype'
  )
)
const Operation = variant('op', [
  option({ op: v.literal('add'), path: Pointer, value: v.unknown() }),
  option({ op: v.literal('remove'), path: Pointer }),
  option({ op: v.literal('replace'), path: Pointer, value: v.unknown() }),
  option({ op: v.literal('move'), from: Pointer, path: Pointer }),
  option({ op: v.literal('copy'), from: Pointer, path: Pointer }),
  option({ op: v.literal('test'), path: Pointer, value: v.unknown() }),
])
export const PatchOperations = v.pipe(
  v.array(Operation),
  v.minLength(1, 'at least one operation'),
  v.maxLength(MAX_PATCH_OPERATIONS, `at most ${MAX_PATCH_OPERATIONS} operations`)
)
export const PatchReason = v.optional(v.pipe(v.string(), v.maxLength(2000)))
export const PatchRequest = strictObject({ operations: PatchOperations, reason: PatchReason })
export type PatchOperation = v.InferOutput<typeof Operation>

/** Checks the operations and applies them to a copy; throws INVALID_PATCH / PATCH_CONFLICT. */
export function patchDocument(
  doc: Workflow,
  operations: unknown,
  limits: Limits = DEFAULT_LIMITS
): Workflow {
  const parsed = v.safeParse(PatchRequest, { operations })
  if (!parsed.success)
    throw new AobError(
      ErrorCode.InvalidPatch,
      'invalid patch operations',
      issuesToDetails(parsed.issues)
    )
  const copy = structuredClone(doc) as unknown as Record<string, unknown>
  if (!Array.isArray(copy.edges)) copy.edges = []
  try {
    parsed.output.operations.forEach((op, i) => {
      // RFC 6901/6902 pointers are checked against the document as it stands before this op:
      // fast-json-patch would read "/nodes/02" or "/nodes/4294967296" as some other index.
      pointerError(copy, op, i)
      jsonpatch.applyOperation(copy, op as JsonPatchOperation, true, true, true, i)
    })
  } catch (e) {
    if (e instanceof AobError) throw e
    const err = e as { name?: string; message: string; index?: number }
    if (err.name === 'TEST_OPERATION_FAILED') {
      throw new AobError(
        ErrorCode.PatchConflict,
        `test operation ${err.index ?? ''} failed: the document differs`
      )
    }
    const path = err.index !== undefined ? `/operations/${err.index}` : '/operations'
    throw new AobError(ErrorCode.InvalidPatch, 'patch cannot be applied', [
      { path, message: firstLine(err.message) },
    ])
  }
  const result = validateWorkflow(copy, limits)
  if (!result.valid)
    throw new AobError(ErrorCode.InvalidPatch, 'the patched workflow is invalid', result.errors)
  return result.workflow as Workflow
}

/**
 * Applies (or, under patch_policy "approve", records as pending) a patch on the run in `d`.
 * Returns the patch record.
 */
export async function patchRun(
  d: Draft,
  operations: unknown,
  opts: {
    reason?: string
    limits?: Limits
    forceApply?: PatchRecord
    principal?: string
    /** Overrides the workflow's patch_policy (an agent node's own policy, or taint). */
    policy?: 'auto' | 'approve'
    tainted?: boolean
    requestId?: string
    /** Called with the documents before and after, once the patch is known to apply (rate limits). */
    admit?: (before: Workflow, after: Workflow) => Promise<void>
  } = {}
): Promise<PatchRecord> {
  if (isTerminalRun(d.run.status))
    throw new AobError(ErrorCode.RunFinished, `run ${d.run.id} already ${d.run.status}`)
  const next = patchDocument(d.run.document, operations, opts.limits)
  const prevNodes = new Map(d.run.document.nodes.map((n) => [n.id, canonicalJson(n)]))
  const nextNodes = new Map(next.nodes.map((n) => [n.id, canonicalJson(n)]))
  const details = []
  for (const id of d.nodeIds()) {
    const n = d.peek(id)
    if (!n || (n.status === 'pending' && n.iteration === 0)) continue
    if (!nextNodes.has(id))
      details.push({
        path: '/nodes',
        message: `node "${id}" has started (${n.status}) and cannot be removed`,
      })
    else if (nextNodes.get(id) !== prevNodes.get(id))
      details.push({
        path: '/nodes',
        message: `node "${id}" has started (${n.status}) and cannot be changed`,
      })
  }
  if (details.length)
    throw new AobError(
      ErrorCode.PatchConflict,
      'the patch changes nodes that have started',
      details
    )
  await opts.admit?.(d.run.document, next)

  const now = d.now()
  const record: PatchRecord = opts.forceApply ?? {
    id: newPatchId(),
    run_id: d.run.id,
    status: 'pending',
    operations: operations as unknown[],
    reason: opts.reason ?? null,
    submitted_by: opts.principal ?? null,
    decided_by: null,
    ir_version: null,
    created_at: now,
    decided_at: null,
    ...(opts.tainted ? { tainted: true } : {}),
    ...(opts.requestId ? { request_id: opts.requestId } : {}),
  }
  if (!opts.forceApply && (opts.policy ?? d.run.ir.patch_policy) === 'approve') {
    d.emit('patch_pending', undefined, {
      patch_id: record.id,
      operations: record.operations.length,
      reason: record.reason,
    })
    d.patch = record
    d.setRun({ pending_patches: d.run.pending_patches + 1 })
    return record
  }
  const ir = compileWorkflow(next)
  for (const id of d.nodeIds()) if (!ir.nodes[id]) d.putNode(id, null)
  const added = new Set(Object.keys(ir.nodes).filter((id) => !d.peek(id)))
  for (const id of added) d.putNode(id, newNodeState())
  const version = d.run.ir_version + 1
  d.setRun({ document: next, ir, ir_version: version })
  if (opts.forceApply) d.setRun({ pending_patches: Math.max(0, d.run.pending_patches - 1) })
  for (const id of d.nodeIds()) {
    const n = d.peek(id)
    if (n?.status !== 'pending') continue
    const keys = new Set(ir.in[id].map((i) => ir.edges[i].key))
    const arrivals = Object.entries(n.arrivals)
    if (arrivals.some(([k]) => !keys.has(k)) || [...keys].some((k) => !(k in n.arrivals))) {
      const node = d.node(id)
      for (const [k] of arrivals) if (!keys.has(k)) delete node.arrivals[k]
      for (const k of keys) {
        const source = d.peek(k.slice(0, k.indexOf('->')))
        // A new edge from a node that already routed can no longer deliver a token.
        if (!(k in node.arrivals) && source && FINISHED_NODE_STATUSES.includes(source.status))
          node.arrivals[k] = 'dead'
      }
    }
  }
  const applied: PatchRecord = {
    ...record,
    status: 'applied',
    ir_version: version,
    // `principal` submits a new patch, or approves the pending one (forceApply).
    decided_by: opts.forceApply ? (opts.principal ?? null) : null,
    decided_at: now,
  }
  d.patch = applied
  d.emit('patch_applied', undefined, {
    patch_id: applied.id,
    ir_version: version,
    operations: applied.operations.length,
    reason: applied.reason,
  })
  await reconsiderPending(d, added)
  return applied
}

/** Rejects a pending patch: nothing changes but the patch record; a quiet run may now end. */
export function rejectPatch(
  d: Draft,
  patch: PatchRecord,
  reason?: string,
  principal?: string
): PatchRecord {
  if (isTerminalRun(d.run.status))
    throw new AobError(ErrorCode.RunFinished, `run ${d.run.id} already ${d.run.status}`)
  d.patch = { ...patch, status: 'rejected', decided_by: principal ?? null, decided_at: d.now() }
  d.setRun({ pending_patches: Math.max(0, d.run.pending_patches - 1) })
  d.emit('patch_rejected', undefined, { patch_id: patch.id, reason: reason ?? null })
  settle(d)
  return d.patch
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/

/** Throws INVALID_PATCH when `op`'s path (or from) does not name a place it may use in `doc`. */
function pointerError(doc: unknown, op: PatchOperation, index: number): void {
  const check = (pointer: string, field: 'path' | 'from', mustExist: boolean) => {
    const fail = (message: string) => {
      throw new AobError(ErrorCode.InvalidPatch, `operation ${index} (${op.op}): ${message}`, [
        { path: `/operations/${index}/${field}`, message },
      ])
    }
    const segments = pointer
      .split('/')
      .slice(1)
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    let cur: unknown = doc
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]
      const last = i === segments.length - 1
      if (Array.isArray(cur)) {
        if (last && !mustExist && seg === '-') return
        if (!ARRAY_INDEX.test(seg))
          fail(
            `"${seg.slice(0, 40)}" in ${pointer.slice(0, 200)} is not an array index (0, or digits without a leading zero${!mustExist && last ? ', or -' : ''})`
          )
        const n = Number(seg)
        const max = last && !mustExist ? cur.length : cur.length - 1
        if (!Number.isSafeInteger(n) || n > max)
          fail(
            `index ${seg.slice(0, 40)} in ${pointer.slice(0, 200)} is out of bounds (the array has ${cur.length} items)`
          )
        cur = cur[n]
      } else if (cur !== null && typeof cur === 'object') {
        const has = Object.hasOwn(cur, seg)
        if (!has && (mustExist || !last))
          fail(`${pointer.slice(0, 200)} does not exist in the document`)
        cur = has ? (cur as Record<string, unknown>)[seg] : undefined
      } else {
        fail(`${pointer.slice(0, 200)} goes through a value that is not an object or array`)
      }
    }
  }
  const adds = op.op === 'add' || op.op === 'move' || op.op === 'copy'
  if (op.op === 'move' || op.op === 'copy') check(op.from, 'from', true)
  check(op.path, 'path', !adds)
}

function firstLine(s: string): string {
  return s.split('\n')[0]
}
