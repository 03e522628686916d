/**
 * @module cli/initial-key
 * Hands over the admin API key created on a fresh database's first start. A terminal sees it
 * once; anything else (a container's log stream, systemd's journal, a log shipper) would keep it
 * forever, so it is written to a `0600` file instead and only the file's path is printed.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export interface InitialKeyHandOver {
  /** What to print (the key itself on a terminal, else where it was written). */
  text: string
  /** The key, when it may be shown in the "Try it" hint (terminal only). */
  printable: string | undefined
}

export function handOverInitialKey(key: string, file: string, tty: boolean, bold: (s: string) => string): InitialKeyHandOver {
  if (tty) return { text: `\n${bold('Your admin API key')} (shown once; only its hash is stored):\n\n    ${key}\n\n`, printable: key }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  // An older file of that name keeps its mode on overwrite: set it.
  chmodSync(file, 0o600)
  return {
    text: `\n${bold('An admin API key was created')} and written to ${file} (mode 0600; only its hash is stored). Read it, keep it in your secret store, and delete the file.\n\n`,
    printable: undefined,
  }
}
