/** Turns valibot issues into `{path, message}` with JSON-pointer paths. @module */
import type * as v from 'valibot'
import type { ErrorDetail } from '../errors.ts'
import { escapePointer } from '../expr/template.ts'

export function issuesToDetails(issues: v.BaseIssue<unknown>[], base = ''): ErrorDetail[] {
  return issues.map((issue) => {
    const segments = (issue.path ?? []).map((p) => escapePointer(String(p.key)))
    let message = issue.message
    // valibot reports an unknown key of a strict object at the object with the key as `input`.
    if (issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never') {
      message = `unknown field "${segments[segments.length - 1]}"`
    }
    const path = base + (segments.length ? `/${segments.join('/')}` : '')
    return { path: path || '/', message }
  })
}
