/**
 * The embedded Store on bun:sqlite (a file, or `:memory:`). Every method runs synchronously
 * inside one SQLite transaction, so each is atomic against every other caller.
 * @module
 */
import { Database } from 'bun:sqlite'
import { AobError, completionRecorded, ErrorCode } from '../../errors.ts'
import type { RunId } from '../../ids.ts'
import {
  completionsOf,
  nextRunRecord,
  TERMINAL_RUN_STATUSES,
  numberEvents,
  type ApprovalRecord,
  type NodeState,
  type PatchRecord,
  type RunEvent,
  type RunRecord,
  type RunState,
  type Transition,
} from '../../engine/state.ts'
import type {
  ApprovalFilter,
  NewRun,
  RunFilter,
  Store,
  StoredWorkflow,
  TagMove,
  TagRecord,
} from '../../ports/store.ts'
import { migrateSqlite } from './sqlite-migrations.ts'
import type { ApiRecord } from '../../model/openapi.ts'
import type { ToolRecord } from '../../model/tool-record.ts'
import { BoundedMap } from '../../bounded-map.ts'
import { checkTagExpectation } from '../../model/tags.ts'
import { dict, own } from '../../model/dict.ts'
import { isFreshNode, newNodeState } from '../../engine/draft.ts'
import { reviveIr } from '../../model/ir.ts'

type Row = Record<string, string | number | null>

