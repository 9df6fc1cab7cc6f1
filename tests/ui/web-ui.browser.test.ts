/**
 * The web UI (SPEC §10) in a real browser: Debian's Chromium driven by playwright-core
 * (tests/ui/web-ui.driver.mjs, under Node) against `aob dev`. One test per browser case; each
 * case saves a screenshot under the suite's temp dir, printed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { E2E_TOKEN, startDev, type DevProcess } from '../helpers/processes.ts'

const CHROMIUM = process.env.AOB_CHROMIUM ?? '/usr/bin/chromium'
const CASES = [
  'sign in',
  'runs list live',
  'run graph live',
  'approve from the inbox',
  'a viewer cannot act',
  'reading without JavaScript on a phone',
  'no console errors',
]
const shots = mkdtempSync(join(tmpdir(), 'aob-ui-shots-'))

let dev: DevProcess
let results: Promise<Map<string, { ok: boolean; error?: string }>>

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: the test command installs Debian's chromium (apt)`)
  dev = await startDev({
    env: { AOB_TOKENS: 'operator@olga:ui-operator-token-1,viewer@vera:ui-viewer-token-01' },
  })
  const driver = Bun.spawn(['node', join(import.meta.dir, 'web-ui.driver.mjs')], {
    cwd: join(import.meta.dir, '../..'),
    env: {
      ...process.env,
      AOB_CHROMIUM: CHROMIUM,
      AOB_UI_URL: dev.url,
      AOB_UI_ADMIN: E2E_TOKEN,
      AOB_UI_OPERATOR: 'ui-operator-token-1',
      AOB_UI_VIEWER: 'ui-viewer-token-01',
      AOB_UI_SHOTS: shots,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  results = (async () => {
    const [out, err, code] = await Promise.all([
      new Response(driver.stdout).text(),
      new Response(driver.stderr).text(),
      driver.exited,
    ])
    const map = new Map<string, { ok: boolean; error?: string }>()
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
      const r = JSON.parse(line)
      map.set(r.case, r)
    }
    if (code !== 0) map.set('driver', { ok: false, error: `exit ${code}: ${err}` })
    return map
  })()
})
afterAll(async () => {
  await results
  await dev?.stop()
  console.log(`web UI screenshots: ${shots}`)
})

describe('web UI in Chromium', () => {
  for (const name of CASES)
    test(name, async () => {
      const all = await results
      expect(all.get('driver')).toBeUndefined()
      const r = all.get(name) ?? { ok: false, error: 'the case did not run' }
      expect({ case: name, ok: r.ok, error: r.ok ? undefined : r.error }).toEqual({
        case: name,
        ok: true,
        error: undefined,
      })
    }, 120_000)
})
