/**
 * The only object schemas aob uses. valibot's object, record and variant schemas accept arrays
 * (an array is an object to `typeof`), and its records drop `__proto__`, `constructor` and
 * `prototype` keys without a word; these wrappers refuse both, so every object in every schema
 * is a JSON object and nothing the user sent disappears silently. A unit test keeps the rest of
 * the tree from calling valibot's object schemas directly.
 * @module
 */
import * as v from 'valibot'

/** Keys that are never accepted as record keys (they would touch an object's prototype). */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const anObject = <T = Record<string, unknown>>(what = 'a JSON object') =>
  v.custom<T>(isJsonObject, `must be ${what}`)

/** A JSON object with exactly these fields (unknown fields are errors). */
export function strictObject<const E extends v.ObjectEntries>(entries: E, what?: string) {
  return v.pipe(anObject(what), v.strictObject(entries))
}

/**
 * A JSON object with at least these fields; unknown fields are kept (bus messages: a newer
 * process may add fields an older one must pass along).
 */
export function looseObject<const E extends v.ObjectEntries>(entries: E, what?: string) {
  return v.pipe(anObject(what), v.looseObject(entries))
}

/** A JSON object of `key` → `value`; reserved keys are errors. */
export function record<
  K extends v.GenericSchema<string, string | number | symbol>,
  V extends v.GenericSchema,
>(key: K, value: V, what?: string) {
  return v.pipe(
    anObject(what),
    v.check(
      (o) => !Object.keys(o).some((k) => RESERVED_KEYS.has(k)),
      'must not use the keys __proto__, constructor or prototype'
    ),
    v.record(key, value)
  )
}

/** An option of `variant` with exactly these fields (the variant has checked it is an object). */
export const option = v.strictObject

/** An option of `variant` that keeps unknown fields (bus messages). */
export const looseOption = v.looseObject

/** A JSON object told apart by its `key` field. */
export function variant<const K extends string, const O extends v.VariantOptions<K>>(
  key: K,
  options: O,
  what?: string
) {
  return v.pipe(anObject<v.InferInput<O[number]>>(what), v.variant(key, options))
}
