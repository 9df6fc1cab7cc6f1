/** Text output for people: aligned columns and relative times. @module */

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

/** "12s", "5m", "3h", "2d" since `iso` (or until it, for a time in the future: "in 5m"). */
export function age(iso: string | null, now = Date.now()): string {
  if (!iso) return '-'
  const ms = now - Date.parse(iso)
  const s = Math.round(Math.abs(ms) / 1000)
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m`
        : s < 86_400
          ? `${Math.floor(s / 3600)}h`
          : `${Math.floor(s / 86_400)}d`
  return ms < 0 ? `in ${text}` : text
}

/** At most `max` characters on one line. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
