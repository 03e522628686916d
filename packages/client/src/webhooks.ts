/**
 * @module client/webhooks
 * Verifying a webhook the Standard Webhooks way (https://www.standardwebhooks.com/):
 * `webhook-signature` holds one or more space-separated `v1,<base64 HMAC-SHA256>` signatures of
 * `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64 part of a `whsec_…` secret.
 * Several signatures appear while a secret is being rotated; any one that verifies is enough.
 *
 * WebCrypto only (no Node import), so it runs wherever the SDK runs: Node 19+ (global `crypto`),
 * Deno, Bun and edge runtimes. `crypto.subtle.verify` compares in constant time.
 */
import type { WebhookEventDataMap, WebhookEventType } from './webhook-events.js'

/** A verified event: the parsed body, plus the id to deduplicate on (deliveries are at least once). */
export interface WebhookEvent<Data = Record<string, unknown>, Type extends string = string> {
  /** `webhook-id`: the same for every attempt of one event. */
  id: string
  /** When the event was signed (`webhook-timestamp`). */
  timestamp: Date
  /** The event type, e.g. `connection.reauth_required`. */
  type: Type
  data: Data
  /** The whole parsed body. */
  payload: Record<string, unknown>
}

/**
 * An event Latchkey sends, discriminated by `type` (`switch (event.type)` narrows `data`). A newer
 * server may send a type this SDK does not know yet: keep a `default` branch.
 */
export type LatchkeyWebhookEvent = { [T in WebhookEventType]: WebhookEvent<WebhookEventDataMap[T], T> }[WebhookEventType]

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError'
}

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way (replay window). Default 300 s. */
  toleranceSeconds?: number
  /** The current time (tests). */
  now?: Date
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>

const header = (headers: HeaderBag, name: string): string | undefined => {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const bag = headers as Record<string, string | string[] | undefined>
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name)
  const value = key === undefined ? undefined : bag[key]
  return Array.isArray(value) ? value.join(' ') : value
}

const base64 = (s: string): Uint8Array => {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

const keyOf = (secret: string): Promise<CryptoKey> => {
  const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  let bytes: Uint8Array
  try {
    bytes = base64(raw)
  } catch {
    throw new WebhookVerificationError('the webhook secret is not base64 (expected whsec_<base64>)')
  }
  return crypto.subtle.importKey('raw', bytes as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
}

/**
 * Checks a delivery's signature and timestamp and returns the parsed event; throws
 * `WebhookVerificationError` otherwise. Pass the **raw** body exactly as received (re-serialized
 * JSON does not verify), and every secret currently valid for the endpoint (old and new during a
 * rotation). The event is typed by its `type` (`LatchkeyWebhookEvent`).
 *
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export async function verifyWebhook(
  body: string | Uint8Array,
  headers: HeaderBag,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<LatchkeyWebhookEvent> {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header')

  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN
  if (!Number.isFinite(seconds)) throw new WebhookVerificationError('webhook-timestamp is not a number of seconds')
  const tolerance = options.toleranceSeconds ?? 300
  const now = (options.now ?? new Date()).getTime() / 1000
  if (Math.abs(now - seconds) > tolerance)
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance (replayed or clock skew)')

  const text = typeof body === 'string' ? body : new TextDecoder().decode(body)
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${text}`)
  const candidates = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3))
  const keys = await Promise.all((typeof secret === 'string' ? [secret] : secret).map(keyOf))
  let verified = false
  for (const key of keys) {
    for (const candidate of candidates) {
      let mac: Uint8Array
      try {
        mac = base64(candidate)
      } catch {
        continue
      }
      if (await crypto.subtle.verify('HMAC', key, mac as BufferSource, signed)) verified = true
    }
  }
  if (!verified) throw new WebhookVerificationError('no webhook-signature matches (wrong secret, or the body was changed)')

  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    throw new WebhookVerificationError('the body is not JSON')
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new WebhookVerificationError('the body is not a JSON object')
  const p = payload as Record<string, unknown>
  // Every Latchkey event names its type; without one the body is not an event (the union type
  // below would otherwise claim a type that is not there).
  if (typeof p['type'] !== 'string' || p['type'] === '') throw new WebhookVerificationError('the body has no event type')
  // The signature proves Latchkey sent it; the shape is what that server version sends.
  return {
    id,
    timestamp: new Date(seconds * 1000),
    type: p['type'],
    data: p['data'] ?? {},
    payload: p,
  } as LatchkeyWebhookEvent
}
