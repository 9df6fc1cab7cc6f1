/**
 * Collections keyed by user data (node ids, field names, header names). A plain `{}` turns the
 * key `__proto__` into a prototype change and answers `constructor` or `toString` with
 * Object's own members; a null-prototype object has neither problem and still serialises as
 * JSON. Every id-keyed record the engine builds or loads is one of these (or a Map).
 * @module
 */

/** An empty null-prototype record. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>
}

/** A null-prototype record of `entries` (or a copy of a parsed object's own entries). */
export function dictOf<T>(
  entries: Iterable<readonly [string, T]> | Record<string, T>
): Record<string, T> {
  // Object.assign onto a null-prototype target defines `__proto__` as a plain own key.
  if (!(Symbol.iterator in entries)) return Object.assign(dict<T>(), entries)
  const out = dict<T>()
  for (const [k, v] of entries as Iterable<readonly [string, T]>) out[k] = v
  return out
}

/** The own value at `key`, never an inherited one. */
export function own<T>(obj: Record<string, T> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined
}
