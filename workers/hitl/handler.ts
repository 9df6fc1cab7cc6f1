/**
 * The hitl node type: the task's config arrives rendered (prompt, data); the handler sends the
 * optional `notify` webhook (a JSON POST of the approval, through the SSRF guard; a failure is
 * reported, never fatal) and ends the task with a Wait: the coordinator stores the approval and
 * the node waits for a decision (SPEC §4.1). A redelivered task notifies again (at least once).
 * @module
 */
import { approvalIdOf, type HitlWait } from '../../src/engine/approval-record.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import { httpCall } from '../../src/net/http-call.ts'
import { Wait, type Handler } from '../../src/worker/run-worker.ts'

const NOTIFY_TIMEOUT_MS = 10_000

interface HitlConfig {
  prompt: string
  data?: unknown
  timeout_ms?: number
  approvers?: string[]
  quorum?: number
  notify?: { url: string; headers?: Record<string, string> }
}

export function createHitlHandler(fetcher: GuardedFetch): Handler {
  return async (task, { signal, log, traced }) => {
    const config = task.config as unknown as HitlConfig
    const report: HitlWait = { prompt: String(config.prompt), data: config.data ?? null }
    if (config.notify) {
      const id = approvalIdOf(task.run_id, task.node_id, task.iteration)
      const approval = {
        id,
        run_id: task.run_id,
        node_id: task.node_id,
        iteration: task.iteration,
        prompt: report.prompt,
        status: 'pending',
        quorum: config.quorum ?? 1,
        approvers: config.approvers ?? null,
        data: report.data,
        timeout_at: config.timeout_ms
          ? new Date(Date.now() + config.timeout_ms).toISOString()
          : null,
      }
      try {
        await httpCall(
          traced(fetcher),
          {
            method: 'POST',
            url: config.notify.url,
            headers: config.notify.headers,
            body: { type: 'approval_required', approval },
            response: 'text',
            timeout_ms: NOTIFY_TIMEOUT_MS,
            max_response_bytes: 64 * 1024,
          },
          { signal, idempotencyKey: id }
        )
      } catch (e) {
        report.notify_error = (e as Error).message.slice(0, 2_000)
        log.warn({ err: e, approval_id: id }, 'approval notify failed')
      }
    }
    return new Wait('approval', report)
  }
}
