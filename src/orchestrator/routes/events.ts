/**
 * Run events: JSON pages (`?after=`) and SSE (`id:` = seq, resumable with Last-Event-ID or
 * `?after=`, keep-alive comments while idle, ends after the run's terminal event).
 * @module
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { isTerminalRun, TERMINAL_EVENT_TYPES, type RunEvent } from '../../engine/state.ts'
import { AobError, ErrorCode } from '../../errors.ts'
import { isRunId, type RunId } from '../../ids.ts'
import type { Kernel } from '../../kernel.ts'
import { CHANNELS } from '../../ports/bus.ts'
import type { AuthEnv } from '../auth.ts'
import { intParam } from '../request.ts'

const PAGE = 500

export interface EventRouteOptions {
  /** Interval of SSE keep-alive comments; below the server's idle timeout. */
  keepAliveMs: number
}

export function eventRoutes(kernel: Kernel, opts: EventRouteOptions) {
  const { store, bus } = kernel
  const app = new Hono<AuthEnv>()
  const checkRun = async (raw: string): Promise<RunId> => {
    if (!isRunId(raw) || !(await store.loadRun(raw))) throw new AobError(ErrorCode.RunNotFound, `run ${raw} not found`)
    return raw
  }

  app.get('/runs/:id/events', async (c) => {
    const id = await checkRun(c.req.param('id'))
    const after = intParam(c.req.query('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = intParam(c.req.query('limit'), 'limit', 1000, 1, 10_000)
    const events = await store.readEvents(id, after, limit)
    return c.json({ run_id: id, events })
  })

  app.get('/runs/:id/events/stream', async (c) => {
    const id = await checkRun(c.req.param('id'))
    const after = intParam(c.req.header('last-event-id') ?? c.req.query('after'), 'Last-Event-ID', 0, 0, Number.MAX_SAFE_INTEGER)
    return streamSSE(c, async (stream) => {
      let last = after
      let ended = false
      let aborted = false
      let queued: RunEvent[] = []
      let wake: (() => void) | null = null
      stream.onAbort(() => {
        aborted = true
        wake?.()
      })
      const unsubscribe = await bus.subscribe(CHANNELS.runEvents(id), (payload) => {
        queued.push(...(payload as RunEvent[]))
        wake?.()
      })
      const send = async (events: RunEvent[]) => {
        for (const ev of events) {
          if (ev.seq <= last) continue
          await stream.writeSSE({ id: String(ev.seq), event: ev.type, data: JSON.stringify(ev) })
          last = ev.seq
          if (TERMINAL_EVENT_TYPES.includes(ev.type)) ended = true
        }
      }
      /** Reads the store from `last` on: the backlog, and any gap the live feed left. */
      const catchUp = async () => {
        for (;;) {
          const page = await store.readEvents(id, last, PAGE)
          await send(page)
          if (page.length < PAGE) return
        }
      }
      /** A finished run whose every event was sent ends the stream, even if its last notification was lost. */
      const finished = async () => {
        const state = await store.loadRun(id)
        return !state || (isTerminalRun(state.run.status) && last >= state.run.last_seq)
      }
      try {
        await catchUp()
        if (!ended) ended = await finished()
        while (!ended && !aborted) {
          if (queued.length === 0) {
            const woke = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), opts.keepAliveMs)
              wake = () => {
                clearTimeout(timer)
                resolve(true)
              }
            })
            wake = null
            if (!woke && !aborted) {
              await stream.write(': keep-alive\n\n')
              // The live feed is best effort: each quiet tick reads the store too.
              await catchUp()
              if (!ended) ended = await finished()
            }
            continue
          }
          const batch = queued.sort((a, b) => a.seq - b.seq)
          queued = []
          if (batch[0].seq > last + 1) await catchUp()
          await send(batch)
        }
      } finally {
        unsubscribe()
      }
    })
  })

  return app
}
