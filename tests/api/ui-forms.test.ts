/** The web UI's forms over HTTP (the browser suite drives the pages; this is what a script could send). */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { OPERATOR, testPlatform, type TestPlatform } from '../helpers/kernel.ts'

let p: TestPlatform
beforeAll(async () => {
  p = await testPlatform({ backend: 'embedded' })
})
afterAll(() => p.close())

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

test('sign-in needs its CSRF cookie; a bad token is 401; a form over 64 KiB is 413 unread', async () => {
  const get = await p.app.request('/sign-in')
  const cookie = get.headers.getSetCookie().find((c) => c.startsWith('aob_login_csrf='))!
  const csrf = cookie.split(';')[0].slice('aob_login_csrf='.length)
  const post = (fields: Record<string, string>, withCookie = true) =>
    p.app.request('/sign-in', {
      method: 'POST',
      headers: { ...FORM, ...(withCookie ? { cookie: `aob_login_csrf=${csrf}` } : {}) },
      body: form(fields),
    })
  expect((await post({ csrf, token: OPERATOR }, false)).status).toBe(403)
  expect((await post({ csrf, token: 'not-a-token-at-all' })).status).toBe(401)
  const huge = await post({ csrf, token: 'x'.repeat(100 * 1024) })
  expect(huge.status).toBe(413)
  const ok = await post({ csrf, token: OPERATOR, next: '//evil.example/' })
  expect(ok.status).toBe(303)
  expect(ok.headers.get('location')).toBe('/') // never another site
  const session = ok.headers.getSetCookie().find((c) => c.startsWith('aob_session='))!
  expect(session).toContain('HttpOnly')
  expect(session).toContain('SameSite=Strict')
  // Signed in: a POST without the session's CSRF token is refused and changes nothing.
  const cookie2 = session.split(';')[0]
  const out = await p.app.request('/sign-out', {
    method: 'POST',
    headers: { ...FORM, cookie: cookie2 },
    body: form({}),
  })
  expect(out.status).toBe(403)
  expect((await p.app.request('/', { headers: { cookie: cookie2 } })).status).toBe(200)
})
