// The web UI's browser cases (SPEC §10), run by tests/ui/web-ui.browser.test.ts under Node:
// playwright-core's client is Node's, and under Bun it now and then lost a page WebSocket's
// events (its frames arrived for a socket it never saw created). Drives Debian's Chromium
// against the `aob dev` at AOB_UI_URL; prints one JSON line per case: {case, ok, error?}.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const { AOB_UI_URL: url, AOB_UI_ADMIN: ADMIN, AOB_UI_OPERATOR: OPERATOR, AOB_UI_VIEWER: VIEWER } =
  process.env
const shots = process.env.AOB_UI_SHOTS
const problems = []
const browser = await chromium.launch({
  executablePath: process.env.AOB_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
})

const waitFor = async (fn, timeoutMs = 10_000, what = 'condition') => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A fresh browser context, its console errors and page errors collected. */
async function open({ width = 1280, javaScript = true } = {}) {
  const context = await browser.newContext({
    viewport: { width, height: 900 },
    javaScriptEnabled: javaScript,
  })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  return { context, page }
}

/** Fills and sends the sign-in form; resolves with the POST's answer. */
async function submitSignIn(page, token) {
  await page.locator('#token').fill(token)
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign-in')),
    page.locator('form[action="/sign-in"] button[type=submit]').click(),
  ])
  return answer
}

async function signIn(page, token) {
  await page.goto(`${url}/`)
  assert.equal(new URL(page.url()).pathname, '/sign-in')
  await submitSignIn(page, token)
  await page.waitForURL(`${url}/`)
}

const api = async (method, path, body, token = ADMIN) => {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return res.json()
}
const startRun = async (workflow, input = {}) => (await api('POST', '/runs', { workflow, input })).run_id
const statusOf = async (id) => (await api('GET', `/runs/${id}`)).status

const slowChain = {
  name: 'ui-slow-chain',
  nodes: [
    { id: 'fetch', type: 'noop', config: { output: { n: 1 } } },
    { id: 'think', type: 'sleep', config: { ms: 1500 } },
    {
      id: 'decide',
      type: 'transform',
      config: { pipeline: [{ op: 'transform', expr: '{"done": true}' }] },
    },
    { id: 'report', type: 'noop' },
  ],
  edges: [
    { from: 'fetch', to: 'think' },
    { from: 'think', to: 'decide' },
    { from: 'think', to: 'report' },
  ],
}
const approvalFlow = {
  name: 'ui-approval',
  nodes: [
    { id: 'start', type: 'noop' },
    { id: 'gate', type: 'hitl', config: { prompt: 'Ship release {{ input.version }}?' } },
    { id: 'ship', type: 'noop', config: { output: 'shipped' } },
  ],
  edges: [
    { from: 'start', to: 'gate' },
    { from: 'gate', to: 'ship', on: 'approve' },
  ],
}
const statusText = (page, selector) => page.locator(selector).first().textContent()

