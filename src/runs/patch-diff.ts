/**
 * A patch as a readable diff of the run's document before and after it (jsdiff's unified
 * format), from the public API's reads — shared by `aob patch show` and the web UI.
 * @module
 */
import { createTwoFilesPatch } from 'diff'
import jsonpatch, { type Operation } from 'fast-json-patch'

export interface PatchView {
  patch_id: string
  run_id: string
  status: string
  operations: unknown[]
  ir_version: number | null
}

/** GET on the API (path under /api/v1), parsed. */
export type ApiGet = <T>(path: string) => Promise<T>

/** The run's document just before `patch` (its workflow with the patches applied before it) and after. */
export async function documentsAround(get: ApiGet, patch: PatchView) {
  const run = await get<{ workflow_id: string }>(`/runs/${patch.run_id}`)
  const wf = await get<{ document: unknown }>(`/workflows/${run.workflow_id}`)
  const { patches } = await get<{ patches: PatchView[] }>(`/runs/${patch.run_id}/patches`)
  let before = wf.document
  for (const p of patches.filter((x) => x.status === 'applied' && x.patch_id !== patch.patch_id))
    if (patch.status !== 'applied' || (p.ir_version ?? 0) < (patch.ir_version ?? 0))
      before = apply(before, p.operations)
  return { before, after: apply(before, patch.operations) }
}

/** The unified diff of the document before and after `patch`. */
export async function patchDiff(get: ApiGet, patch: PatchView): Promise<string> {
  const { before, after } = await documentsAround(get, patch)
  return createTwoFilesPatch(
    'before',
    'after',
    `${JSON.stringify(before, null, 2)}\n`,
    `${JSON.stringify(after, null, 2)}\n`,
    '',
    '',
    { context: 3 }
  )
}

function apply(doc: unknown, operations: unknown[]): unknown {
  return jsonpatch.applyPatch(structuredClone(doc), operations as Operation[], false, false)
    .newDocument
}
