/**
 * @module latchkey
 * The server as a library: `createLatchkey(config)` starts the same broker `latchkey serve` runs,
 * for embedding in a process of your own (tests, a custom CLI). Apps that only call Latchkey want
 * the SDK, `@latchkey/client`, which carries none of this package's dependencies.
 */

export { type Config, loadConfig } from './config.js'
export { createLatchkey, type Latchkey, type LatchkeyOptions } from './server.js'
