/**
 * @module oauth/loopback
 * Whether a URL names this machine (`localhost`, 127.0.0.0/8, `[::1]`): the one rule for where
 * plain http is allowed, and only where the operator allows insecure loopback (tests, `--dev`).
 */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)
}

/** https, or plain http to this machine where insecure loopback is allowed. */
export const secureOrAllowedLoopback = (url: URL, allowInsecureLoopback: boolean): boolean =>
  url.protocol === 'https:' || (url.protocol === 'http:' && allowInsecureLoopback && isLoopbackUrl(url))
