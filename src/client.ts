/**
 * @module client
 * `latchkey/client`, kept for apps written before the SDK became its own package: the same
 * exports as `@latchkey/client`. New code should depend on `@latchkey/client` alone, which
 * installs none of the server's dependencies.
 */
export * from '@latchkey/client'
