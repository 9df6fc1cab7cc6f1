/**
 * The web UI (SPEC §10) in a real browser: playwright-core driving Debian's Chromium against
 * `aob dev`. Each test saves a screenshot under the suite's temp dir (printed at the end).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { E2E_TOKEN, startDev, type DevProcess } from '../helpers/processes.ts'
import { waitFor } from '../helpers/wait-for.ts'

// The page callbacks below run in the browser, where these exist.
declare const document: any
declare const window: any

const CHROMIUM = process.env.AOB_CHROMIUM ?? '/usr/bin/chromium'
const OPERATOR = 'ui-operator-token-1'
const VIEWER = 'ui-viewer-token-01'
const shots = mkdtempSync(join(tmpdir(), 'aob-ui-shots-'))

let dev: DevProcess
let browser: Browser
const problems: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: the test command installs Debian's chromium (apt)`)
  dev = await startDev({
    env: { AOB_TOKENS: `operator@olga:${OPERATOR},viewer@vera:${VIEWER}` },
  })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
})
afterAll(async () => {
  await browser?.close()
  await dev?.stop()
  console.log(`web UI screenshots: ${shots}`)
})

/** A fresh browser context, its console errors and page errors collected. */
async function open(opts: { width?: number; javaScript?: boolean } = {}) {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: 900 },
    javaScriptEnabled: opts.javaScript ?? true,
  })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  return { context, page }
}

async function signIn(page: Page, token: string) {
  await page.goto(`${dev.url}/`)
  expect(new URL(page.url()).pathname).toBe('/sign-in')
  await page.fill('#token', token)
  await page.click('form[action="/sign-in"] button[type=submit]')
  await page.waitForURL(`${dev.url}/`)
}

