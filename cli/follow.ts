/**
 * Follows a run's events until its terminal event: over the fanout's WebSocket (`/ws`, on the
 * API's port in aob dev and the orchestrator, or `--fanout`/`AOB_FANOUT` elsewhere), resuming
 * with the last seq after a dropped connection and reading a `gap` from the API; over SSE (parsed
 * by eventsource-parser) when the server has no WebSocket.
 * @module
 */
import { createParser } from 'eventsource-parser'
import type { RunEvent } from '../src/engine/state.ts'
import type { ApiClient } from './context.ts'
import { CliError, EXIT } from './errors.ts'

const TERMINAL = new Set(['run_completed', 'run_failed', 'run_cancelled'])
const ATTEMPTS = 10

export async function followRun(
  api: ApiClient,
  runId: string,
  onEvent: (ev: RunEvent) => void,
  opts: { after?: number } = {}
): Promise<RunEvent> {
  let last = opts.after ?? 0
  let end: RunEvent | null = null
  const take = (ev: RunEvent) => {
    if (ev.seq <= last) return
    last = ev.seq
    onEvent(ev)
    if (TERMINAL.has(ev.type)) end = ev
  }
  let websocket = true
  for (let attempt = 0; attempt < ATTEMPTS && !end; attempt++) {
    if (attempt) await Bun.sleep(Math.min(200 * 2 ** (attempt - 1), 3_000))
    try {
      if (websocket)
        await followOverWebSocket(
          api,
          runId,
          () => last,
          take,
          () => end !== null
        )
      else await followOverSse(api, runId, last, take, () => end !== null)
    } catch (e) {
      if (e instanceof CliError) throw e
      if (e instanceof NoWebSocket) websocket = false
    }
  }
  if (!end) throw new CliError(`lost the event stream of run ${runId}`)
  return end
}

class NoWebSocket extends Error {}

function followOverWebSocket(
  api: ApiClient,
  runId: string,
  last: () => number,
  take: (ev: RunEvent) => void,
  ended: () => boolean
): Promise<void> {
  const base = (api.fanout ?? api.server).replace(/^http/, 'ws')
  const query = new URLSearchParams({ run: runId, after: String(last()) })
  if (api.token) query.set('token', api.token)
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${base}/ws?${query}`)
    let opened = false
    let chain = Promise.resolve()
    ws.onopen = () => {
      opened = true
    }
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data))
      chain = chain.then(async () => {
        if (msg.type === 'event') take(msg.event)
        else if (msg.type === 'gap') {
          // Older than the fanout keeps: the API has everything.
          const page = await api.request<{ events: RunEvent[] }>(
            'GET',
            `/runs/${runId}/events?after=${msg.from - 1}&limit=${msg.to - msg.from + 1}`
          )
          for (const ev of page.events) take(ev)
        } else if (msg.type === 'error' && msg.code === 'RUN_NOT_FOUND')
          reject(new CliError(`run ${runId} not found`, EXIT.notFound))
        if (ended()) ws.close()
      })
    }
    ws.onerror = () => {}
    ws.onclose = () => {
      chain.then(() => (opened ? resolve() : reject(new NoWebSocket())))
    }
  })
}

async function followOverSse(
  api: ApiClient,
  runId: string,
  after: number,
  take: (ev: RunEvent) => void,
  ended: () => boolean
): Promise<void> {
  const res = await api.stream(`/runs/${runId}/events/stream`, {
    'last-event-id': String(after),
  })
  if (res.status === 404) throw new CliError(`run ${runId} not found`, EXIT.notFound)
  if (!res.ok || !res.body)
    throw new CliError(`cannot follow run ${runId}: HTTP ${res.status} ${await res.text()}`)
  const parser = createParser({ onEvent: (m) => take(JSON.parse(m.data) as RunEvent) })
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    parser.feed(decoder.decode(chunk, { stream: true }))
    if (ended()) return
  }
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
  else if (ev.type === 'agent_turn')
    detail = ` turn ${ev.data.turn}${(ev.data.tool_calls as string[])?.length ? ` → ${(ev.data.tool_calls as string[]).join(', ')}` : ''}`
  else if (ev.type === 'approval_required')
    detail = ` ${String(ev.data.approval_id)}: ${truncate(String(ev.data.prompt), 80)}`
  else if (ev.type === 'approval_decided')
    detail = ` ${String(ev.data.approval_id)} ${String(ev.data.status)}`
  return `${time} #${ev.seq} ${ev.type}${node}${detail}`
}

function truncate(s: string | undefined, n = 120): string {
  if (s === undefined) return ''
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}
