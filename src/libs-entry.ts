/**
 * The heavy libraries, as one module of their own: a separate entrypoint of every compiled
 * binary (scripts/build.ts), loaded by `loadLibs()` (src/libs.ts) when a process first needs
 * them, so that a command that does not (`aob --version`, most `aob workflow validate` runs)
 * neither loads nor carries their code at start.
 * @module
 */
export { default as Ajv } from 'ajv'
export { DateTime, IANAZone } from 'luxon'
export { RE2JS } from 're2js'
