/**
 * The HTTP API (SPEC §4) as a Hono app over a kernel; serve it with `startOrchestrator` or call
 * `app.request()` in tests.
 * @module
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { bodyLimit } from 'hono/body-limit'
import { ErrorCode } from '../errors.ts'
import type { Kernel } from '../kernel.ts'
import { metricsResponse, withProcessMetrics, type Metrics } from '../metrics.ts'
import { VERSION } from '../version.ts'
import { bearerAuth, type AuthEnv } from './auth.ts'
import { errorBody, handleError } from './http-errors.ts'
import { doc, openApiDocument } from './openapi.ts'
import { uiRoutes } from '../ui/routes.tsx'
import { approvalRoutes } from './routes/approvals.ts'
import { eventRoutes } from './routes/events.ts'
import { runRoutes } from './routes/runs.ts'
import { registryRoutes } from './routes/registries.ts'
import { workflowRoutes } from './routes/workflows.ts'

export interface AppOptions {
  service?: string
  keepAliveMs?: number
}

export function createApp(kernel: Kernel, opts: AppOptions = {}) {
  const started = Date.now()
  const app = new Hono<AuthEnv>()
  app.onError(handleError(kernel.log))
  app.notFound((c) =>
    c.json(errorBody(ErrorCode.NotFound, `no route ${c.req.method} ${c.req.path}`), 404)
  )
  app.use(countRequests(kernel.metrics))

  app.get('/health', async (c) => {
    const check = async (fn: () => Promise<void>) =>
      fn().then(
        () => 'ok',
        (e: Error) => `error: ${e.message}`
      )
    const [store, bus] = await Promise.all([
      check(() => kernel.store.ping()),
      check(() => kernel.bus.ping()),
    ])
    const embedded = kernel.config.mode === 'embedded'
    const dependencies = embedded
      ? { postgres: 'not used (embedded)', redis: 'not used (embedded)', sqlite: store, bus }
      : { postgres: store, redis: bus }
    const ok = store === 'ok' && bus === 'ok'
    return c.json(
      {
        status: ok ? 'ok' : 'degraded',
        service: opts.service ?? 'aob-orchestrator',
        version: VERSION,
        uptime: (Date.now() - started) / 1000,
        mode: kernel.config.mode,
        dependencies,
      },
      ok ? 200 : 503
    )
  })

  // Prometheus text of this process; any role's token (SPEC §8).
  app.get('/metrics', bearerAuth(kernel.config.tokens), () =>
    metricsResponse(withProcessMetrics(kernel.metrics))
  )

  // This API's own OpenAPI document, generated from the routes on first request (no auth).
  let openapi: Record<string, unknown> | undefined
  app.get(
    '/api/v1/openapi.json',
    doc({ summary: "This API's OpenAPI 3.1 document", role: 'none' }),
    (c) => c.json((openapi ??= openApiDocument(app)))
  )

  const api = new Hono<AuthEnv>()
  api.use(bearerAuth(kernel.config.tokens))
  api.use(
    bodyLimit({
      maxSize: kernel.config.bodyLimitBytes,
      onError: (c) =>
        c.json(
          errorBody(
            ErrorCode.PayloadTooLarge,
            `request body is over the limit of ${kernel.config.bodyLimitBytes} bytes`
          ),
          413
        ),
    })
  )
  api.route('/', workflowRoutes(kernel))
  api.route('/', runRoutes(kernel))
  api.route('/', approvalRoutes(kernel))
  api.route('/', registryRoutes(kernel))
  api.route('/', eventRoutes(kernel, { keepAliveMs: opts.keepAliveMs ?? 5_000 }))
  app.route('/api/v1', api)
  // The web UI at / (SPEC §10): pages over this same API, called in process.
  app.route(
    '/',
    uiRoutes(kernel, async (path, init) => app.request(`/api/v1${path}`, init))
  )
  return app
}

/** `api_requests_total` and `api_request_duration_seconds` by the route's pattern (never its ids). */
function countRequests(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const pattern = routePath(c, -1)
    const route = pattern === '/*' || pattern === '*' ? 'unmatched' : pattern
    const method = c.req.method
    metrics.apiRequests.inc({ method, route, status: String(c.res.status) })
    metrics.apiDuration.observe({ method, route }, (performance.now() - started) / 1000)
  }
}
