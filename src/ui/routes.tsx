/** @jsxImportSource hono/jsx */
/**
 * The web UI (SPEC §10), served by the orchestrator's app (so by `aob dev` too) at `/`.
 * Everything it shows or does goes through the public API in process, with the signed-in
 * token: the same auth and rules (a viewer's cancel is refused by the API, not only hidden).
 * Sessions: an HttpOnly, SameSite=Strict cookie; every form carries the session's CSRF token.
 * @module
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Kernel } from '../kernel.ts'
import { createAuthenticator } from '../orchestrator/auth.ts'
import { patchDiff, type PatchView } from '../runs/patch-diff.ts'
import liveJs from './assets/live.client.js' with { type: 'text' }
import styleCss from './assets/style.css' with { type: 'text' }
import {
  ApprovalsPage,
  ErrorPage,
  RunPage,
  RunsPage,
  SignIn,
  type ApprovalRow,
  type EventRow,
  type PatchRow,
  type RunDetail,
  type RunRow,
  type Viewer,
} from './pages.tsx'
import { createSessions, randomToken, sameToken, SESSION_COOKIE, type Session } from './session.ts'

/** Sends a request to the API (`path` under /api/v1) in process. */
export type ApiFetch = (path: string, init: RequestInit) => Promise<Response>

const LOGIN_CSRF_COOKIE = 'aob_login_csrf'
/** The largest form a page sends (a decision's comment included). */
const MAX_FORM_BYTES = 64 * 1024
const ASSETS: Record<string, { body: string; type: string }> = {
  'live.js': { body: liveJs, type: 'text/javascript; charset=utf-8' },
  'style.css': { body: styleCss, type: 'text/css; charset=utf-8' },
}

/** The UI's pages (the API, /ws, /health and /metrics are not the UI's). */
const SIGNED_IN_PATHS = ['/', '/sign-out', '/runs/*', '/approvals', '/approvals/*', '/patches/*']
const PAGE_PATHS = [...SIGNED_IN_PATHS, '/sign-in', '/ui/*']

type UiEnv = { Variables: { session: Session; sessionId: string; viewer: Viewer } }

