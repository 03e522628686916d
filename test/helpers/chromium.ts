/**
 * Debian's headless Chromium through playwright-core, started the way this machine kind needs:
 * without background networking (its connections are refused here, many at a time) and without
 * the sandbox (tests run as root). `chromiumAvailable`: the browser tests must run in CI (.ci/run
 * installs the package); elsewhere they need it installed.
 */
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM) || process.env['CI'] === 'true'

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
