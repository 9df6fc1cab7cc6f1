/**
 * Ajv, luxon and RE2JS, loaded once per process on first need (`loadLibs`), then at hand
 * synchronously (`libs`). Every service loads them at start; the CLI only when a workflow it
 * validates needs them (they are half of what validation would otherwise load).
 * @module
 */
import { importBundled } from './bundled-module.ts'

export type Libs = typeof import('./libs-entry.ts')

let loaded: Libs | null = null
let loading: Promise<Libs> | null = null

export function loadLibs(): Promise<Libs> {
  if (loaded) return Promise.resolve(loaded)
  loading ??= importBundled<Libs>('src/libs-entry.ts').then((m) => (loaded = m))
  return loading
}

/** The libraries; throws LibsNotLoadedError before `loadLibs()` has resolved. */
export function libs(): Libs {
  if (!loaded) throw new LibsNotLoadedError()
  return loaded
}

/** Thrown by `libs()` before they are loaded: load them (`loadLibs()`) and try again. */
export class LibsNotLoadedError extends Error {
  override name = 'LibsNotLoadedError'
  constructor() {
    super('[aob] the heavy libraries are not loaded yet (await loadLibs() first)')
  }
}