export function uiRoutes(kernel: Pick<Kernel, 'bus' | 'config'>, api: ApiFetch): Hono<UiEnv> {
  const sessions = createSessions(kernel.bus)
  const authenticate = createAuthenticator(kernel.config.tokens)
  const app = new Hono<UiEnv>()
  const pages = (mw: MiddlewareHandler<UiEnv>) => {
    for (const path of PAGE_PATHS) app.use(path, mw)
  }
  pages(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    })
  )

  // Forms are small; anything bigger is refused before it is read (sign-in takes no session).
  pages(bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text('form too large', 413) }))

  app.get('/ui/assets/:file', (c) => {
    const file = c.req.param('file')
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined
    if (!asset) return c.text('not found', 404)
    return c.body(asset.body, 200, {
      'content-type': asset.type,
      'cache-control': 'no-cache',
    })
  })

  const secure = (c: Context) => new URL(c.req.url).protocol === 'https:'

  app.get('/sign-in', (c) => {
    // One login CSRF token per browser until it signs in (a second tab keeps working).
    const kept = getCookie(c, LOGIN_CSRF_COOKIE)
    const csrf = kept && /^[A-Za-z0-9_-]{43}$/.test(kept) ? kept : randomToken()
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/sign-in',
      secure: secure(c),
      maxAge: 3600,
    })
    return page(c, <SignIn csrf={csrf} next={safeNext(c.req.query('next'))} error={c.req.query('error')} />)
  })

  app.post('/sign-in', async (c) => {
    const form = await c.req.parseBody()
    const next = safeNext(String(form.next ?? '/'))
    const expected = getCookie(c, LOGIN_CSRF_COOKIE)
    if (!expected || !sameToken(form.csrf, expected))
      return page(c, <SignIn csrf={randomToken()} next={next} error="The form expired; sign in again." />, 403)
    const token = typeof form.token === 'string' ? form.token.trim() : ''
    if (!token || token.length > 1000 || !authenticate(token)) {
      const csrf = randomToken()
      setCookie(c, LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'Strict', path: '/sign-in', secure: secure(c) })
      return page(c, <SignIn csrf={csrf} next={next} error="That token is not valid." />, 401)
    }
    const { id } = await sessions.create(token)
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/sign-in' })
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: secure(c),
      maxAge: Math.floor(sessions.ttlMs / 1000),
    })
    return c.redirect(next, 303)
  })

  // Every other page needs a session; a POST also needs the session's CSRF token.
  const signedIn: MiddlewareHandler<UiEnv> = async (c, next) => {
    const id = getCookie(c, SESSION_COOKIE)
    const session = await sessions.get(id)
    const principal = session ? authenticate(session.token) : null
    if (!session || !principal) {
      if (c.req.method !== 'GET') return c.text('sign in first', 401)
      const path = new URL(c.req.url).pathname + new URL(c.req.url).search
      return c.redirect(`/sign-in?next=${encodeURIComponent(path)}`, 303)
    }
    c.set('session', session)
    c.set('sessionId', id as string)
    c.set('viewer', { name: principal.name, role: principal.role, csrf: session.csrf })
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody()
      if (!sameToken(form.csrf, session.csrf))
        return page(c, <ErrorPage viewer={c.get('viewer')} status={403} message="The form's CSRF token is missing or wrong; reload the page and try again." />, 403)
    }
    await next()
  }
  for (const path of SIGNED_IN_PATHS) app.use(path, signedIn)

  /** GET or POST the API as the signed-in principal. */
  const call = async <T,>(c: Context<UiEnv>, method: string, path: string, body?: unknown) => {
    const res = await api(path, {
      method,
      headers: {
        authorization: `Bearer ${c.get('session').token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const parsed = (await res.json().catch(() => null)) as any
    return { status: res.status, body: parsed as T, message: parsed?.error?.message as string | undefined }
  }
  const get = async <T,>(c: Context<UiEnv>, path: string): Promise<T> => {
    const res = await call<T>(c, 'GET', path)
    if (res.status !== 200) throw new UiError(res.status, res.message ?? `GET ${path} answered ${res.status}`)
    return res.body
  }
  const flash = (c: Context<UiEnv>) => ({ notice: c.req.query('notice'), error: c.req.query('error') })
  /** After an action: back to `to` with the API's answer as a notice or an error. */
  const back = (c: Context<UiEnv>, to: string, res: { status: number; message?: string }, ok: string) =>
    c.redirect(
      `${to}${to.includes('?') ? '&' : '?'}${res.status < 300 ? `notice=${encodeURIComponent(ok)}` : `error=${encodeURIComponent(res.message ?? `refused (${res.status})`)}`}`,
      303
    )

  app.onError((err, c) => {
    const status = err instanceof UiError ? err.status : 500
    const message = err instanceof UiError ? err.message : 'internal error'
    return page(c, <ErrorPage viewer={c.get('viewer')} status={status} message={message} />, status)
  })

  app.post('/sign-out', async (c) => {
    await sessions.end(c.get('sessionId'))
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    return c.redirect('/sign-in', 303)
  })

  app.get('/', async (c) => {
    const filters = { status: c.req.query('status') || undefined, workflow: c.req.query('workflow') || undefined }
    const q = new URLSearchParams({ limit: '50' })
    if (filters.status) q.set('status', filters.status)
    if (filters.workflow) q.set('workflow', filters.workflow)
    const cursor = c.req.query('cursor')
    if (cursor) q.set('cursor', cursor)
    const res = await call<{ runs: RunRow[]; next_cursor: string | null }>(c, 'GET', `/runs?${q}`)
    const runs = res.status === 200 ? res.body.runs : []
    const error = res.status === 200 ? flash(c).error : res.message
    return page(
      c,
      <RunsPage viewer={c.get('viewer')} runs={runs} next={res.status === 200 ? res.body.next_cursor : null} filters={filters} notice={flash(c).notice} error={error} />
    )
  })

  app.get('/runs/:id', async (c) => {
    const id = c.req.param('id')
    const run = await get<RunDetail & { patches: Omit<PatchRow, 'diff'>[] }>(c, `/runs/${encodeURIComponent(id)}`)
    const { events } = await get<{ events: EventRow[] }>(c, `/runs/${encodeURIComponent(id)}/events`)
    const patches: PatchRow[] = []
    for (const p of run.patches) {
      const diff = await patchDiff((path) => get(c, path), p as unknown as PatchView).catch(
        (e: Error) => `(no diff: ${e.message})`
      )
      patches.push({ ...p, diff })
    }
    return page(c, <RunPage viewer={c.get('viewer')} run={run} events={events.slice(-500)} patches={patches} {...flash(c)} />)
  })

  app.post('/runs/:id/cancel', async (c) => {
    const id = encodeURIComponent(c.req.param('id'))
    const res = await call(c, 'POST', `/runs/${id}/cancel`, { reason: `cancelled in the web UI by ${c.get('viewer').name}` })
    return back(c, `/runs/${id}`, res, 'Run cancelled.')
  })

  app.post('/runs/:id/replay', async (c) => {
    const id = encodeURIComponent(c.req.param('id'))
    const form = await c.req.parseBody()
    const from = typeof form.from === 'string' && form.from ? form.from : undefined
    const res = await call<{ run_id: string }>(c, 'POST', `/runs/${id}/replay`, from ? { from } : {})
    if (res.status === 201) return back(c, `/runs/${res.body.run_id}`, res, `Replay of ${c.req.param('id')}.`)
    return back(c, `/runs/${id}`, res, '')
  })

  app.post('/patches/:id/:decision{approve|reject}', async (c) => {
    const form = await c.req.parseBody()
    const run = typeof form.run === 'string' && /^run_[0-9a-f]{28}$/.test(form.run) ? form.run : ''
    const decision = c.req.param('decision')
    const res = await call(c, 'POST', `/patches/${encodeURIComponent(c.req.param('id'))}/${decision}`, {})
    return back(c, run ? `/runs/${run}` : '/', res, decision === 'approve' ? 'Patch approved.' : 'Patch rejected.')
  })

  app.get('/approvals', async (c) => {
    const status = c.req.query('status') || 'pending'
    const res = await call<{ approvals: ApprovalRow[] }>(c, 'GET', `/approvals?${new URLSearchParams({ status, limit: '100' })}`)
    return page(
      c,
      <ApprovalsPage
        viewer={c.get('viewer')}
        approvals={res.status === 200 ? res.body.approvals : []}
        status={status}
        notice={flash(c).notice}
        error={res.status === 200 ? flash(c).error : res.message}
      />
    )
  })

  app.post('/approvals/:id/decide', async (c) => {
    const form = await c.req.parseBody()
    const comment = typeof form.comment === 'string' && form.comment.trim() ? form.comment.trim() : undefined
    const res = await call(c, 'POST', `/approvals/${encodeURIComponent(c.req.param('id'))}/decide`, {
      decision: form.decision,
      ...(comment ? { comment } : {}),
    })
    return back(c, '/approvals', res, form.decision === 'reject' ? 'Rejected.' : 'Approved.')
  })

  return app
}

/** A page as a response: the doctype, then the rendered component. */
async function page(c: Context, element: unknown, status = 200): Promise<Response> {
  return c.html(`<!doctype html>${await element}`, status as ContentfulStatusCode)
}

class UiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

/** Only a path of this site (never `//host` or a scheme). */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && next.length < 2000 ? next : '/'
}