const cases = {
  async 'sign in'() {
    const { context, page } = await open()
    await page.goto(`${url}/approvals`)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    assert.equal((await submitSignIn(page, 'not-a-real-token')).status(), 401)
    assert.match(await page.locator('[role=alert]').textContent(), /not valid/)
    // That answer is a 401 on purpose; Chromium logs every 4xx document as a console error.
    const expected = problems.findIndex((p) => p.includes('401 (Unauthorized)') && p.includes('/sign-in'))
    assert.ok(expected >= 0, 'the 401 was logged')
    problems.splice(expected, 1)
    await submitSignIn(page, ADMIN)
    await page.waitForURL(`${url}/approvals`) // back where it was going
    const session = (await context.cookies()).find((c) => c.name === 'aob_session')
    assert.deepEqual(
      { httpOnly: session.httpOnly, sameSite: session.sameSite, path: session.path },
      { httpOnly: true, sameSite: 'Strict', path: '/' }
    )
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('aob_session'))
    const csp = (await page.request.get(`${url}/`)).headers()['content-security-policy']
    assert.match(csp, /script-src 'self'/)
    await page.screenshot({ path: join(shots, 'sign-in.png') })
    // Signing out ends the session on the server: the old cookie no longer opens a page.
    await page.click('form[action="/sign-out"] button')
    await page.waitForURL(/\/sign-in/)
    await context.addCookies([{ ...session, expires: -1 }])
    await page.goto(`${url}/`)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await context.close()
  },

  async 'runs list live'() {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    await page.waitForFunction(() => document.body.dataset.live === 'connected')
    const id = await startRun(slowChain)
    const row = page.locator(`tr[data-run="${id}"]`)
    await row.waitFor({ timeout: 5_000 }) // no reload: it arrived over the WebSocket
    assert.equal(await row.locator('[data-status]').textContent(), 'running')
    await page.waitForFunction(
      (run) => document.querySelector(`tr[data-run="${run}"] [data-status]`)?.textContent === 'succeeded',
      id,
      { timeout: 10_000 }
    )
    await page.screenshot({ path: join(shots, 'runs-live.png') })
    await context.close()
  },

  async 'run graph live'() {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    const id = await startRun(slowChain)
    await page.goto(`${url}/runs/${id}`)
    assert.equal(await page.locator('svg.graph [data-node]').count(), slowChain.nodes.length)
    assert.equal(await page.locator('svg.graph .edge').count(), slowChain.edges.length)
    const decide = page.locator('svg.graph [data-node="decide"]')
    assert.match(await decide.getAttribute('class'), /status-pending/)
    await page.waitForFunction(
      () =>
        document
          .querySelector('svg.graph [data-node="think"]')
          ?.getAttribute('class')
          ?.includes('status-running'),
      undefined,
      { timeout: 5_000 }
    )
    await page.screenshot({ path: join(shots, 'run-running.png') })
    // The run ends; the page reloads itself once to show outputs.
    const reloaded = page.waitForEvent('load', { timeout: 15_000 })
    await page.waitForFunction(
      () => document.querySelector('[data-run-status] [data-status]')?.textContent === 'succeeded',
      undefined,
      { timeout: 10_000 }
    )
    await reloaded
    assert.match(await decide.getAttribute('class'), /status-succeeded/)
    // Labels, not only colours; the timeline and each node's details.
    assert.equal(await decide.locator('[data-status]').textContent(), 'succeeded')
    assert.ok((await page.locator('[data-timeline] li').count()) >= 10)
    await page.click('details[data-node-detail="decide"] summary')
    assert.match(await page.locator('details[data-node-detail="decide"]').textContent(), /"done": true/)
    await page.screenshot({ path: join(shots, 'run-page.png'), fullPage: true })
    await context.close()
  },

  async 'approve from the inbox'() {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    const id = await startRun(approvalFlow, { version: '1.2' })
    await waitFor(async () => (await statusOf(id)) === 'paused')
    await page.goto(`${url}/approvals`)
    const card = page.locator('article.approval', { hasText: 'Ship release 1.2?' })
    await card.waitFor()
    await card.locator('textarea').fill('looks good')
    // Reach the Approve button with the keyboard and press it.
    await card.locator('textarea').focus()
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.value), 'approve')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/approvals\?notice=/)
    assert.equal(await page.locator('.notice').textContent(), 'Approved.')
    await waitFor(async () => (await statusOf(id)) === 'succeeded')
    const run = await api('GET', `/runs/${id}`)
    assert.equal(run.approvals[0].status, 'approved')
    assert.equal(run.approvals[0].decided_by, 'olga')
    assert.equal(run.nodes.ship.status, 'succeeded')
    await page.screenshot({ path: join(shots, 'approvals.png') })
    await context.close()
  },

  async 'a viewer cannot act'() {
    const { context, page } = await open()
    await signIn(page, VIEWER)
    const id = await startRun(approvalFlow, { version: '9' })
    await waitFor(async () => (await statusOf(id)) === 'paused')
    await page.goto(`${url}/runs/${id}`)
    assert.equal(await page.locator('form[action$="/cancel"]').count(), 0)
    assert.equal(await page.locator('form[action$="/replay"]').count(), 0)
    await page.goto(`${url}/approvals`)
    await page.locator('article.approval', { hasText: 'Ship release 9?' }).waitFor()
    assert.equal(await page.locator('form.decide').count(), 0)
    assert.match(await page.locator('main').textContent(), /Read-only/)
    // A hand-made POST with the viewer's own CSRF token: the API says no, nothing changes.
    const csrf = await page.locator('form[action="/sign-out"] input[name=csrf]').getAttribute('value')
    const forged = await page.request.post(`${url}/runs/${id}/cancel`, { form: { csrf } })
    assert.match(forged.url(), /error=/)
    assert.match(await forged.text(), /operator/)
    // Without the CSRF token the UI refuses before asking the API.
    const noCsrf = await page.request.post(`${url}/runs/${id}/cancel`, { form: {}, maxRedirects: 0 })
    assert.equal(noCsrf.status(), 403)
    assert.equal(await statusOf(id), 'paused')
    await page.screenshot({ path: join(shots, 'viewer.png') })
    await api('POST', `/runs/${id}/cancel`)
    await context.close()
  },

  async 'reading without JavaScript on a phone'() {
    const { context, page } = await open({ javaScript: false, width: 390 })
    await signIn(page, VIEWER)
    const id = await startRun(slowChain)
    await page.goto(`${url}/`)
    await page.locator(`tr[data-run="${id}"] a`).click()
    await page.waitForURL(`${url}/runs/${id}`)
    assert.equal(await page.locator('svg.graph [data-node]').count(), slowChain.nodes.length)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `no sideways scrolling (overflow ${overflow}px)`)
    await page.screenshot({ path: join(shots, 'phone-no-js.png'), fullPage: true })
    await context.close()
  },
}

for (const [name, run] of Object.entries(cases)) {
  try {
    await run()
    console.log(JSON.stringify({ case: name, ok: true }))
  } catch (e) {
    console.log(JSON.stringify({ case: name, ok: false, error: e.stack ?? String(e) }))
  }
}
console.log(JSON.stringify({ case: 'no console errors', ok: problems.length === 0, error: problems.join('\n') }))
await browser.close()
