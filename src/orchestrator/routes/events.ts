/**
 * Run events: JSON pages (`?after=`) and SSE (`id:` = seq, resumable with Last-Event-ID or
 * `?after=`, keep-alive comments while idle, ends after the run's terminal event).
 * @module
 */
import { doc } from '../openapi.ts'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { AobError, ErrorCode } from '../../errors.ts'
import { isRunId, type RunId } from '../../ids.ts'
import type { Kernel } from '../../kernel.ts'
import { followRunEvents } from '../../runs/follow.ts'
import type { AuthEnv } from '../auth.ts'
import { intParam } from '../request.ts'

export interface EventRouteOptions {
  /** Interval of SSE keep-alive comments; below the server's idle timeout. */
  keepAliveMs: number
}

export function eventRoutes(kernel: Kernel, opts: EventRouteOptions) {
  const { store } = kernel
  const app = new Hono<AuthEnv>()
  const checkRun = async (raw: string): Promise<RunId> => {
    if (!isRunId(raw) || !(await store.loadRun(raw)))
      throw new AobError(ErrorCode.RunNotFound, `run ${raw} not found`)
    return raw
  }

  app.get(
    '/runs/:id/events',
    doc({ summary: "A run's events so far", query: { after: 'only events with a greater seq' } }),
    async (c) => {
      const id = await checkRun(c.req.param('id'))
      const after = intParam(c.req.query('after'), 'after', 0, 0, Number.MAX_SAFE_INTEGER)
      const limit = intParam(c.req.query('limit'), 'limit', 1000, 1, 10_000)
      const events = await store.readEvents(id, after, limit)
      return c.json({ run_id: id, events })
    }
  )

  app.get(
    '/runs/:id/events/stream',
    doc({
      summary: "A run's events as server-sent events, live until it ends",
      query: { after: 'resume after this seq (or Last-Event-ID)' },
      sse: true,
    }),
    async (c) => {
      const id = await checkRun(c.req.param('id'))
      const after = intParam(
        c.req.header('last-event-id') ?? c.req.query('after'),
        'Last-Event-ID',
        0,
        0,
        Number.MAX_SAFE_INTEGER
      )
      return streamSSE(c, async (stream) => {
        const aborted = new AbortController()
        stream.onAbort(() => aborted.abort())
        for await (const ev of followRunEvents(kernel, id, after, {
          idleMs: opts.keepAliveMs,
          signal: aborted.signal,
        })) {
          if (ev)
            await stream.writeSSE({ id: String(ev.seq), event: ev.type, data: JSON.stringify(ev) })
          else await stream.write(': keep-alive\n\n')
        }
      })
    }
  )

  return app
}