const api = async (method: string, path: string, body?: unknown, token = E2E_TOKEN) => {
  const res = await fetch(`${dev.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await res.json()) as any
}
const startRun = async (workflow: unknown, input: unknown = {}) =>
  (await api('POST', '/runs', { workflow, input })).run_id as string
const statusOf = async (id: string) => (await api('GET', `/runs/${id}`)).status as string

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

describe('web UI in Chromium', () => {
  test('sign in: a wrong token is refused; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const { context, page } = await open()
    await page.goto(`${dev.url}/approvals`)
    expect(new URL(page.url()).pathname).toBe('/sign-in')
    await page.fill('#token', 'not-a-real-token')
    await page.click('form[action="/sign-in"] button[type=submit]')
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('not valid')
    // That answer is a 401 on purpose; Chromium logs every 4xx document as a console error.
    const expected = problems.findIndex(
      (p) => p.includes('401 (Unauthorized)') && p.includes('/sign-in')
    )
    expect(expected).toBeGreaterThanOrEqual(0)
    problems.splice(expected, 1)
    await page.fill('#token', E2E_TOKEN)
    await page.click('form[action="/sign-in"] button[type=submit]')
    await page.waitForURL(`${dev.url}/approvals`) // back where it was going
    const session = (await context.cookies()).find((c) => c.name === 'aob_session')!
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
    expect(await page.evaluate(() => document.cookie)).not.toContain('aob_session')
    const csp = (await page.request.get(`${dev.url}/`)).headers()['content-security-policy']
    expect(csp).toContain("script-src 'self'")
    await page.screenshot({ path: join(shots, 'sign-in.png') })
    // Signing out ends the session on the server: the old cookie no longer opens a page.
    await page.click('form[action="/sign-out"] button')
    await page.waitForURL(/\/sign-in/)
    await context.addCookies([{ ...session, expires: -1 }])
    await page.goto(`${dev.url}/`)
    expect(new URL(page.url()).pathname).toBe('/sign-in')
    await context.close()
  })

  test('the runs list shows new runs and their status changes live', async () => {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    await page.waitForFunction(() => document.body.dataset.live === 'connected')
    const id = await startRun(slowChain)
    const row = page.locator(`tr[data-run="${id}"]`)
    await row.waitFor({ timeout: 5_000 }) // no reload: it arrived over the WebSocket
    await expect(row.locator('[data-status]').textContent()).resolves.toBe('running')
    await page.waitForFunction(
      (run) =>
        document.querySelector(`tr[data-run="${run}"] [data-status]`)?.textContent === 'succeeded',
      id,
      { timeout: 10_000 }
    )
    await page.screenshot({ path: join(shots, 'runs-live.png') })
    await context.close()
  })

  test("a run's page draws every node and recolours them live as the run goes", async () => {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    const id = await startRun(slowChain)
    await page.goto(`${dev.url}/runs/${id}`)
    const nodes = page.locator('svg.graph [data-node]')
    await expect(nodes.count()).resolves.toBe(slowChain.nodes.length)
    expect(await page.locator('svg.graph .edge').count()).toBe(slowChain.edges.length)
    const decide = page.locator('svg.graph [data-node="decide"]')
    expect(await decide.getAttribute('class')).toContain('status-pending')
    await page.screenshot({ path: join(shots, 'run-running.png') })
    await page.waitForFunction(
      () =>
        document
          .querySelector('svg.graph [data-node="think"]')
          ?.getAttribute('class')
          ?.includes('status-running'),
      undefined,
      { timeout: 5_000 }
    )
    // The run ends; the page reloads itself once to show outputs.
    const reloaded = page.waitForEvent('load', { timeout: 15_000 })
    await page.waitForFunction(
      () => document.querySelector('[data-run-status] [data-status]')?.textContent === 'succeeded',
      undefined,
      { timeout: 10_000 }
    )
    await reloaded
    await page.waitForFunction(
      () =>
        document
          .querySelector('svg.graph [data-node="decide"]')
          ?.getAttribute('class')
          ?.includes('status-succeeded'),
      undefined,
      { timeout: 5_000 }
    )
    // Labels, not only colours; the timeline and each node's details.
    await expect(decide.locator('[data-status]').textContent()).resolves.toBe('succeeded')
    expect(await page.locator('[data-timeline] li').count()).toBeGreaterThanOrEqual(9)
    await page.click('details[data-node-detail="decide"] summary')
    await expect(
      page.locator('details[data-node-detail="decide"]').textContent()
    ).resolves.toContain('"done": true')
    await page.screenshot({ path: join(shots, 'run-page.png'), fullPage: true })
    await context.close()
  })

  test('approving from the inbox (keyboard only) resumes the run', async () => {
    const { context, page } = await open()
    await signIn(page, OPERATOR)
    const id = await startRun(approvalFlow, { version: '1.2' })
    await waitFor(async () => (await statusOf(id)) === 'paused')
    await page.goto(`${dev.url}/approvals`)
    const card = page.locator('article.approval', { hasText: 'Ship release 1.2?' })
    await card.waitFor()
    await card.locator('textarea').fill('looks good')
    // Reach the Approve button with the keyboard and press it.
    await card.locator('textarea').focus()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.value)).toBe('approve')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/approvals\?notice=/)
    await expect(page.locator('.notice').textContent()).resolves.toBe('Approved.')
    await waitFor(async () => (await statusOf(id)) === 'succeeded')
    const run = await api('GET', `/runs/${id}`)
    expect(run.approvals[0]).toMatchObject({ status: 'approved', decided_by: 'olga' })
    expect(run.nodes.ship.status).toBe('succeeded')
    await page.screenshot({ path: join(shots, 'approvals.png') })
    await context.close()
  })

  test('a viewer sees no actions, and the server refuses a forged one', async () => {
    const { context, page } = await open()
    await signIn(page, VIEWER)
    const id = await startRun(approvalFlow, { version: '9' })
    await waitFor(async () => (await statusOf(id)) === 'paused')
    await page.goto(`${dev.url}/runs/${id}`)
    expect(await page.locator('form[action$="/cancel"]').count()).toBe(0)
    expect(await page.locator('form[action$="/replay"]').count()).toBe(0)
    await page.goto(`${dev.url}/approvals`)
    await page.locator('article.approval', { hasText: 'Ship release 9?' }).waitFor()
    expect(await page.locator('form.decide').count()).toBe(0)
    await expect(page.locator('main').textContent()).resolves.toContain('Read-only')
    // A hand-made POST with the viewer's own CSRF token: the API says no, nothing changes.
    const csrf = await page
      .locator('form[action="/sign-out"] input[name=csrf]')
      .getAttribute('value')
    const forged = await page.request.post(`${dev.url}/runs/${id}/cancel`, {
      form: { csrf: csrf! },
    })
    expect(forged.url()).toContain('error=')
    expect(await forged.text()).toContain('operator')
    // Without the CSRF token the UI refuses before asking the API.
    const noCsrf = await page.request.post(`${dev.url}/runs/${id}/cancel`, {
      form: {},
      maxRedirects: 0,
    })
    expect(noCsrf.status()).toBe(403)
    expect(await statusOf(id)).toBe('paused')
    await page.screenshot({ path: join(shots, 'viewer.png') })
    await api('POST', `/runs/${id}/cancel`)
    await context.close()
  })

  test('reading works without JavaScript, and on a phone-width screen', async () => {
    const { context, page } = await open({ javaScript: false, width: 390 })
    await signIn(page, VIEWER)
    const id = await startRun(slowChain)
    await page.goto(`${dev.url}/`)
    await page.locator(`tr[data-run="${id}"] a`).click()
    await page.waitForURL(`${dev.url}/runs/${id}`)
    expect(await page.locator('svg.graph [data-node]').count()).toBe(slowChain.nodes.length)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth
    )
    expect(overflow).toBeLessThanOrEqual(1)
    await page.screenshot({ path: join(shots, 'phone-no-js.png'), fullPage: true })
    await context.close()
  })

  test('no console errors on any page', () => {
    expect(problems).toEqual([])
  })
})
