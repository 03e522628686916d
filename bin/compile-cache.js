// Where Node's compile cache may live, or undefined for none (used by bin/latchkey.js).
//
// The cache holds V8 code that Node loads instead of compiling the module, checked only by
// checksums anyone can recompute: whoever can write the folder can run code in the process that
// holds the encryption keys. So it is used only inside the data folder, and only when that folder
// and the cache folder in it belong to this user and no one else may write them — never Node's
// default under the shared temporary folder.
import { lstatSync } from 'node:fs'
import { join } from 'node:path'

/** True when `path` is a directory of this user that group and others cannot write; false if absent or not. */
function ownPrivateDir(path) {
  try {
    const s = lstatSync(path)
    return s.isDirectory() && s.uid === process.getuid() && (s.mode & 0o022) === 0
  } catch {
    return false
  }
}

/** The cache folder inside `dataDir`, or undefined when it must not be used. */
export function compileCacheDir(dataDir) {
  if (typeof process.getuid !== 'function' || !ownPrivateDir(dataDir)) return undefined
  const dir = join(dataDir, 'compile-cache')
  try {
    lstatSync(dir)
  } catch {
    return dir // Node creates it, inside a folder only this user can write
  }
  return ownPrivateDir(dir) ? dir : undefined
}
