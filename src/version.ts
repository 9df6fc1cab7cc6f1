/** Set at build time with --define; "dev" from source. @module */
declare const AOB_VERSION: string | undefined
export const VERSION: string = typeof AOB_VERSION === 'string' ? AOB_VERSION : '0.1.0-dev'
