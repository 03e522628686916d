#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs'
import module from 'node:module'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileCacheDir } from './compile-cache.js'

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
if (!existsSync(main)) {
  console.error('latchkey: not built yet. Run `npm install` (or `npm run build`) in the Latchkey folder first.')
  process.exit(1)
}
// Node ≥ 22.1 keeps V8's compiled code of the modules loaded below on disk, so a later start skips
// most of their compiling (start-up time): only in a data folder of this user that no one else can
// write (compile-cache.js says why), else not at all. NODE_DISABLE_COMPILE_CACHE=1 turns it off;
// Node 20 has no cache.
const cacheDir = module.enableCompileCache ? compileCacheDir(resolve(process.env.LATCHKEY_DATA_DIR ?? 'data')) : undefined
if (cacheDir !== undefined) module.enableCompileCache(cacheDir)
await import(main)
