/** Storing workflows by content address and resolving a ref (id or tag). @module */
import { AobError, ErrorCode } from '../errors.ts'
import { isWorkflowId } from '../ids.ts'
import { workflowId } from '../model/canonical.ts'
import { validateWorkflow } from '../model/validate.ts'
import { NAME_PATTERN, type Limits, type Workflow } from '../model/workflow.ts'
import type { Kernel } from '../kernel.ts'
import { compileWorkflow, type Ir } from '../model/ir.ts'
import type { StoredWorkflow } from '../ports/store.ts'

// Workflows are content-addressed, so a stored one never changes: each process remembers the
// ones it has seen (Kernel.state.workflows) and skips the round trips for them.
type WorkflowKernel = Pick<Kernel, 'store' | 'state'>

/** Validates and stores `doc`; throws INVALID_WORKFLOW (422) with every problem found. */
export async function storeWorkflow(
  kernel: WorkflowKernel,
  doc: unknown,
  limits: Limits
): Promise<{ id: string; workflow: Workflow; created: boolean }> {
  const result = validateWorkflow(doc, limits)
  if (!result.valid)
    throw new AobError(ErrorCode.InvalidWorkflow, 'the workflow is invalid', result.errors)
  const workflow = result.workflow as Workflow
  const id = workflowId(doc)
  const { store, state } = kernel
  if (state.workflows.has(id)) return { id, workflow, created: false }
  const stored = { id, name: workflow.name, document: doc, created_at: new Date().toISOString() }
  const { created } = await store.putWorkflow(stored)
  // Remember the stored copy (an existing one keeps its own created_at).
  state.workflows.set(id, created ? stored : ((await store.getWorkflow(id)) ?? stored))
  return { id, workflow, created }
}

/** A workflow by id or tag name; throws WORKFLOW_NOT_FOUND. */
export async function resolveWorkflow(
  kernel: WorkflowKernel,
  ref: string
): Promise<StoredWorkflow> {
  const { store, state } = kernel
  let id = ref
  if (!isWorkflowId(ref)) {
    const tag = await store.getTag(ref)
    if (!tag) throw new AobError(ErrorCode.WorkflowNotFound, `no workflow with id or tag "${ref}"`)
    id = tag.workflow_id
  }
  const wf = state.workflows.get(id) ?? (await store.getWorkflow(id))
  if (!wf) throw new AobError(ErrorCode.WorkflowNotFound, `no workflow with id or tag "${ref}"`)
  state.workflows.set(id, wf)
  return wf
}

export function checkTagName(name: string): void {
  if (!NAME_PATTERN.test(name) || /^wf_[0-9a-f]{16}$/.test(name)) {
    throw new AobError(
      ErrorCode.BadRequest,
      `invalid tag name "${name}": 1-64 of [a-z0-9._-], and not shaped like a workflow id`
    )
  }
}

export interface RunnableWorkflow {
  id: string
  workflow: Workflow
  ir: Ir
}

/**
 * A workflow ready to run, by ref (id or tag) or as an inline document (stored on the way):
 * validated and compiled once per id per process (content-addressed: an id never names another
 * document). Throws WORKFLOW_NOT_FOUND or INVALID_WORKFLOW.
 */
export async function runnableWorkflow(
  kernel: WorkflowKernel,
  ref: string | Record<string, unknown>,
  limits: Limits,
  /** Called with the valid workflow before an inline one is stored (a refusal stores nothing). */
  admit: (workflow: Workflow) => Promise<void> = async () => {}
): Promise<RunnableWorkflow> {
  const { runnable } = kernel.state
  if (typeof ref !== 'string') {
    const id = workflowId(ref)
    const hit = runnable.get(id)
    if (hit && kernel.state.workflows.has(id)) {
      await admit(hit.workflow)
      return { id, ...hit }
    }
    const checked = validateWorkflow(ref, limits)
    if (checked.valid) await admit(checked.workflow as Workflow)
    const stored = await storeWorkflow(kernel, ref, limits)
    const entry = { workflow: stored.workflow, ir: compileWorkflow(stored.workflow) }
    runnable.set(stored.id, entry)
    return { id: stored.id, ...entry }
  }
  const wf = await resolveWorkflow(kernel, ref)
  const hit = runnable.get(wf.id)
  if (hit) {
    await admit(hit.workflow)
    return { id: wf.id, ...hit }
  }
  const checked = validateWorkflow(wf.document, limits)
  if (!checked.valid) {
    throw new AobError(
      ErrorCode.InvalidWorkflow,
      `stored workflow ${wf.id} no longer validates`,
      checked.errors
    )
  }
  const workflow = checked.workflow as Workflow
  const entry = { workflow, ir: compileWorkflow(workflow) }
  runnable.set(wf.id, entry)
  await admit(workflow)
  return { id: wf.id, ...entry }
}
