/**
 * Durable approval timeouts (SPEC §4.1). The store is the truth: every coordinator sweeps the
 * pending approvals whose `timeout_at` has passed (at start, then every `sweepMs`), so a timeout
 * is applied even when every process restarted in between. For promptness, the coordinator that
 * opened an approval also keeps a timer for it. Resolving is a run transition like any other:
 * a decision and a timeout racing (here, or in another process) resolve the approval once, and
 * whoever comes second finds it no longer pending.
 * @module
 */
import { timeOutApproval } from '../engine/approvals.ts'
import type { RunEvent } from '../engine/state.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import type { DueApproval } from '../ports/store.ts'
import { transact } from '../runs/transact.ts'

/** Timers are kept for approvals due within this long; later ones are the sweep's. */
const TIMER_HORIZON_MS = 15 * 60_000
const MAX_TIMERS = 10_000
const SWEEP_BATCH = 200

export interface ApprovalTimeouts {
  /** Applies every due timeout; returns how many approvals it resolved. */
  sweep(): Promise<number>
  /** Keeps a timer for each approval these committed events opened. */
  watch(runId: string, events: RunEvent[]): void
  stop(): void
}

export function createApprovalTimeouts(kernel: Kernel): ApprovalTimeouts {
  const log = kernel.log.child({ svc: 'approval-timeouts' })
  const timers = new Map<string, ReturnType<typeof setTimeout>>()

  const resolveDue = async (due: DueApproval): Promise<boolean> => {
    const { value } = await transact(kernel, due.run_id as RunId, (d) => timeOutApproval(d, due), {
      durableDispatch: true,
    })
    if (value) log.info({ run_id: due.run_id, approval_id: due.id }, 'approval timed out')
    return value !== null
  }

  return {
    async sweep() {
      let resolved = 0
      for (;;) {
        const due = await kernel.store.listDueApprovals(Date.now(), SWEEP_BATCH)
        let done = 0
        for (const a of due) {
          try {
            if (await resolveDue(a)) done++
          } catch (e) {
            log.warn({ err: e, approval_id: a.id }, 'could not apply a due timeout; next sweep')
          }
        }
        resolved += done
        // A full batch may have more behind it; a short one (or one that moved nothing) ends it.
        if (due.length < SWEEP_BATCH || done === 0) return resolved
      }
    },
    watch(runId, events) {
      for (const e of events) {
        const at = e.type === 'approval_required' ? e.data.timeout_at : null
        if (typeof at !== 'string' || e.node_id === undefined) continue
        const id = String(e.data.approval_id)
        const inMs = Date.parse(at) - Date.now()
        if (inMs > TIMER_HORIZON_MS || timers.size >= MAX_TIMERS || timers.has(id)) continue
        const due: DueApproval = { id, run_id: runId as RunId, node_id: e.node_id }
        const timer = setTimeout(() => {
          timers.delete(id)
          resolveDue(due).catch((err) =>
            log.warn({ err, approval_id: id }, 'could not apply a timeout; the sweep will')
          )
        }, Math.max(0, inMs) + 5)
        timer.unref?.()
        timers.set(id, timer)
      }
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t)
      timers.clear()
    },
  }
}
