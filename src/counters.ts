/**
 * Counters by name and labels, kept in process (what `/metrics` will export once the metrics
 * issue lands; tests read them). Labels are small closed sets, never ids.
 * @module
 */
export class Counters {
  private readonly values = new Map<string, number>()

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = keyOf(name, labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }

  /** A gauge: the value now. */
  set(name: string, value: number, labels: Record<string, string> = {}): void {
    this.values.set(keyOf(name, labels), value)
  }

  /** A histogram observation (Prometheus style: cumulative `_bucket{le}`, `_sum`, `_count`). */
  observe(name: string, value: number, buckets: readonly number[]): void {
    for (const le of buckets) if (value <= le) this.inc(`${name}_bucket`, { le: String(le) })
    this.inc(`${name}_bucket`, { le: '+Inf' })
    this.inc(`${name}_sum`, {}, value)
    this.inc(`${name}_count`)
  }

  get(name: string, labels: Record<string, string> = {}): number {
    return this.values.get(keyOf(name, labels)) ?? 0
  }

  /** Every counter as `name{label="value",…}` → value, Prometheus style. */
  snapshot(): Map<string, number> {
    return new Map(this.values)
  }
}

function keyOf(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
  return parts.length ? `${name}{${parts.join(',')}}` : name
}
