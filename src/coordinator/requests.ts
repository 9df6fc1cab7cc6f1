/**
 * The request lane's answers: a worker (which talks only to the bus) asks a coordinator for what
 * needs the store, and the coordinator runs it through the very code the API uses. Kinds:
 * - `patch`: the agent's patch_workflow — the rules of `POST /runs/:id/patch` (engine/patch.ts),
 *   submitted by `agent:<run>/<node>`, held for approval under the node's policy or taint, and
 *   idempotent by the request id (a resumed agent asking again gets the same patch);
 * - `emit`: events of a running node (agent_turn, log), each once by its key;
 * - `tool_get`, `tool_search`: the composite tool registry; `api_get`: a registered OpenAPI
 *   document (the worker adds the credential from its own environment).
 * @module
 */
import * as v from 'valibot'
import { patchRun, PatchOperations, PatchReason } from '../engine/patch.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { issuesToDetails } from '../model/issues.ts'
import { jsonProblem } from '../model/json-bounds.ts'
import type { Reply, Request } from '../model/messages.ts'
import { record, strictObject } from '../model/schema.ts'
import { searchTools } from '../model/tool-record.ts'
import { rateLimited, spendBudget, tierRaiseAdmit } from '../runs/budgets.ts'
import { transact } from '../runs/transact.ts'
import type { Tier } from '../model/stats.ts'
import type { Draft } from '../engine/draft.ts'

const NodeId = v.pipe(v.string(), v.minLength(1), v.maxLength(200))
const AgentPatch = strictObject({
  operations: PatchOperations,
  reason: PatchReason,
  /** The agent node asking (its principal submits the patch). */
  node_id: v.optional(NodeId),
  tainted: v.optional(v.boolean()),
})
const Emit = strictObject({
  node_id: NodeId,
  epoch: v.pipe(v.number(), v.integer(), v.minValue(0)),
  events: v.pipe(
    v.array(
      strictObject({
        key: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
        type: v.picklist(['agent_turn', 'log']),
        data: record(v.string(), v.unknown()),
      })
    ),
    v.maxLength(100)
  ),
})
const ToolGet = strictObject({ name: v.pipe(v.string(), v.maxLength(64)) })
const ToolSearch = strictObject({
  query: v.pipe(v.string(), v.maxLength(200)),
  names: v.optional(v.array(v.pipe(v.string(), v.maxLength(64)))),
})
/** Keys of sent events kept per node activation (enough for max_turns × delegations). */
const MAX_EMITTED_KEYS = 2_000

function parsed<S extends v.GenericSchema>(schema: S, payload: unknown): v.InferOutput<S> {
  const res = v.safeParse(schema, payload)
  if (!res.success)
    throw new AobError(
      ErrorCode.BadRequest,
      'request payload does not match the expected shape',
      issuesToDetails(res.issues)
    )
  return res.output
}

export async function answerRequest(kernel: Kernel, req: Request): Promise<Reply> {
  try {
    return { id: req.id, ok: true, value: await answer(kernel, req) }
  } catch (e) {
    if (e instanceof AobError)
      return {
        id: req.id,
        ok: false,
        error: {
          code: e.code,
          message: e.message,
          details: e.details,
          ...(e.code === ErrorCode.InvalidPatch || e.code === ErrorCode.PatchConflict
            ? { example: (e as AobError & { example?: unknown }).example }
            : {}),
        },
      }
    kernel.log.error(
      { err: e, request: req.id, kind: req.kind, run_id: req.run_id },
      'request failed'
    )
    return { id: req.id, ok: false, error: { code: ErrorCode.Internal, message: 'internal error' } }
  }
}

