/**
 * A Map that holds at most `limit` entries, evicting the oldest insertion first. Every cache a
 * process keeps (run states, workflows, IRs, compiled expressions) is one of these.
 * @module
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super()
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K)
    return super.set(key, value)
  }
}
