/**
 * The Store on Postgres (postgres.js). Each method is one statement or one transaction; a run
 * transition is one call of aob_commit_transitions (sql/migrations/0002), which also takes
 * many at once. The materialized document and IR of each run version are immutable, so they
 * are cached by (run, version).
 * @module
 */
import postgres, { type Sql } from 'postgres'
import { AobError, completionRecorded, ErrorCode } from '../../errors.ts'
import type { RunId } from '../../ids.ts'
import type { Ir } from '../../model/ir.ts'
import type { Workflow } from '../../model/workflow.ts'
import {
  completionsOf,
  numberEvents,
  type ApprovalRecord,
  type NodeState,
  type PatchRecord,
  type RunEvent,
  type RunRecord,
  type Transition,
} from '../../engine/state.ts'
import type { DueApproval, Store, StoredWorkflow, TagMove, TagRecord } from '../../ports/store.ts'
import { BoundedMap } from '../../bounded-map.ts'
import { createBatcher } from './batcher.ts'
import { checkTagExpectation } from '../../model/tags.ts'
import { dict, dictOf } from '../../model/dict.ts'
import { reviveIr } from '../../model/ir.ts'
import type { ApiRecord } from '../../model/openapi.ts'
import type { ToolRecord } from '../../model/tool-record.ts'
import { isFreshNode, newNodeState } from '../../engine/draft.ts'

export interface PostgresStoreOptions {
  /** Tables are looked up in this schema (tests isolate with one schema per file). */
  schema?: string
  max?: number
}

const IR_CACHE_LIMIT = 5_000

