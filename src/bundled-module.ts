/**
 * Importing a module that is a separate entrypoint of the compiled binaries (scripts/build.ts):
 * by a specifier the bundler does not follow, so the module stays out of the bundle that
 * imports it and is read only when imported. From source, the same path under the project.
 * @module
 */

/** `fromRoot`: the module's path from the project root, e.g. `src/libs-entry.ts`. */
export function bundledModuleUrl(fromRoot: string): string {
  const here = import.meta.url
  // In a binary every entrypoint lives under /$bunfs/root/ by its path from the project root.
  const at = here.indexOf('/$bunfs/root/')
  if (at >= 0)
    return `${here.slice('file://'.length, at)}/$bunfs/root/${fromRoot.replace(/\.ts$/, '.js')}`
  return new URL(`../${fromRoot}`, here).href
}

export function importBundled<T>(fromRoot: string): Promise<T> {
  const url = bundledModuleUrl(fromRoot)
  return import(url) as Promise<T>
}
