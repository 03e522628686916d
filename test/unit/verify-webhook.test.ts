/**
 * The SDK's `verifyWebhook` against the Standard Webhooks reference library (`standardwebhooks`):
 * what the reference signs, we accept; what it would refuse (changed body, wrong secret, stale
 * timestamp, missing headers), we refuse; during a rotation either secret verifies.
 */
import { verifyWebhook, WebhookVerificationError } from '@latchkey/client'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'

const secretA = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`
const secretB = `whsec_${Buffer.from('b'.repeat(32)).toString('base64')}`
const body = JSON.stringify({
  type: 'connection.reauth_required',
  timestamp: '2026-12-01T12:00:00Z',
  data: { connection_id: 'c1', user_id: 'u1' },
})

function delivery(secrets: string[], at = new Date(), payload = body) {
  const id = 'msg_2b3c'
  const signature = secrets.map((s) => new Webhook(s).sign(id, at, payload)).join(' ')
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature }
}

describe('verifyWebhook', () => {
  it('accepts what the reference library signs, and returns the event', async () => {
    const event = await verifyWebhook(body, delivery([secretA]), secretA)
    expect(event).toMatchObject({ id: 'msg_2b3c', type: 'connection.reauth_required', data: { connection_id: 'c1', user_id: 'u1' } })
    // Headers objects (fetch, Deno, Bun, edge) and byte bodies work too.
    await expect(verifyWebhook(new TextEncoder().encode(body), new Headers(delivery([secretA])), secretA)).resolves.toMatchObject({
      id: 'msg_2b3c',
    })
  })

  it('agrees with the reference library on a rotation: either secret, either signature', async () => {
    const headers = delivery([secretA, secretB])
    expect(() => new Webhook(secretB).verify(body, headers)).not.toThrow()
    await expect(verifyWebhook(body, headers, secretB)).resolves.toMatchObject({ id: 'msg_2b3c' })
    await expect(verifyWebhook(body, delivery([secretB]), [secretA, secretB])).resolves.toMatchObject({ id: 'msg_2b3c' })
  })

  it('refuses what the reference library refuses', async () => {
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ['changed body', body.replace('u1', 'u2'), delivery([secretA]), secretA],
      ['wrong secret', body, delivery([secretA]), secretB],
      ['stale timestamp', body, delivery([secretA], new Date(Date.now() - 10 * 60_000)), secretA],
      ['future timestamp', body, delivery([secretA], new Date(Date.now() + 10 * 60_000)), secretA],
      ['no signature', body, { ...delivery([secretA]), 'webhook-signature': '' }, secretA],
      [
        'other scheme',
        body,
        { ...delivery([secretA]), 'webhook-signature': delivery([secretA])['webhook-signature'].replace('v1,', 'v1a,') },
        secretA,
      ],
    ]
    for (const [what, payload, headers, secret] of cases) {
      expect(() => new Webhook(secret).verify(payload, headers), what).toThrow()
      await expect(verifyWebhook(payload, headers, secret), what).rejects.toBeInstanceOf(WebhookVerificationError)
    }
  })

  it('refuses a signed body that is not an event (no type)', async () => {
    const untyped = JSON.stringify({ data: { connection_id: 'c1' } })
    await expect(verifyWebhook(untyped, delivery([secretA], new Date(), untyped), secretA)).rejects.toThrow(/no event type/)
  })

  it('honours a wider tolerance when asked', async () => {
    const at = new Date(Date.now() - 10 * 60_000)
    await expect(verifyWebhook(body, delivery([secretA], at), secretA, { toleranceSeconds: 900 })).resolves.toMatchObject({
      id: 'msg_2b3c',
    })
  })
})
