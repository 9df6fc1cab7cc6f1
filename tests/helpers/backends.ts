/** The backends every API and semantics suite runs on. Both always; none is skipped. */
import type { Backend } from './kernel.ts'

export const BACKENDS: Backend[] = ['embedded', 'redis-pg']