export function createPostgresStore(
  url: string,
  opts: PostgresStoreOptions = {}
): Store & { sql: Sql } {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    idle_timeout: 60,
    max_lifetime: 30 * 60,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: 'aob', ...(opts.schema ? { search_path: opts.schema } : {}) },
  })
  const irCache = new BoundedMap<string, { document: Workflow; ir: Ir }>(IR_CACHE_LIMIT)

  const versionOf = async (runId: string, irVersion: number) => {
    const key = `${runId}:${irVersion}`
    const hit = irCache.get(key)
    if (hit) return hit
    const [row] = await sql<
      { document: Workflow; ir: Ir }[]
    >`SELECT document, ir FROM run_irs WHERE run_id = ${runId} AND ir_version = ${irVersion}`
    if (!row)
      throw new AobError(
        ErrorCode.Internal,
        `[aob] [postgres-store] run ${runId} has no IR version ${irVersion}`
      )
    const version = { document: row.document, ir: reviveIr(row.ir) }
    irCache.set(key, version)
    return version
  }

  const toRecord = async (row: RunRow): Promise<RunRecord> => {
    const { document, ir } = await versionOf(row.id, row.ir_version)
    return {
      ...row.record,
      id: row.id as RunId,
      workflow_id: row.workflow_id,
      status: row.status,
      idempotency_key: row.idempotency_key,
      version: row.version,
      last_seq: row.last_seq,
      ir_version: row.ir_version,
      updated_at: iso(row.updated_at),
      document,
      ir,
    } as RunRecord
  }

  /** The function's item for `t` on top of `run`, and the events it numbers. */
  const itemOf = (run: RunRecord, t: Transition) => {
    const events = numberEvents(run, t.events)
    const next = { ...run, ...t.run }
    const nodes = dict<NodeState>()
    const removed: string[] = []
    for (const [id, state] of Object.entries(t.nodes)) {
      if (state === null) removed.push(id)
      else nodes[id] = state
    }
    // The ledger of completions: one row per node activation (its iteration), refused twice.
    const completions = completionsOf(t)
    const irChanged = t.run.ir !== undefined
    const item = {
      run_id: run.id,
      expected_version: run.version,
      status: next.status,
      record: recordChanged(t) ? recordColumns(next) : null,
      ir_version: next.ir_version,
      document: irChanged ? next.document : null,
      ir: irChanged ? next.ir : null,
      nodes,
      removed,
      events,
      completions,
      patch: t.patch ?? null,
      ...(t.approvals?.length ? { approvals: t.approvals } : {}),
      dispatch_pending: t.dispatchPending ?? false,
    }
    return { item, events, irChanged, next }
  }

  const settle = (
    status: string,
    run: RunRecord,
    prepared: ReturnType<typeof itemOf>
  ): RunEvent[] => {
    if (status === 'conflict')
      throw new AobError(
        ErrorCode.VersionConflict,
        `run ${run.id} moved past version ${run.version}`
      )
    if (status === 'missing') throw new AobError(ErrorCode.RunNotFound, `run ${run.id} not found`)
    if (prepared.irChanged)
      irCache.set(`${run.id}:${prepared.next.ir_version}`, {
        document: prepared.next.document,
        ir: prepared.next.ir,
      })
    return prepared.events
  }

  // Transitions (of any runs) committed while a call is in flight go together in the next
  // call, each still version-checked and all-or-nothing on its own.
  type Commit = { run: RunRecord; prepared: ReturnType<typeof itemOf> }
  // Rows are locked in run-id order by every batched statement (commits and clears, of any
  // process), so two batches wait for each other but never deadlock.
  const commits = createBatcher<Commit, string, RunEvent[]>({
    async call(items) {
      const order = items
        .map((_, i) => i)
        .sort((a, b) => (items[a].run.id < items[b].run.id ? -1 : 1))
      const [row] = await sql<
        { statuses: string[] }[]
      >`SELECT aob_commit_transitions(${sql.json(order.map((i) => items[i].prepared.item) as never)}) AS statuses`
      const statuses: string[] = []
      order.forEach((i, k) => {
        statuses[i] = row.statuses[k]
      })
      return statuses
    },
    settle: (c, status) => settle(status, c.run, c.prepared),
    // One bad item (a completion committed twice) must not fail the others.
    error: (c, e) => ledgerError(e, c.run.id),
  })
  const enqueue = (run: RunRecord, t: Transition) => commits.run({ run, prepared: itemOf(run, t) })

  // Concurrent run creations (POST /runs) go together too.
  type Creation = {
    run: RunRecord
    first: Transition
    prepared: ReturnType<typeof itemOf>
    item: unknown
  }
  const creations = createBatcher<Creation, string | null, string | null>({
    async call(items) {
      const [row] = await sql<
        { existing: (string | null)[] }[]
      >`SELECT aob_create_runs(${sql.json(items.map((c) => c.item) as never)}) AS existing`
      return row.existing
    },
    settle: (_c, existing) => existing,
  })

  // Clearing a pending dispatch is not urgent (a lost clear costs one more dispatch): the clears
  // of many runs go in one statement.
  const clears = createBatcher<string, null, void>({
    async call(ids) {
      // In id order, like commits (see above); rows already clear are not touched.
      await sql`UPDATE runs SET dispatch_pending_at = NULL WHERE id IN (SELECT id FROM runs WHERE id = ANY(${[...ids].sort()}) AND dispatch_pending_at IS NOT NULL ORDER BY id FOR UPDATE)`
      return ids.map(() => null)
    },
    settle: () => undefined,
    max: 1_000,
  })

  return {
    sql,
    async putWorkflow(wf) {
      const rows =
        await sql`INSERT INTO workflows (id, name, document, created_at) VALUES (${wf.id}, ${wf.name}, ${sql.json(wf.document as never)}, ${wf.created_at}) ON CONFLICT (id) DO NOTHING RETURNING id`
      return { created: rows.length > 0 }
    },
    async getWorkflow(id) {
      const [row] = await sql<WorkflowRow[]>`SELECT * FROM workflows WHERE id = ${id}`
      return row ? toWorkflow(row) : null
    },
    async listWorkflows({ limit, name }) {
      const rows = name
        ? await sql<
            WorkflowRow[]
          >`SELECT * FROM workflows WHERE name = ${name} ORDER BY created_at DESC, id LIMIT ${limit}`
        : await sql<
            WorkflowRow[]
          >`SELECT * FROM workflows ORDER BY created_at DESC, id LIMIT ${limit}`
      return rows.map(toWorkflow)
    },
    async moveTag(name, workflowId, expect) {
      return sql.begin(async (tx) => {
        // One mover of a tag at a time, whether or not the tag exists yet.
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`aob.tag.${name}`}))`
        const [locked] = await tx<
          { workflow_id: string; updated_at: Date }[]
        >`SELECT workflow_id, updated_at FROM tags WHERE name = ${name}`
        const currentId = locked?.workflow_id ?? null
        checkTagExpectation(name, currentId, expect)
        if (currentId === workflowId)
          return {
            name,
            workflow_id: workflowId,
            previous_id: currentId,
            moved_at: iso(locked!.updated_at),
          } satisfies TagMove
        const now = new Date().toISOString()
        await tx`INSERT INTO tags (name, workflow_id, updated_at) VALUES (${name}, ${workflowId}, ${now}) ON CONFLICT (name) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, updated_at = EXCLUDED.updated_at`
        await tx`INSERT INTO tag_moves (name, workflow_id, previous_id, moved_at) VALUES (${name}, ${workflowId}, ${currentId}, ${now})`
        return {
          name,
          workflow_id: workflowId,
          previous_id: currentId,
          moved_at: now,
        } satisfies TagMove
      }) as Promise<TagMove>
    },
    async getTag(name) {
      const [row] = await sql<TagRow[]>`SELECT * FROM tags WHERE name = ${name}`
      return row ? toTag(row) : null
    },
    async listTags() {
      return (await sql<TagRow[]>`SELECT * FROM tags ORDER BY name`).map(toTag)
    },
    async tagHistory(name) {
      const rows = await sql<
        { name: string; workflow_id: string; previous_id: string | null; moved_at: Date }[]
      >`SELECT name, workflow_id, previous_id, moved_at FROM tag_moves WHERE name = ${name} ORDER BY id DESC`
      return rows.map((r) => ({
        name: r.name,
        workflow_id: r.workflow_id,
        previous_id: r.previous_id,
        moved_at: iso(r.moved_at),
      }))
    },
    async createRun({ run, nodes }, first) {
      const prepared = itemOf(run, first)
      const row = {
        id: run.id,
        workflow_id: run.workflow_id,
        status: run.status,
        idempotency_key: run.idempotency_key,
        version: run.version,
        last_seq: run.last_seq,
        ir_version: run.ir_version,
        record: recordColumns(run),
      }
      const existing = await creations.run({
        run,
        first,
        prepared,
        // Fresh node states are not stored: a node without a row is pending (see loadRun).
        item: {
          run: row,
          document: run.document,
          ir: run.ir,
          nodes: storedNodes(nodes),
          first: prepared.item,
        },
      })
      if (existing) {
        const [found] = await sql<RunRow[]>`SELECT * FROM runs WHERE id = ${existing}`
        return { run: await toRecord(found), created: false, events: [] }
      }
      irCache.set(`${run.id}:${run.ir_version}`, { document: run.document, ir: run.ir })
      return {
        run: {
          ...run,
          ...first.run,
          version: run.version + 1,
          last_seq: run.last_seq + prepared.events.length,
        },
        created: true,
        events: prepared.events,
      }
    },
    async loadRun(id) {
      // A load is a cache miss of the caller (a run this process has not seen lately), so its
      // IR is most likely not cached either: one round trip brings both.
      const [row] = await sql<
        (RunRow & {
          nodes: Record<string, NodeState> | null
          version_doc: { document: Workflow; ir: Ir } | null
        })[]
      >`
        SELECT r.*, (SELECT jsonb_object_agg(n.node_id, n.state) FROM run_nodes n WHERE n.run_id = r.id) AS nodes,
               (SELECT jsonb_build_object('document', v.document, 'ir', v.ir) FROM run_irs v
                 WHERE v.run_id = r.id AND v.ir_version = r.ir_version) AS version_doc
          FROM runs r WHERE r.id = ${id}`
      if (!row) return null
      const key = `${row.id}:${row.ir_version}`
      if (row.version_doc && !irCache.has(key))
        irCache.set(key, { document: row.version_doc.document, ir: reviveIr(row.version_doc.ir) })
      const { version_doc: _v, ...runRow } = row
      const run = await toRecord(runRow)
      const nodes = dictOf(row.nodes ?? {})
      for (const nodeId of Object.keys(run.ir.nodes)) nodes[nodeId] ??= newNodeState()
      return { run, nodes }
    },
    async commitTransition(base, t) {
      return enqueue(base, t)
    },
    async listRuns(f) {
      const rows = await sql<RunRow[]>`SELECT * FROM runs WHERE true
        ${f.status ? sql`AND status = ${f.status}` : sql``}
        ${f.workflow_id ? sql`AND workflow_id = ${f.workflow_id}` : sql``}
        ${f.before ? sql`AND id < ${f.before}` : sql``}
        ORDER BY id DESC LIMIT ${f.limit}`
      return Promise.all(rows.map(toRecord))
    },
    async listActiveRuns() {
      // Written out (not bound) so that the partial index runs_active serves it.
      const rows = await sql<
        { id: RunId }[]
      >`SELECT id FROM runs WHERE status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY id`
      return rows.map((r) => r.id)
    },
    async readEvents(id, after, limit) {
      const rows = await sql<
        {
          seq: number
          type: RunEvent['type']
          node_id: string | null
          ts: Date
          data: Record<string, unknown>
        }[]
      >`
        SELECT seq, type, node_id, ts, data FROM events WHERE run_id = ${id} AND seq > ${after} ORDER BY seq LIMIT ${limit}`
      return rows.map((r) => ({
        seq: r.seq,
        run_id: id,
        type: r.type,
        ts: iso(r.ts),
        data: r.data,
        ...(r.node_id !== null ? { node_id: r.node_id } : {}),
      }))
    },
    async listDispatchPending(olderThanMs) {
      const rows = await sql<
        { id: RunId }[]
      >`SELECT id FROM runs WHERE dispatch_pending_at IS NOT NULL AND dispatch_pending_at < now() - ${olderThanMs} * interval '1 millisecond' ORDER BY id`
      return rows.map((r) => r.id)
    },
    async clearDispatchPending(id) {
      await clears.run(id)
    },
    async listPatches(runId) {
      return (
        await sql<
          { record: PatchRecord }[]
        >`SELECT record FROM patches WHERE run_id = ${runId} ORDER BY id`
      ).map((r) => r.record)
    },
    async getPatch(id) {
      const [row] = await sql<
        { record: PatchRecord }[]
      >`SELECT record FROM patches WHERE id = ${id}`
      return row?.record ?? null
    },
    async getApproval(id) {
      const [row] = await sql<
        { record: ApprovalRecord }[]
      >`SELECT record FROM approvals WHERE id = ${id}`
      return row?.record ?? null
    },
    async listApprovals(f) {
      const rows = await sql<{ record: ApprovalRecord }[]>`SELECT record FROM approvals WHERE true
        ${f.status ? sql`AND status = ${f.status}` : sql``}
        ${f.run_id ? sql`AND run_id = ${f.run_id}` : sql``}
        ${f.before ? sql`AND seq < (SELECT seq FROM approvals WHERE id = ${f.before})` : sql``}
        ORDER BY seq DESC LIMIT ${f.limit}`
      return rows.map((r) => r.record)
    },
    async listDueApprovals(nowMs, limit) {
      return sql<
        DueApproval[]
      >`SELECT id, run_id, record ->> 'node_id' AS node_id FROM approvals WHERE status = 'pending' AND timeout_at IS NOT NULL AND timeout_at <= ${new Date(nowMs)} ORDER BY timeout_at LIMIT ${limit}`
    },
    async putTool(tool) {
      // One writer of a name at a time: the next version is computed and taken atomically.
      return sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`aob.tool.${tool.name}`}))`
        const [row] = await tx<
          { v: number | null }[]
        >`SELECT max(version) AS v FROM tools WHERE name = ${tool.name}`
        const record: ToolRecord = { ...tool, version: (row?.v ?? 0) + 1 }
        await tx`INSERT INTO tools (name, version, record) VALUES (${record.name}, ${record.version}, ${sql.json(record as never)})`
        return record
      }) as Promise<ToolRecord>
    },
    async getTool(name) {
      const [row] = await sql<
        { record: ToolRecord }[]
      >`SELECT record FROM tools WHERE name = ${name} ORDER BY version DESC LIMIT 1`
      return row?.record ?? null
    },
    async listTools() {
      const rows = await sql<
        { record: ToolRecord }[]
      >`SELECT DISTINCT ON (name) record FROM tools ORDER BY name, version DESC`
      return rows.map((r) => r.record)
    },
    async deleteTool(name) {
      const rows = await sql`DELETE FROM tools WHERE name = ${name} RETURNING 1`
      return rows.length > 0
    },
    async putApi(api) {
      await sql`INSERT INTO apis (name, record) VALUES (${api.name}, ${sql.json(api as never)}) ON CONFLICT (name) DO UPDATE SET record = EXCLUDED.record`
    },
    async getApi(name) {
      const [row] = await sql<{ record: ApiRecord }[]>`SELECT record FROM apis WHERE name = ${name}`
      return row?.record ?? null
    },
    async listApis() {
      return (await sql<{ record: ApiRecord }[]>`SELECT record FROM apis ORDER BY name`).map(
        (r) => r.record
      )
    },
    async deleteApi(name) {
      return (await sql`DELETE FROM apis WHERE name = ${name} RETURNING 1`).length > 0
    },
    async putBlob(ref, data) {
      await sql`INSERT INTO blobs (ref, data) VALUES (${ref}, ${data}) ON CONFLICT (ref) DO NOTHING`
    },
    async getBlob(ref) {
      const [row] = await sql<{ data: string }[]>`SELECT data FROM blobs WHERE ref = ${ref}`
      return row?.data ?? null
    },
    async ping() {
      await sql`SELECT 1`
    },
    async close() {
      // Bounded: queries still running after a second are cancelled (a process must stop).
      await sql.end({ timeout: 1 })
    },
  }
}