export function createSqliteStore(path: string): Store {
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
  migrateSqlite(db)
  const q = (sql: string) => db.query<Row, any[]>(sql)

  // A completion event carries the activation it completes: the unique index
  // events_one_completion is the completion ledger (0002_completion_ledger.sql).
  const insertEvents = (run: RunRecord, t: Transition, ts: string): RunEvent[] => {
    const stmt = q(
      'INSERT INTO events (run_id, seq, type, node_id, ts, data, completes_iteration) VALUES (?, ?, ?, ?, ?, ?, ?)'
    )
    const events = numberEvents(run, t.events, ts)
    const completions = completionsOf(t)
    let next = 0
    for (const ev of events) {
      const completes =
        (ev.type === 'node_completed' || ev.type === 'node_failed') && ev.node_id !== undefined
          ? completions[next++]
          : undefined
      try {
        stmt.run(
          ev.run_id,
          ev.seq,
          ev.type,
          ev.node_id ?? null,
          ev.ts,
          JSON.stringify(ev.data),
          completes?.iteration ?? null
        )
      } catch (e) {
        if (completes && String((e as Error).message).includes('completes_iteration'))
          throw completionRecorded(run.id, completes.node_id, completes.iteration)
        throw e
      }
    }
    return events
  }

  /**
   * Writes one transition. The version check is the UPDATE itself: it applies only while the
   * run is at run.version. A new run (`insert`) is written with its first transition applied,
   * one row write.
   */
  const applyTransition = (
    run: RunRecord,
    t: Transition,
    insert = false
  ): { run: RunRecord; events: RunEvent[] } => {
    const ts = new Date().toISOString()
    const next = nextRunRecord(run, t, t.events.length, ts)
    const pendingAt = t.dispatchPending ? Date.now() : null
    if (insert) {
      q(
        'INSERT INTO runs (id, workflow_id, status, idempotency_key, record, version, dispatch_pending_at) VALUES (?, ?, ?, ?, ?, ?, ?)'
      ).run(
        run.id,
        run.workflow_id,
        next.status,
        run.idempotency_key,
        recordText(next),
        next.version,
        pendingAt
      )
    } else {
      const updated = q(
        'UPDATE runs SET status = ?, record = ?, version = ?, dispatch_pending_at = coalesce(?, dispatch_pending_at) WHERE id = ? AND version = ?'
      ).run(next.status, recordText(next), next.version, pendingAt, run.id, run.version)
      if (updated.changes === 0) {
        const row = q('SELECT version FROM runs WHERE id = ?').get(run.id)
        if (!row) throw new AobError(ErrorCode.RunNotFound, `run ${run.id} not found`)
        throw new AobError(
          ErrorCode.VersionConflict,
          `run ${run.id} is at version ${row.version}, expected ${run.version}`
        )
      }
    }
    const events = insertEvents(run, t, ts)
    if (t.run.ir !== undefined) putIr(next)
    const upsert = q(
      'INSERT INTO run_nodes (run_id, node_id, state) VALUES (?, ?, ?) ON CONFLICT (run_id, node_id) DO UPDATE SET state = excluded.state'
    )
    const remove = q('DELETE FROM run_nodes WHERE run_id = ? AND node_id = ?')
    for (const [nodeId, state] of Object.entries(t.nodes)) {
      if (state === null) remove.run(run.id, nodeId)
      else upsert.run(run.id, nodeId, JSON.stringify(state))
    }
    if (t.approvals?.length) {
      const put = q(
        'INSERT INTO approvals (id, run_id, status, timeout_at, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record'
      )
      for (const a of t.approvals)
        put.run(
          a.id,
          run.id,
          a.status,
          a.timeout_at ? Date.parse(a.timeout_at) : null,
          JSON.stringify(a)
        )
    }
    if (t.patch) {
      q(
        'INSERT INTO patches (id, run_id, record) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record'
      ).run(t.patch.id, run.id, JSON.stringify(t.patch))
    }
    return { run: next, events }
  }

  // The document and IR of a run version never change: stored once, parsed once per process.
  const irs = new BoundedMap<string, Pick<RunRecord, 'document' | 'ir'>>(5_000)
  const putIr = (run: RunRecord) => {
    // Not cached here: the transaction may still roll back (the cache fills on first read).
    q(
      'INSERT INTO run_irs (run_id, ir_version, document, ir) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'
    ).run(run.id, run.ir_version, JSON.stringify(run.document), JSON.stringify(run.ir))
  }
  const toRecord = (text: string): RunRecord => {
    const rest = JSON.parse(text) as Omit<RunRecord, 'document' | 'ir'>
    const key = `${rest.id}:${rest.ir_version}`
    let ir = irs.get(key)
    if (!ir) {
      const row = q('SELECT document, ir FROM run_irs WHERE run_id = ? AND ir_version = ?').get(
        rest.id,
        rest.ir_version
      )
      ir = {
        document: JSON.parse(row?.document as string),
        ir: reviveIr(JSON.parse(row?.ir as string)),
      }
      irs.set(key, ir)
    }
    return { ...rest, ...ir } as RunRecord
  }
  const getRunRecord = (id: string): RunRecord | null => {
    const row = q('SELECT record FROM runs WHERE id = ?').get(id)
    return row ? toRecord(row.record as string) : null
  }

  const createRunTx = db.transaction((input: NewRun, first: Transition) => {
    const { run } = input
    if (run.idempotency_key) {
      const row = q('SELECT record FROM runs WHERE idempotency_key = ?').get(run.idempotency_key)
      if (row)
        return { run: toRecord(row.record as string), created: false, events: [] as RunEvent[] }
    }
    putIr(run)
    // Fresh node states are not stored: a node without a row is pending (see loadRun).
    const insert = q('INSERT INTO run_nodes (run_id, node_id, state) VALUES (?, ?, ?)')
    for (const [nodeId, state] of Object.entries(input.nodes))
      if (!isFreshNode(state) && !own(first.nodes, nodeId))
        insert.run(run.id, nodeId, JSON.stringify(state))
    const applied = applyTransition(run, first, true)
    return { run: applied.run, created: true, events: applied.events }
  })

  // The caller's base is the stored record whenever its version still matches (every write
  // bumps the version), so the commit needs no read.
  const commitTx = db.transaction(
    (base: RunRecord, t: Transition) => applyTransition(base, t).events
  )

  const moveTagTx = db.transaction(
    (name: string, workflowId: string, expect: string | null | undefined): TagMove => {
      const current = q('SELECT workflow_id, updated_at FROM tags WHERE name = ?').get(name)
      const currentId = (current?.workflow_id as string | undefined) ?? null
      checkTagExpectation(name, currentId, expect)
      const now = new Date().toISOString()
      if (currentId === workflowId)
        return {
          name,
          workflow_id: workflowId,
          previous_id: currentId,
          moved_at: current?.updated_at as string,
        }
      q(
        'INSERT INTO tags (name, workflow_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET workflow_id = excluded.workflow_id, updated_at = excluded.updated_at'
      ).run(name, workflowId, now)
      q('INSERT INTO tag_moves (name, workflow_id, previous_id, moved_at) VALUES (?, ?, ?, ?)').run(
        name,
        workflowId,
        currentId,
        now
      )
      return { name, workflow_id: workflowId, previous_id: currentId, moved_at: now }
    }
  )

  const toWorkflow = (r: Row): StoredWorkflow => ({
    id: r.id as string,
    name: r.name as string,
    document: JSON.parse(r.document as string),
    created_at: r.created_at as string,
  })
  const toTag = (r: Row): TagRecord => ({
    name: r.name as string,
    workflow_id: r.workflow_id as string,
    updated_at: r.updated_at as string,
  })

  return {
    async putWorkflow(wf) {
      const res = q(
        'INSERT INTO workflows (id, name, document, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'
      ).run(wf.id, wf.name, JSON.stringify(wf.document), wf.created_at)
      return { created: res.changes > 0 }
    },
    async getWorkflow(id) {
      const row = q('SELECT * FROM workflows WHERE id = ?').get(id)
      return row ? toWorkflow(row) : null
    },
    async listWorkflows({ limit, name }) {
      const rows = name
        ? q('SELECT * FROM workflows WHERE name = ? ORDER BY created_at DESC, id LIMIT ?').all(
            name,
            limit
          )
        : q('SELECT * FROM workflows ORDER BY created_at DESC, id LIMIT ?').all(limit)
      return rows.map(toWorkflow)
    },
    async moveTag(name, workflowId, expect) {
      return moveTagTx.immediate(name, workflowId, expect)
    },
    async getTag(name) {
      const row = q('SELECT * FROM tags WHERE name = ?').get(name)
      return row ? toTag(row) : null
    },
    async listTags() {
      return q('SELECT * FROM tags ORDER BY name').all().map(toTag)
    },
    async tagHistory(name) {
      return q(
        'SELECT name, workflow_id, previous_id, moved_at FROM tag_moves WHERE name = ? ORDER BY id DESC'
      )
        .all(name)
        .map((r) => ({
          name: r.name as string,
          workflow_id: r.workflow_id as string,
          previous_id: r.previous_id as string | null,
          moved_at: r.moved_at as string,
        }))
    },
    async createRun(input, first) {
      return createRunTx.immediate(input, first)
    },
    async loadRun(id) {
      const run = getRunRecord(id)
      if (!run) return null
      const nodes = dict<NodeState>()
      for (const r of q('SELECT node_id, state FROM run_nodes WHERE run_id = ?').all(id)) {
        nodes[r.node_id as string] = JSON.parse(r.state as string)
      }
      for (const nodeId of Object.keys(run.ir.nodes)) nodes[nodeId] ??= newNodeState()
      return { run, nodes } satisfies RunState
    },
    async commitTransition(base, t) {
      return commitTx.immediate(base, t)
    },
    async listRuns(f: RunFilter) {
      const filters: [string, string | undefined][] = [
        ['status = ?', f.status],
        ['workflow_id = ?', f.workflow_id],
        ['id < ?', f.before],
      ]
      const used = filters.filter(([, value]) => value !== undefined)
      const where = used.map(([clause]) => clause)
      const args = used.map(([, value]) => value as string)
      const sql = `SELECT record FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      return q(sql)
        .all(...args, f.limit)
        .map((r) => toRecord(r.record as string))
    },
    async listActiveRuns() {
      return q(
        `SELECT id FROM runs WHERE status NOT IN (${TERMINAL_RUN_STATUSES.map(() => '?').join(', ')}) ORDER BY id`
      )
        .all(...TERMINAL_RUN_STATUSES)
        .map((r) => r.id as RunId)
    },
    async readEvents(id, after, limit) {
      return q('SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?')
        .all(id, after, limit)
        .map((r) => {
          const ev: RunEvent = {
            seq: r.seq as number,
            run_id: id,
            type: r.type as RunEvent['type'],
            ts: r.ts as string,
            data: JSON.parse(r.data as string),
          }
          if (r.node_id !== null) ev.node_id = r.node_id as string
          return ev
        })
    },
    async listDispatchPending(olderThanMs) {
      return q(
        'SELECT id FROM runs WHERE dispatch_pending_at IS NOT NULL AND dispatch_pending_at < ? ORDER BY id'
      )
        .all(Date.now() - olderThanMs)
        .map((r) => r.id as RunId)
    },
    async clearDispatchPending(id) {
      q('UPDATE runs SET dispatch_pending_at = NULL WHERE id = ?').run(id)
    },
    async listPatches(runId) {
      return q('SELECT record FROM patches WHERE run_id = ? ORDER BY id')
        .all(runId)
        .map((r) => JSON.parse(r.record as string) as PatchRecord)
    },
    async getPatch(id) {
      const row = q('SELECT record FROM patches WHERE id = ?').get(id)
      return row ? (JSON.parse(row.record as string) as PatchRecord) : null
    },
    async getApproval(id) {
      const row = q('SELECT record FROM approvals WHERE id = ?').get(id)
      return row ? (JSON.parse(row.record as string) as ApprovalRecord) : null
    },
    async listApprovals(f: ApprovalFilter) {
      const filters: [string, string | undefined][] = [
        ['status = ?', f.status],
        ['run_id = ?', f.run_id],
        ['seq < (SELECT seq FROM approvals WHERE id = ?)', f.before],
      ]
      const used = filters.filter(([, value]) => value !== undefined)
      const where = used.map(([clause]) => clause)
      const sql = `SELECT record FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`
      return q(sql)
        .all(...used.map(([, value]) => value as string), f.limit)
        .map((r) => JSON.parse(r.record as string) as ApprovalRecord)
    },
    async listDueApprovals(nowMs, limit) {
      return q(
        "SELECT id, run_id, json_extract(record, '$.node_id') AS node_id FROM approvals WHERE status = 'pending' AND timeout_at IS NOT NULL AND timeout_at <= ? ORDER BY timeout_at LIMIT ?"
      )
        .all(nowMs, limit)
        .map((r) => ({
          id: r.id as string,
          run_id: r.run_id as RunId,
          node_id: r.node_id as string,
        }))
    },
    async putTool(tool) {
      return db
        .transaction(() => {
          const row = q('SELECT max(version) AS v FROM tools WHERE name = ?').get(tool.name)
          const record: ToolRecord = { ...tool, version: Number(row?.v ?? 0) + 1 }
          q('INSERT INTO tools (name, version, record) VALUES (?, ?, ?)').run(
            record.name,
            record.version,
            JSON.stringify(record)
          )
          return record
        })
        .immediate()
    },
    async getTool(name) {
      const row = q('SELECT record FROM tools WHERE name = ? ORDER BY version DESC LIMIT 1').get(
        name
      )
      return row ? (JSON.parse(row.record as string) as ToolRecord) : null
    },
    async listTools() {
      return q(
        'SELECT t.record FROM tools t WHERE t.version = (SELECT max(version) FROM tools u WHERE u.name = t.name) ORDER BY t.name'
      )
        .all()
        .map((r) => JSON.parse(r.record as string) as ToolRecord)
    },
    async deleteTool(name) {
      return q('DELETE FROM tools WHERE name = ?').run(name).changes > 0
    },
    async putApi(api) {
      q(
        'INSERT INTO apis (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record'
      ).run(api.name, JSON.stringify(api))
    },
    async getApi(name) {
      const row = q('SELECT record FROM apis WHERE name = ?').get(name)
      return row ? (JSON.parse(row.record as string) as ApiRecord) : null
    },
    async listApis() {
      return q('SELECT record FROM apis ORDER BY name')
        .all()
        .map((r) => JSON.parse(r.record as string) as ApiRecord)
    },
    async deleteApi(name) {
      return q('DELETE FROM apis WHERE name = ?').run(name).changes > 0
    },
    async putBlob(ref, data) {
      q('INSERT INTO blobs (ref, data) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING').run(ref, data)
    },
    async getBlob(ref) {
      return (
        (q('SELECT data FROM blobs WHERE ref = ?').get(ref)?.data as string | undefined) ?? null
      )
    },
    async ping() {
      q('SELECT 1').get()
    },
    async close() {
      db.close()
    },
  }
}

/** The run record as stored: without the document and IR (they live in run_irs). */
function recordText(run: RunRecord): string {
  const { document: _d, ir: _i, ...rest } = run
  return JSON.stringify(rest)
}
