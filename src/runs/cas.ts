/**
 * Node outputs over 64 KiB live in the content-addressed store (`cas:sha256:<hex>`), as one
 * layer around the Store (`withCas`): a transition's large outputs are put there before the
 * commit and referenced from node states, events and the run output; a loaded state gets them
 * back (keeping `output_ref`) before anything routes on it. Nothing above the store sees refs
 * but the API's views, which show them unless asked to resolve.
 * @module
 */
import type { RunState, Transition } from '../engine/state.ts'
import type { Store } from '../ports/store.ts'
import { dict, dictOf } from '../model/dict.ts'

export const CAS_THRESHOLD_BYTES = 64 * 1024

function refOf(json: string): string {
  return `cas:sha256:${new Bun.CryptoHasher('sha256').update(json).digest('hex')}`
}

/** The transition as stored: large outputs replaced by refs (the given one is not changed). */
async function offloadOutputs(store: Store, t: Transition): Promise<Transition> {
  // One output often appears twice (node state and event): decide once per value.
  const decided = new Map<unknown, string | null>()
  const offload = async (value: unknown): Promise<string | null> => {
    if (
      value === undefined ||
      value === null ||
      (typeof value !== 'object' && typeof value !== 'string')
    )
      return null
    // A string cannot grow more than 6× in JSON (\uXXXX): short ones need no serialising.
    if (typeof value === 'string' && value.length * 6 + 2 <= CAS_THRESHOLD_BYTES) return null
    if (decided.has(value)) return decided.get(value) ?? null
    const json = JSON.stringify(value)
    let ref: string | null = null
    if (Buffer.byteLength(json) > CAS_THRESHOLD_BYTES) {
      ref = refOf(json)
      await store.putBlob(ref, json)
    }
    decided.set(value, ref)
    return ref
  }
  let changed = false
  const nodes: Transition['nodes'] = dict()
  for (const [id, node] of Object.entries(t.nodes)) {
    // An output read back from the CAS keeps its ref (the engine drops the ref when it sets a new one).
    const ref =
      node?.output_ref && node.output !== undefined
        ? node.output_ref
        : node
          ? await offload(node.output)
          : null
    if (node && ref) {
      const { output: _o, ...rest } = node
      nodes[id] = { ...rest, output_ref: ref }
      changed = true
    } else nodes[id] = node
  }
  const events = await Promise.all(
    t.events.map(async (e) => {
      const ref = 'output' in e.data ? await offload(e.data.output) : null
      if (!ref) return e
      changed = true
      const { output: _o, ...data } = e.data
      return { ...e, data: { ...data, output_ref: ref } }
    })
  )
  let run = t.run
  if (t.run.output && typeof t.run.output === 'object') {
    const output = dict<unknown>()
    for (const [id, value] of Object.entries(t.run.output as Record<string, unknown>)) {
      const ref = await offload(value)
      output[id] = ref ? { output_ref: ref } : value
      if (ref) changed = true
    }
    run = { ...t.run, output }
  }
  return changed ? { ...t, nodes, events, run } : t
}

/** The state with every referenced output read back from the CAS. */
async function resolveOutputs(store: Store, state: RunState): Promise<RunState> {
  const refs = Object.entries(state.nodes).filter(([, n]) => n.output_ref && n.output === undefined)
  if (refs.length === 0) return state
  const nodes = dictOf(state.nodes)
  for (const [id, node] of refs) {
    const data = await store.getBlob(node.output_ref as string)
    nodes[id] = { ...node, output: data === null ? null : JSON.parse(data) }
  }
  return { ...state, nodes }
}

/** The store with large outputs offloaded on every write and resolved on every load. */
export function withCas(store: Store): Store {
  return {
    ...store,
    async createRun(run, first) {
      return store.createRun(run, await offloadOutputs(store, first))
    },
    async commitTransition(base, t) {
      return store.commitTransition(base, await offloadOutputs(store, t))
    },
    async loadRun(id) {
      const state = await store.loadRun(id)
      return state ? resolveOutputs(store, state) : null
    },
  }
}

/** The run output with each `{output_ref}` entry read back from the CAS. */
export async function resolveRunOutput(store: Store, output: unknown): Promise<unknown> {
  if (!output || typeof output !== 'object') return output
  const out = dict<unknown>()
  for (const [id, value] of Object.entries(output as Record<string, unknown>)) {
    const ref =
      value && typeof value === 'object' && 'output_ref' in value
        ? String((value as { output_ref: unknown }).output_ref)
        : null
    const data = ref ? await store.getBlob(ref) : null
    out[id] = ref ? (data === null ? null : JSON.parse(data)) : value
  }
  return out
}
