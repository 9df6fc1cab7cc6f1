/**
 * Follows a run's events over SSE until its terminal event, reconnecting with Last-Event-ID
 * after a dropped connection.
 * @module
 */
import type { RunEvent } from '../src/engine/state.ts'
import type { ApiClient } from './context.ts'
import { CliError } from './errors.ts'

const TERMINAL = new Set(['run_completed', 'run_failed', 'run_cancelled'])

export async function followRun(
  api: ApiClient,
  runId: string,
  onEvent: (ev: RunEvent) => void
): Promise<RunEvent> {
  let last = 0
  for (let attempt = 0; attempt < 10; attempt++) {
    const res = await api.stream(
      `/runs/${runId}/events/stream`,
      last ? { 'last-event-id': String(last) } : {}
    )
    if (!res.ok || !res.body)
      throw new CliError(`cannot follow run ${runId}: HTTP ${res.status} ${await res.text()}`)
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true })
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n')
          if (!data) continue
          const ev = JSON.parse(data) as RunEvent
          last = ev.seq
          onEvent(ev)
          if (TERMINAL.has(ev.type)) return ev
        }
      }
    } catch {
      // dropped: reconnect from the last seq below
    }
    await Bun.sleep(200 * (attempt + 1))
  }
  throw new CliError(`lost the event stream of run ${runId}`)
}

export function formatEvent(ev: RunEvent): string {
  const time = ev.ts.slice(11, 23)
  const node = ev.node_id ? ` ${ev.node_id}` : ''
  let detail = ''
  if (ev.type === 'node_failed' || ev.type === 'run_failed')
    detail = ` ${(ev.data.error as { message?: string })?.message ?? ''}`
  else if (ev.type === 'node_skipped') detail = ` (${String(ev.data.reason)})`
  else if (ev.type === 'log') detail = ` ${String(ev.data.message)}`
  else if (ev.type === 'node_completed' || ev.type === 'run_completed')
    detail = ` ${truncate(JSON.stringify(ev.data.output))}`
  return `${time} #${ev.seq} ${ev.type}${node}${detail}`
}

function truncate(s: string | undefined, n = 120): string {
  if (s === undefined) return ''
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}
