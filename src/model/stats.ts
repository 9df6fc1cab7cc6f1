/**
 * What `validate` reports of a workflow's shape (SPEC §4, §6): node, edge and agent counts, and
 * the rate tier its agent count puts it in (0 agents `simple`, 1–2 `standard`, 3+ `heavy`).
 * @module
 */
export type Tier = 'simple' | 'standard' | 'heavy'

export interface WorkflowStats {
  nodes: number
  edges: number
  agents: number
  tier: Tier
}

export function tierOf(agents: number): Tier {
  return agents === 0 ? 'simple' : agents <= 2 ? 'standard' : 'heavy'
}

/** The stats of a document (counting what is there, valid or not). */
export function workflowStats(doc: unknown): WorkflowStats {
  const d = (doc && typeof doc === 'object' && !Array.isArray(doc) ? doc : {}) as {
    nodes?: unknown
    edges?: unknown
  }
  const nodes = Array.isArray(d.nodes) ? d.nodes : []
  const edges = Array.isArray(d.edges) ? d.edges : []
  const agents = nodes.filter(
    (n) => n && typeof n === 'object' && (n as { type?: unknown }).type === 'agent'
  ).length
  return { nodes: nodes.length, edges: edges.length, agents, tier: tierOf(agents) }
}
