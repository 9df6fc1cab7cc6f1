/** Relative times for people (the CLI's tables, the web UI). @module */

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
