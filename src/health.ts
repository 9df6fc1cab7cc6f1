/**
 * `/health` and `/metrics` (Prometheus text, open: this port is for operators) of services that
 * serve no API (coordinator, workers), so compose can gate start order on them and Prometheus
 * can scrape them (SPEC §8, `AOB_HEALTH_PORT`).
 * @module
 */
import type { Bus } from './ports/bus.ts'
import type { Store } from './ports/store.ts'
import { metricsResponse, withProcessMetrics, type Metrics } from './metrics.ts'
import { VERSION } from './version.ts'
import type { Service } from './worker/consumer.ts'

export function startHealthServer(
  deps: { bus: Bus; store?: Store; metrics: Metrics },
  opts: { host: string; port: number; service: string }
): Service {
  const started = Date.now()
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/metrics') return metricsResponse(withProcessMetrics(deps.metrics))
      if (path !== '/health')
        return Response.json(
          { error: { code: 'NOT_FOUND', message: 'only /health and /metrics here', details: [] } },
          { status: 404 }
        )
      const check = (fn?: () => Promise<void>) =>
        fn
          ? fn().then(
              () => 'ok',
              (e: Error) => `error: ${e.message}`
            )
          : Promise.resolve('not used')
      const [redis, postgres] = await Promise.all([
        check(() => deps.bus.ping()),
        check(deps.store && (() => deps.store!.ping())),
      ])
      const ok = redis === 'ok' && (postgres === 'ok' || postgres === 'not used')
      return Response.json(
        {
          status: ok ? 'ok' : 'degraded',
          service: opts.service,
          version: VERSION,
          uptime: (Date.now() - started) / 1000,
          dependencies: { postgres, redis },
        },
        { status: ok ? 200 : 503 }
      )
    },
  })
  return { name: `${opts.service}/health`, stop: () => server.stop(true) }
}
