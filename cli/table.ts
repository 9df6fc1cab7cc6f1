/** Text output for people: aligned columns and relative times. @module */
export { age } from '../src/time.ts'

/** Rows as columns padded to their widest cell (the last column is not padded). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : (cell ?? '').padEnd(widths[i])))
        .join('  ')
        .trimEnd()
    )
    .join('\n')
}

/** At most `max` characters on one line. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
