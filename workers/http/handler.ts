/** The http node type: one guarded HTTP call per task, with the run's idempotency key. */
import { httpCall, type HttpCallSpec } from '../../src/net/http-call.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import type { Handler } from '../../src/worker/run-worker.ts'

export function createHttpHandler(fetcher: GuardedFetch): Handler {
  return (task, { signal, traced }) =>
    httpCall(traced(fetcher), task.config as unknown as HttpCallSpec, {
      signal,
      idempotencyKey: `${task.run_id}:${task.node_id}:${task.iteration}`,
    })
}