async function answer(kernel: Kernel, req: Request): Promise<unknown> {
  const runId = req.run_id as RunId
  switch (req.kind) {
    case 'patch': {
      const body = v.safeParse(AgentPatch, req.payload)
      if (!body.success)
        throw new AobError(
          ErrorCode.InvalidPatch,
          'request payload does not match the expected shape',
          issuesToDetails(body.issues)
        )
      const { operations, reason, node_id, tainted } = body.output
      const { value } = await transact(
        kernel,
        runId,
        async (d) => {
          const earlier = (await kernel.store.listPatches(runId)).find(
            (p) => p.request_id === req.id
          )
          if (earlier) return earlier
          try {
            return await patchRun(d, operations, {
              reason,
              limits: kernel.config.limits,
              principal: node_id ? `agent:${runId}/${node_id}` : req.principal,
              policy: tainted ? 'approve' : node_id ? nodePolicy(d, node_id) : undefined,
              tainted,
              requestId: req.id,
              // An agent adding agents spends the budget of whoever started the run.
              admit: tierRaiseAdmit((tier) => spendCreatorBudget(kernel, d.run.created_by, tier)),
            })
          } catch (e) {
            if (e instanceof AobError) Object.assign(e, { example: examplePatch(d) })
            throw e
          }
        },
        { durableDispatch: true }
      )
      return { patch_id: value.id, status: value.status, ir_version: value.ir_version }
    }
    case 'emit': {
      const body = parsed(Emit, req.payload)
      const problem = jsonProblem(body.events, kernel.config.limits.maxJsonDepth)
      if (problem)
        throw new AobError(ErrorCode.BadRequest, `events out of bounds: ${problem.message}`)
      const { value } = await transact(kernel, runId, (d) => {
        const node = d.peek(body.node_id)
        // Only the activation that is running may speak; a stale worker's events are dropped.
        if (!node || node.status !== 'running' || node.epoch !== body.epoch) return 0
        const seen = new Set(node.emitted ?? [])
        const fresh = body.events.filter((e) => !seen.has(e.key))
        if (fresh.length === 0) return 0
        for (const e of fresh) d.emit(e.type, body.node_id, e.data)
        d.node(body.node_id).emitted = [...(node.emitted ?? []), ...fresh.map((e) => e.key)].slice(
          -MAX_EMITTED_KEYS
        )
        return fresh.length
      })
      return { emitted: value }
    }
    case 'tool_get': {
      const { name } = parsed(ToolGet, req.payload)
      return kernel.store.getTool(name)
    }
    case 'api_get': {
      const { name } = parsed(ToolGet, req.payload)
      return kernel.store.getApi(name)
    }
    case 'tool_search': {
      const { query, names } = parsed(ToolSearch, req.payload)
      const tools = searchTools(await kernel.store.listTools(), query, names)
      return {
        tools: tools.map((t) => ({
          name: t.name,
          description: t.description,
          input_schema: t.input_schema,
        })),
      }
    }
  }
}

/** The agent node's own patch_policy, unless it inherits the workflow's. */
function nodePolicy(d: Draft, nodeId: string): 'auto' | 'approve' | undefined {
  const policy = (d.ir.nodes[nodeId]?.config as { patch_policy?: string } | undefined)?.patch_policy
  return policy === 'auto' || policy === 'approve' ? policy : undefined
}

/** A patch that is valid for this run as it stands: one new node that starts at once. */
function examplePatch(d: Draft) {
  let id = 'followup'
  for (let i = 2; d.peek(id) || d.ir.nodes[id]; i++) id = `followup_${i}`
  return {
    operations: [{ op: 'add', path: '/nodes/-', value: { id, type: 'noop' } }],
    reason: 'what the change is for',
  }
}

/** A tier-raising agent patch spends its run creator's budget (their role from the tokens). */
async function spendCreatorBudget(kernel: Kernel, creator: string | null, tier: Tier) {
  const name = creator ?? 'unknown'
  const role = kernel.config.tokens.find((g) => g.principal === name)?.role ?? 'operator'
  const spent = await spendBudget(kernel, { name, role }, tier)
  if (spent && !spent.admission.allowed) throw rateLimited(spent, name)
}