// --- internal ---

interface RunRow {
  id: string
  workflow_id: string
  status: RunRecord['status']
  idempotency_key: string | null
  version: number
  last_seq: number
  ir_version: number
  updated_at: Date
  record: Partial<RunRecord>
}
interface WorkflowRow {
  id: string
  name: string
  document: unknown
  created_at: Date
}
interface TagRow {
  name: string
  workflow_id: string
  updated_at: Date
}

/** The node states worth a row: fresh ones (pending, nothing happened) are implied by the IR. */
function storedNodes(nodes: Record<string, NodeState>): Record<string, NodeState> {
  const out = dict<NodeState>()
  for (const [id, n] of Object.entries(nodes)) if (!isFreshNode(n)) out[id] = n
  return out
}

/** Whether `t` changes a field kept in the record column. */
function recordChanged(t: Transition): boolean {
  return Object.keys(t.run).some(
    (k) => k !== 'status' && k !== 'ir_version' && k !== 'document' && k !== 'ir'
  )
}

/** The run record without what has columns or lives in run_irs. */
function recordColumns(run: RunRecord): Partial<RunRecord> {
  const {
    document: _d,
    ir: _i,
    version: _v,
    last_seq: _l,
    status: _s,
    ir_version: _iv,
    updated_at: _u,
    ...rest
  } = run
  return rest
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString()
}

function toWorkflow(r: WorkflowRow): StoredWorkflow {
  return { id: r.id, name: r.name, document: r.document, created_at: iso(r.created_at) }
}

function toTag(r: TagRow): TagRecord {
  return { name: r.name, workflow_id: r.workflow_id, updated_at: iso(r.updated_at) }
}

/** A completion committed twice surfaces as the Store contract's error, not the driver's. */
function ledgerError(e: unknown, runId: string): unknown {
  const err = e as { code?: string; constraint_name?: string; detail?: string }
  if (
    err?.code !== '23505' ||
    !String(err.constraint_name ?? err.detail ?? '').includes('node_completions')
  )
    return e
  const m = /\(run_id, node_id, iteration\)=\(([^,]+), ([^,]+), (\d+)\)/.exec(
    String(err.detail ?? '')
  )
  return completionRecorded(runId, m?.[2] ?? '?', Number(m?.[3] ?? 0))
}
