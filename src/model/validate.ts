/**
 * The workflow validator: schema, per-type configs, expressions, graph rules and limits.
 * Returns every problem found, never throws on bad input.
 * @module
 */
import * as v from 'valibot'
import type { ErrorDetail } from '../errors.ts'
import { expressionSyntaxError } from '../expr/expression.ts'
import { templateErrors } from '../expr/template.ts'
import { issuesToDetails } from './issues.ts'
import { jsonProblem } from './json-bounds.ts'
import { NODE_TYPES } from './node-configs.ts'
import { DEFAULT_LIMITS, WorkflowSchema, type Limits, type Workflow } from './workflow.ts'

export interface ValidationResult {
  valid: boolean
  errors: ErrorDetail[]
  warnings: ErrorDetail[]
  /** The parsed document when valid. */
  workflow?: Workflow
}

export function validateWorkflow(doc: unknown, limits: Limits = DEFAULT_LIMITS): ValidationResult {
  const errors: ErrorDetail[] = []
  const warnings: ErrorDetail[] = []
  const done = (): ValidationResult => ({ valid: errors.length === 0, errors, warnings })

  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    errors.push({ path: '/', message: 'a workflow must be a JSON object' })
    return done()
  }
  const deep = jsonProblem(doc, limits.maxJsonDepth)
  if (deep) {
    errors.push(deep)
    return done()
  }
  const bytes = Buffer.byteLength(JSON.stringify(doc))
  if (bytes > limits.maxDocumentBytes) {
    errors.push({
      path: '/',
      message: `document is ${bytes} bytes, over the limit of ${limits.maxDocumentBytes}`,
    })
    return done()
  }
  const parsed = v.safeParse(WorkflowSchema, doc)
  if (!parsed.success) {
    errors.push(...issuesToDetails(parsed.issues))
    return done()
  }
  const wf = parsed.output
  const edges = wf.edges ?? []

  if (wf.nodes.length > limits.maxNodes) {
    errors.push({
      path: '/nodes',
      message: `${wf.nodes.length} nodes, over the limit of ${limits.maxNodes}`,
    })
  }
  if (edges.length > limits.maxEdges) {
    errors.push({
      path: '/edges',
      message: `${edges.length} edges, over the limit of ${limits.maxEdges}`,
    })
  }
  const agents = wf.nodes.filter((n) => n.type === 'agent').length
  if (agents > limits.maxAgentsPerRun) {
    errors.push({
      path: '/nodes',
      message: `${agents} agent nodes, over the limit of ${limits.maxAgentsPerRun} per run`,
    })
  }

  const types = new Map<string, string>()
  wf.nodes.forEach((node, i) => {
    const at = `/nodes/${i}`
    if (types.has(node.id))
      errors.push({ path: `${at}/id`, message: `duplicate node id "${node.id}"` })
    types.set(node.id, node.type)
    const def = NODE_TYPES[node.type]
    const config = node.config ?? {}
    if (!def) {
      warnings.push({
        path: `${at}/type`,
        message: `unknown node type "${node.type}": the node will be skipped at run time`,
      })
    } else {
      const res = v.safeParse(def.config, config)
      if (!res.success) errors.push(...issuesToDetails(res.issues, `${at}/config`))
      else
        for (const e of def.check?.(config) ?? [])
          errors.push({ path: `${at}/config${e.path}`, message: e.message })
    }
    errors.push(...templateErrors(config, `${at}/config`))
  })

  const seenEdges = new Set<string>()
  edges.forEach((edge, i) => {
    const at = `/edges/${i}`
    for (const end of ['from', 'to'] as const) {
      if (!types.has(edge[end]))
        errors.push({ path: `${at}/${end}`, message: `unknown node "${edge[end]}"` })
    }
    const key = `${edge.from}->${edge.to}`
    if (seenEdges.has(key)) errors.push({ path: at, message: `duplicate edge ${key}` })
    seenEdges.add(key)
    if (
      (edge.on === 'approve' || edge.on === 'reject') &&
      types.has(edge.from) &&
      types.get(edge.from) !== 'hitl'
    ) {
      errors.push({
        path: `${at}/on`,
        message: `on: "${edge.on}" needs a hitl source node, "${edge.from}" is ${types.get(edge.from)}`,
      })
    }
    if (edge.when !== undefined) {
      const err = expressionSyntaxError(edge.when)
      if (err) errors.push({ path: `${at}/when`, message: err })
    }
  })

  if (errors.length === 0) {
    const cycle = findCycle(wf)
    if (cycle) {
      errors.push({
        path: '/edges',
        message: `cycle ${cycle.join(' -> ')} has no edge with max_iterations (every loop must be bounded)`,
      })
    }
    edges.forEach((edge, i) => {
      if (edge.max_iterations !== undefined && !reaches(wf, edge.to, edge.from)) {
        warnings.push({
          path: `/edges/${i}/max_iterations`,
          message: `edge ${edge.from}->${edge.to} closes no cycle`,
        })
      }
    })
  }
  const result = done()
  if (result.valid) result.workflow = wf
  return result
}

// --- internal ---

/** A cycle among edges without `max_iterations`, as a node path, or null. */
function findCycle(wf: Workflow): string[] | null {
  const next = new Map<string, string[]>()
  for (const e of wf.edges ?? []) {
    if (e.max_iterations !== undefined) continue
    next.set(e.from, [...(next.get(e.from) ?? []), e.to])
  }
  const state = new Map<string, 1 | 2>()
  const stack: string[] = []
  const visit = (id: string): string[] | null => {
    state.set(id, 1)
    stack.push(id)
    for (const to of next.get(id) ?? []) {
      if (state.get(to) === 1) return [...stack.slice(stack.indexOf(to)), to]
      if (!state.has(to)) {
        const found = visit(to)
        if (found) return found
      }
    }
    stack.pop()
    state.set(id, 2)
    return null
  }
  for (const n of wf.nodes) {
    if (!state.has(n.id)) {
      const found = visit(n.id)
      if (found) return found
    }
  }
  return null
}

function reaches(wf: Workflow, from: string, to: string): boolean {
  const seen = new Set<string>([from])
  const queue = [from]
  while (queue.length) {
    const id = queue.shift() as string
    if (id === to) return true
    for (const e of wf.edges ?? []) {
      if (e.from === id && !seen.has(e.to)) {
        seen.add(e.to)
        queue.push(e.to)
      }
    }
  }
  return false
}
