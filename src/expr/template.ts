/**
 * `{{ expr }}` templates inside node config strings. A string that is exactly one `{{ expr }}`
 * yields the raw value; otherwise each placeholder is replaced by its text form.
 * @module
 */
import { AobError, ErrorCode } from '../errors.ts'
import { dict } from '../model/dict.ts'
import { evaluateExpression, expressionSyntaxError } from './expression.ts'

const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g
const WHOLE = /^\s*\{\{([\s\S]*?)\}\}\s*$/

export function hasTemplate(s: string): boolean {
  return s.includes('{{')
}

/** Every placeholder expression in `s`. */
export function templateExpressions(s: string): string[] {
  return Array.from(s.matchAll(PLACEHOLDER), (m) => m[1].trim())
}

/** Syntax errors of every template string in a JSON value, with JSON-pointer paths. */
export function templateErrors(value: unknown, path: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = []
  walkStrings(value, path, (s, p) => {
    if (!hasTemplate(s)) return
    for (const expr of templateExpressions(s)) {
      if (expr === '') out.push({ path: p, message: 'empty template expression "{{ }}"' })
      else {
        const err = expressionSyntaxError(expr)
        if (err) out.push({ path: p, message: err })
      }
    }
  })
  return out
}

/** Renders every template string in `value` (deep) over `context`. */
export async function renderTemplates(
  value: unknown,
  context: unknown,
  path = ''
): Promise<unknown> {
  if (typeof value === 'string') return renderString(value, context, path)
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++)
      out.push(await renderTemplates(value[i], context, `${path}/${i}`))
    return out
  }
  if (value && typeof value === 'object') {
    const out = dict<unknown>()
    for (const [k, v] of Object.entries(value))
      out[k] = await renderTemplates(v, context, `${path}/${k}`)
    return out
  }
  return value
}

async function renderString(s: string, context: unknown, path: string): Promise<unknown> {
  if (!hasTemplate(s)) return s
  try {
    const whole = WHOLE.exec(s)
    if (whole && templateExpressions(s).length === 1) {
      const v = await evaluateExpression(whole[1].trim(), context)
      return v === undefined ? null : v
    }
    let out = ''
    let last = 0
    for (const m of s.matchAll(PLACEHOLDER)) {
      out += s.slice(last, m.index)
      const v = await evaluateExpression(m[1].trim(), context)
      out += v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)
      last = (m.index ?? 0) + m[0].length
    }
    return out + s.slice(last)
  } catch (e) {
    throw new AobError(
      ErrorCode.ExpressionError,
      `template at config${path}: ${(e as Error).message}`
    )
  }
}

function walkStrings(value: unknown, path: string, visit: (s: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path)
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, `${path}/${i}`, visit))
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walkStrings(v, `${path}/${escapePointer(k)}`, visit)
  }
}

export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
