/**
 * The backends every API and semantics suite runs on: both, always (none is skipped). Only
 * `bun run test:unit` narrows them to the embedded one (AOB_TEST_BACKENDS=embedded), so that
 * it needs no servers; the test command runs both.
 */
import type { Backend } from './kernel.ts'

const ALL: Backend[] = ['embedded', 'redis-pg']
const chosen = (process.env.AOB_TEST_BACKENDS ?? '').split(',').filter(Boolean)
if (chosen.some((b) => !ALL.includes(b as Backend)))
  throw new Error(`AOB_TEST_BACKENDS must list some of ${ALL.join(', ')}`)

export const BACKENDS: Backend[] = chosen.length ? (chosen as Backend[]) : ALL
