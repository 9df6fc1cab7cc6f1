/**
 * Replay: a new run that keeps the recorded outputs of every node not downstream of the replay
 * roots and runs the roots and their descendants again.
 * @module
 */
import { AobError, ErrorCode } from '../errors.ts'
import { own } from '../model/dict.ts'
import { descendants } from '../model/ir.ts'
import type { Draft } from './draft.ts'
import { activate, settle } from './route.ts'
import type { RunState } from './state.ts'

/** The replay roots: `from`, or else every failed or cancelled node of the old run. */
export function replayRoots(old: RunState, from?: string): string[] {
  if (from !== undefined) {
    if (!own(old.run.ir.nodes, from))
      throw new AobError(ErrorCode.InvalidInput, `node "${from}" is not in run ${old.run.id}`, [
        { path: '/from', message: 'unknown node' },
      ])
    return [from]
  }
  const roots = Object.entries(old.nodes)
    .filter(([, n]) => n.status === 'failed' || n.status === 'cancelled')
    .map(([id]) => id)
  if (roots.length === 0) {
    throw new AobError(
      ErrorCode.Conflict,
      `run ${old.run.id} has no failed or cancelled node to replay from; pass "from"`
    )
  }
  return roots
}

/** Seeds the new run's draft from `old` and starts the roots. */
export async function startReplay(d: Draft, old: RunState, roots: string[]): Promise<void> {
  const region = descendants(d.ir, roots)
  for (const id of Object.keys(d.ir.nodes)) {
    const prev = old.nodes[id]
    if (!prev) continue
    if (!region.has(id)) {
      d.putNode(id, structuredClone(prev))
      continue
    }
    const node = d.node(id)
    for (const [key, kind] of Object.entries(prev.arrivals)) {
      if (!region.has(key.slice(0, key.indexOf('->')))) node.arrivals[key] = kind
    }
  }
  for (const edge of d.ir.edges) {
    if (edge.loop && !region.has(edge.from) && old.run.loops[edge.key])
      d.run.loops[edge.key] = old.run.loops[edge.key]
  }
  d.setRun({ status: 'running' })
  d.emit('run_started', undefined, {
    workflow_id: d.run.workflow_id,
    ir_version: d.run.ir_version,
    replay_of: old.run.id,
    from: roots,
  })
  const minimal = roots.filter(
    (r) => !roots.some((other) => other !== r && descendants(d.ir, [other]).has(r))
  )
  for (const id of minimal) await activate(d, id)
  settle(d)
}
