/**
 * @module broker/webhooks
 * Signed webhooks from the durable outbox (`storage/webhook-store.ts`).
 *
 * - Endpoints: from latchkey.yaml (`source: config`, read-only through the API, synced at start)
 *   and the admin API. Secrets are `whsec_` + base64 (Standard Webhooks), sealed with the keyring.
 *   URLs: https, or http on loopback where insecure loopback providers are allowed; the outbound
 *   guard refuses private and metadata addresses unless `outbound.allow_private` lists them.
 * - Delivery: every process with `webhooks.deliver` runs a deliverer. It wakes on the store's
 *   connection and flow events (which follow every write that can emit an event; on PostgreSQL
 *   they arrive from other processes by LISTEN/NOTIFY), on a timer for the next retry, and every
 *   few seconds as a fallback. It dispatches the outbox into deliveries, claims due ones with a
 *   lease longer than an attempt can take, and sends them through the one outbound HTTP path,
 *   at most `concurrency` at once. A 2xx settles a delivery; anything else is retried with
 *   exponential backoff and jitter until the retry window (about three days) is over: then the
 *   delivery fails, the endpoint is marked `failing` (audited, and announced to the other
 *   endpoints as `webhook.endpoint_failing`) and nothing more is sent to it until it is re-enabled.
 * - Signing (Standard Webhooks): `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`
 *   with node:crypto; after a rotation the previous secret signs too until its grace ends.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { LatchkeyError } from '../errors.js'
import { postForStatus } from '../oauth/http.js'
import { isLoopbackUrl } from '../oauth/loopback.js'
import { OutboundRefused } from '../oauth/outbound-guard.js'
import type { ClaimedDelivery, WebhookDeliveryRow, WebhookEndpointRow, WebhookStore } from '../storage/webhook-store.js'
import type { BrokerServices } from './services.js'
import { endpointFailingEvent, eventMatches, isEventFilter, refreshTokenExpiringEvent } from './webhook-events.js'

export const SECRET_PREFIX = 'whsec_'

/** The endpoint as the admin API shows it (never its secret). */
export interface WebhookEndpointView {
  id: string
  url: string
  events: string[]
  description: string | null
  status: WebhookEndpointRow['status']
  source: WebhookEndpointRow['source']
  failing_since: string | null
  created_at: string
  updated_at: string
}

export interface WebhookDeliveryView {
  id: string
  event_id: string
  event_type: string
  status: WebhookDeliveryRow['status']
  attempts: number
  last_status_code: number | null
  last_error: string | null
  next_attempt_at: string | null
  delivered_at: string | null
  created_at: string
}

export interface EndpointInput {
  url: string
  events?: string[] | undefined
  description?: string | null | undefined
  enabled?: boolean | undefined
}

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`
}

/** Decoded HMAC keys by secret: decoded once per secret, not once per delivery. */
const signingKeys = new Map<string, Buffer>()

/**
 * How many of this process's `concurrency` sends one endpoint may hold at once: just under half, so
 * one endpoint can never keep the deliverer from claiming (it claims again once half is free).
 */
export const endpointShare = (concurrency: number): number => Math.max(1, Math.ceil(concurrency / 2) - 1)

/** The Standard Webhooks signature (`v1,<base64>`) of one message. */
export function signMessage(secret: string, id: string, timestampSeconds: number, body: string): string {
  let key = signingKeys.get(secret)
  if (key === undefined) {
    key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
    if (signingKeys.size > 1000) signingKeys.clear()
    signingKeys.set(secret, key)
  }
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`
}

/** Retry delay after `attempts` failed attempts: 5 s doubling to at most 4 h, with ±25 % jitter. */
export function backoffMs(attempts: number, baseMs: number, random = Math.random): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 4 * 3600_000)
  return Math.round(exp * (0.75 + random() * 0.5))
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())

export function endpointView(e: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    status: e.status,
    source: e.source,
    failing_since: iso(e.failing_since),
    created_at: iso(e.created_at)!,
    updated_at: iso(e.updated_at)!,
  }
}

function deliveryView(d: WebhookDeliveryRow): WebhookDeliveryView {
  return {
    id: d.id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    delivered_at: iso(d.delivered_at),
    created_at: iso(d.created_at)!,
  }
}

export interface WebhooksOptions {
  /** Fallback poll while idle. */
  pollMs?: number
}

export class Webhooks {
  readonly #owner = randomUUID()
  readonly #pollMs: number
  #inflight = 0
  /** Sends in flight by endpoint id. */
  readonly #perEndpoint = new Map<string, number>()
  #running = false
  #again = false
  #stopped = true
  #timer: NodeJS.Timeout | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #idle: Promise<void> = Promise.resolve()
  #doneWaiters: Array<() => void> = []
  /** How many times #wake ran: a wake-up while no one waited is still seen (#pump). */
  #wakes = 0
  #delivered: Array<{ id: string; status: number }> = []
  #flushing: Promise<void> | undefined
  #dispatching: Promise<void> | undefined
  readonly #secrets = new Map<string, string>()

  constructor(
    private readonly ctx: BrokerServices,
    readonly store: WebhookStore,
    options: WebhooksOptions = {},
  ) {
    this.#pollMs = options.pollMs ?? 5_000
  }

  get #cfg() {
    return this.ctx.config.webhooks
  }

  // ------------------------------------------------------------ endpoints (admin API, CLI)

  async list(): Promise<WebhookEndpointView[]> {
    return (await this.store.listEndpoints()).map(endpointView)
  }

  async get(id: string): Promise<WebhookEndpointView> {
    return endpointView(await this.#endpoint(id))
  }

  async create(input: EndpointInput, actor: string | null = null): Promise<WebhookEndpointView & { secret: string }> {
    const events = this.#checkEvents(input.events ?? ['*'])
    await this.#checkUrl(input.url)
    const now = Date.now()
    const id = `wh_${randomBytes(12).toString('base64url')}`
    const secret = generateSecret()
    const row: WebhookEndpointRow = {
      id,
      url: input.url,
      events,
      description: input.description ?? null,
      status: input.enabled === false ? 'disabled' : 'enabled',
      source: 'api',
      secret_enc: this.#seal(id, 'secret', secret),
      previous_secret_enc: null,
      previous_secret_expires_at: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
    }
    await this.store.insertEndpoint(row)
    this.ctx.audit.record({ actor, action: 'webhook.created', user_id: null, provider_id: null, detail: { endpoint_id: id } })
    return { ...endpointView(row), secret }
  }

  async update(
    id: string,
    patch: { [K in keyof EndpointInput]?: EndpointInput[K] | undefined },
    actor: string | null = null,
  ): Promise<WebhookEndpointView> {
    const current = await this.#endpoint(id)
    // Enabling or disabling is operational state, allowed on config-declared endpoints too.
    const onlyEnabled = Object.entries(patch).every(([k, v]) => k === 'enabled' || v === undefined)
    if (!onlyEnabled) this.#writable(current)
    if (patch.url !== undefined) await this.#checkUrl(patch.url)
    const now = Date.now()
    await this.store.updateEndpoint(id, {
      url: patch.url,
      events: patch.events === undefined ? undefined : this.#checkEvents(patch.events),
      description: patch.description,
      ...(patch.enabled === undefined
        ? {}
        : patch.enabled
          ? { status: 'enabled' as const, failing_since: null }
          : { status: 'disabled' as const }),
      updated_at: now,
    })
    this.ctx.audit.record({
      actor,
      action: 'webhook.updated',
      user_id: null,
      provider_id: null,
      detail: { endpoint_id: id, ...(patch.enabled !== undefined ? { enabled: patch.enabled, was: current.status } : {}) },
    })
    if (patch.enabled) this.kick()
    return this.get(id)
  }

  async delete(id: string, actor: string | null = null): Promise<void> {
    this.#writable(await this.#endpoint(id))
    await this.store.deleteEndpoint(id)
    this.ctx.audit.record({ actor, action: 'webhook.deleted', user_id: null, provider_id: null, detail: { endpoint_id: id } })
  }

  async rotateSecret(id: string, actor: string | null = null): Promise<{ secret: string; previous_secret_expires_at: string }> {
    const current = this.#writable(await this.#endpoint(id))
    const now = Date.now()
    const secret = generateSecret()
    const previous = this.ctx.vault.open({ table: 'webhook_endpoints', id, field: 'secret' }, current.secret_enc)
    const expires = now + this.#cfg.rotationGraceMs
    await this.store.updateEndpoint(id, {
      secret_enc: this.#seal(id, 'secret', secret),
      previous_secret_enc: this.#seal(id, 'previous_secret', previous),
      previous_secret_expires_at: expires,
      updated_at: now,
    })
    this.ctx.audit.record({ actor, action: 'webhook.secret_rotated', user_id: null, provider_id: null, detail: { endpoint_id: id } })
    return { secret, previous_secret_expires_at: new Date(expires).toISOString() }
  }

  async deliveries(
    id: string,
    filter: { status?: WebhookDeliveryRow['status'] | undefined },
    limit: number,
    offset: number,
  ): Promise<{ items: WebhookDeliveryView[]; total: number }> {
    await this.#endpoint(id)
    const { items, total } = await this.store.listDeliveries(id, filter, limit, offset)
    return { items: items.map(deliveryView), total }
  }

  async redeliver(id: string, deliveryId: string, actor: string | null = null): Promise<void> {
    await this.#endpoint(id)
    if (!(await this.store.redeliver(id, deliveryId, Date.now())))
      throw new LatchkeyError('WEBHOOK_NOT_FOUND', `endpoint ${id} has no delivery ${JSON.stringify(deliveryId)}`)
    this.ctx.audit.record({
      actor,
      action: 'webhook.redelivered',
      user_id: null,
      provider_id: null,
      detail: { endpoint_id: id, delivery_id: deliveryId },
    })
    this.kick()
  }

  /** Makes the stored config-declared endpoints match latchkey.yaml (added, changed, removed). */
  async syncConfigEndpoints(): Promise<void> {
    const declared = this.#cfg.endpoints
    const stored = (await this.store.listEndpoints()).filter((e) => e.source === 'config')
    const now = Date.now()
    for (const d of declared) {
      await this.#checkUrl(d.url, `webhooks.endpoints[${d.id}].url`)
      this.#checkEvents(d.events, `webhooks.endpoints[${d.id}].events`)
      let existing = stored.find((e) => e.id === d.id)
      if (!existing) {
        // Idempotent: another process starting at the same time may insert it first.
        const inserted = await this.store.insertEndpointIfAbsent({
          id: d.id,
          url: d.url,
          events: d.events,
          description: d.description,
          status: 'enabled',
          source: 'config',
          secret_enc: this.#seal(d.id, 'secret', d.secret),
          previous_secret_enc: null,
          previous_secret_expires_at: null,
          failing_since: null,
          created_at: now,
          updated_at: now,
        })
        if (inserted) continue
        existing = await this.store.getEndpoint(d.id)
        if (!existing) continue
        if (existing.source !== 'config')
          throw new LatchkeyError('CONFLICT', `webhooks.endpoints: id ${d.id} is taken by an endpoint created through the API`)
      }
      const secret = this.ctx.vault.open({ table: 'webhook_endpoints', id: d.id, field: 'secret' }, existing.secret_enc)
      const same =
        existing.url === d.url &&
        JSON.stringify(existing.events) === JSON.stringify(d.events) &&
        existing.description === d.description &&
        secret === d.secret
      if (!same) {
        await this.store.updateEndpoint(d.id, {
          url: d.url,
          events: d.events,
          description: d.description,
          ...(secret === d.secret ? {} : { secret_enc: this.#seal(d.id, 'secret', d.secret) }),
          updated_at: now,
        })
      }
    }
    for (const e of stored) if (!declared.some((d) => d.id === e.id)) await this.store.deleteEndpoint(e.id)
  }

  async #endpoint(id: string): Promise<WebhookEndpointRow> {
    const e = await this.store.getEndpoint(id)
    if (!e) throw new LatchkeyError('WEBHOOK_NOT_FOUND', `no webhook endpoint with id ${JSON.stringify(id)}`)
    return e
  }

  #writable(e: WebhookEndpointRow): WebhookEndpointRow {
    if (e.source === 'config')
      throw new LatchkeyError('WEBHOOK_READ_ONLY', `webhook endpoint ${e.id} is declared in latchkey.yaml; change it there`)
    return e
  }

  /** Re-enables a failing (or disabled) endpoint, config-declared ones included. */
  async enable(id: string, actor: string | null = null): Promise<WebhookEndpointView> {
    await this.#endpoint(id)
    await this.store.updateEndpoint(id, { status: 'enabled', failing_since: null, updated_at: Date.now() })
    this.ctx.audit.record({ actor, action: 'webhook.enabled', user_id: null, provider_id: null, detail: { endpoint_id: id } })
    this.kick()
    return this.get(id)
  }

  #checkEvents(events: string[], field = 'events'): string[] {
    if (events.length === 0) throw new LatchkeyError('BAD_REQUEST', `${field}: give at least one event type, or "*"`)
    const bad = events.filter((e) => !isEventFilter(e))
    if (bad.length > 0)
      throw new LatchkeyError('BAD_REQUEST', `${field}: unknown event type ${bad.map((b) => JSON.stringify(b)).join(', ')}`)
    return [...new Set(events)]
  }

  async #checkUrl(raw: string, field = 'url'): Promise<void> {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new LatchkeyError('BAD_REQUEST', `${field}: ${JSON.stringify(raw)} is not a URL`)
    }
    if (url.username || url.password) throw new LatchkeyError('BAD_REQUEST', `${field}: credentials in the URL are not allowed`)
    if (url.protocol !== 'https:') {
      const loopbackOk = url.protocol === 'http:' && isLoopbackUrl(url) && this.ctx.config.allowInsecureLoopbackProviders
      if (!loopbackOk)
        throw new LatchkeyError(
          'BAD_REQUEST',
          `${field}: ${raw} must use https:// (http:// only on loopback, with LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS=true, never in production)`,
        )
    }
    try {
      await this.ctx.http.outbound.guard.check(url)
    } catch (err) {
      // A name that does not resolve yet is accepted (checked again on every delivery); a refused address is not.
      if (err instanceof OutboundRefused) throw new LatchkeyError('BAD_REQUEST', `${field}: ${err.message}`)
    }
  }

  #seal(id: string, field: 'secret' | 'previous_secret', secret: string): string {
    return this.ctx.vault.seal({ table: 'webhook_endpoints', id, field }, secret)
  }

  // ------------------------------------------------------------ delivery

  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    // Connection and flow events follow every commit that can have written an event.
    // Coalesced over 25 ms: a burst of commits (a refresh storm) costs one dispatch, not one each.
    this.#unsubscribe = this.ctx.store.subscribe((e) => {
      if (!(e.channel === 'connection' || e.channel === 'flow' || (e.channel === 'events' && e.live))) return
      if (this.#soon) return
      this.#soon = setTimeout(() => {
        this.#soon = undefined
        this.kick()
      }, 25)
      this.#soon.unref()
    })
    const sweep = () => {
      this.sweep().catch((err: unknown) => {
        if (!this.ctx.store.unavailable) this.ctx.log.warn({ err: (err as Error).message }, 'webhook sweep failed')
      })
    }
    this.#sweepTimer = setInterval(sweep, 60_000)
    this.#sweepTimer.unref()
    sweep()
    this.kick()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#unsubscribe?.()
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    clearInterval(this.#sweepTimer)
    await this.#idle
    await this.#flush()
  }

  /** Runs the deliverer now (or again right after the current run). */
  kick(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      // A pump waiting for a send to finish dispatches the new events now.
      this.#wake()
      return
    }
    this.#running = true
    clearTimeout(this.#timer)
    this.#idle = this.#run()
      .catch((err: unknown) => {
        if (!this.ctx.store.unavailable) this.ctx.log.warn({ err: (err as Error).message }, 'webhook delivery run failed')
      })
      .finally(() => {
        this.#running = false
        if (this.#stopped) return
        if (this.#again) {
          this.#again = false
          this.kick()
        } else {
          void this.#schedule()
        }
      })
  }

  async #schedule(): Promise<void> {
    let delay = this.#pollMs
    try {
      const due = await this.store.nextDueAt()
      if (due !== undefined) delay = Math.max(10, Math.min(delay, due - Date.now()))
    } catch {
      // Retried at the next poll.
    }
    if (this.#stopped || this.#running) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.kick(), delay)
    this.#timer.unref()
  }

  async #run(): Promise<void> {
    do {
      this.#again = false
      await this.#dispatchAll()
      await this.#pump()
    } while (this.#again && !this.#stopped)
    await this.#drain()
  }

  /** Fans the whole outbox out into deliveries, 1,000 events per transaction. */
  async #dispatchAll(): Promise<void> {
    while ((await this.store.dispatch(Date.now(), 1000, eventMatches)) > 0) {
      if (this.#stopped) return
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Claims and sends while there is work, keeping at most `concurrency` attempts in flight. */
  async #pump(): Promise<void> {
    const leaseMs = this.#cfg.attemptTimeoutMs * 2 + 30_000
    for (;;) {
      if (this.#stopped) return
      const room = this.#cfg.concurrency - this.#inflight
      if (room < Math.max(1, this.#cfg.concurrency / 2)) {
        await new Promise<void>((resolve) => this.#doneWaiters.push(resolve))
        continue
      }
      // Deliveries sent but not yet recorded are still leased to us: record them first, so the
      // next one of the same connection becomes due.
      await this.#flush()
      // Yield between batches: request handling runs before the next claim (a refresh storm
      // is not starved by its own deliveries).
      await new Promise<void>((resolve) => setImmediate(resolve))
      // A kick, or a dispatch that finishes, while nothing waits in #doneWaiters (the claim below
      // is in flight) wakes no one; the count lets the pump see it instead of waiting for a send.
      const wakes = this.#wakes
      // Events committed while sending are dispatched now, not once everything in flight is done
      // (under a steady rate that wait was most of an event's latency), and beside the sends, not
      // before the next claim (on PostgreSQL a dispatch is ~7 round trips).
      if (this.#again && !this.#dispatching) {
        this.#again = false
        this.#dispatching = this.#dispatchAll()
          .catch((err: unknown) => {
            // Dispatched at the next kick or poll.
            if (!this.ctx.store.unavailable) this.ctx.log.warn({ err: (err as Error).message }, 'webhook dispatch failed')
          })
          .finally(() => {
            this.#dispatching = undefined
            this.#wake()
          })
      }
      // An endpoint that is slow or does not answer holds less than half of the sends, so the
      // others' events are not kept waiting for its attempts to time out.
      const cap = endpointShare(this.#cfg.concurrency)
      const busy: string[] = []
      for (const [id, n] of this.#perEndpoint) if (n >= cap) busy.push(id)
      const batch = await this.store.claim(this.#owner, Date.now(), leaseMs, room, busy)
      if (batch.length === 0) {
        if (this.#inflight === 0) {
          if (!this.#dispatching) return
          await this.#dispatching
          continue
        }
        if (this.#wakes === wakes) await new Promise<void>((resolve) => this.#doneWaiters.push(resolve))
        continue
      }
      // One batch may hold more of one endpoint's deliveries than it has room for: those are given back.
      const over: string[] = []
      for (const d of batch) {
        const n = this.#perEndpoint.get(d.endpoint_id) ?? 0
        if (n >= cap) {
          over.push(d.id)
          continue
        }
        this.#perEndpoint.set(d.endpoint_id, n + 1)
        this.#inflight++
        void this.#attempt(d).finally(() => {
          this.#inflight--
          const left = (this.#perEndpoint.get(d.endpoint_id) ?? 1) - 1
          if (left > 0) this.#perEndpoint.set(d.endpoint_id, left)
          else this.#perEndpoint.delete(d.endpoint_id)
          this.#wake()
        })
      }
      if (over.length > 0) await this.store.release(this.#owner, over)
    }
  }

  /** Wakes the pump waiting for a send (or a dispatch) to finish. */
  #wake(): void {
    this.#wakes++
    for (const w of this.#doneWaiters.splice(0)) w()
  }

  async #drain(): Promise<void> {
    while (this.#inflight > 0) await new Promise<void>((resolve) => this.#doneWaiters.push(resolve))
    await this.#dispatching
    await this.#flush()
  }

  async #flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
    if (this.#delivered.length === 0) return
    const batch = this.#delivered.splice(0)
    this.#flushing = this.store.markDelivered(this.#owner, batch, Date.now()).finally(() => {
      this.#flushing = undefined
    })
    await this.#flushing
  }

  #secret(endpointId: string, field: 'secret' | 'previous_secret', envelope: string): string {
    const key = `${endpointId}:${field}:${envelope}`
    let s = this.#secrets.get(key)
    if (s === undefined) {
      s = this.ctx.vault.open({ table: 'webhook_endpoints', id: endpointId, field }, envelope)
      if (this.#secrets.size > 1000) this.#secrets.clear()
      this.#secrets.set(key, s)
    }
    return s
  }

  /** Headers of one attempt: signed with the current secret, and the previous one during its grace. */
  signatureHeaders(d: ClaimedDelivery, now: number): Record<string, string> {
    const ts = Math.floor(now / 1000)
    const signatures = [signMessage(this.#secret(d.endpoint_id, 'secret', d.secret_enc), d.event_id, ts, d.payload)]
    if (d.previous_secret_enc !== null && d.previous_secret_expires_at !== null && d.previous_secret_expires_at > now) {
      signatures.push(signMessage(this.#secret(d.endpoint_id, 'previous_secret', d.previous_secret_enc), d.event_id, ts, d.payload))
    }
    return {
      'content-type': 'application/json',
      'webhook-id': d.event_id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signatures.join(' '),
    }
  }

  async #attempt(d: ClaimedDelivery): Promise<void> {
    let status: number | null = null
    let error: string
    try {
      status = await postForStatus(
        { ...this.ctx.http, timeoutMs: this.#cfg.attemptTimeoutMs },
        d.url,
        this.signatureHeaders(d, Date.now()),
        d.payload,
      )
      if (status >= 200 && status < 300) {
        this.#delivered.push({ id: d.id, status })
        return
      }
      error = `HTTP ${status}`
    } catch (err) {
      error = (err as Error).message
    }
    await this.#failed(d, status, error).catch((err: unknown) => {
      // The lease runs out and another attempt follows.
      this.ctx.log.warn({ delivery: d.id, err: (err as Error).message }, 'could not record a failed webhook delivery')
    })
  }

  async #failed(d: ClaimedDelivery, statusCode: number | null, error: string): Promise<void> {
    const now = Date.now()
    const next = now + backoffMs(d.attempts + 1, this.#cfg.retryBaseMs)
    const giveUp = next - d.created_at > this.#cfg.retryWindowMs
    this.ctx.log.debug(
      { delivery: d.id, endpoint: d.endpoint_id, status: statusCode, attempts: d.attempts + 1 },
      `webhook delivery failed: ${error}`,
    )
    await this.store.markAttemptFailed(this.#owner, d.id, { statusCode, error, nextAttemptAt: giveUp ? null : next })
    if (!giveUp) return
    if (await this.store.markEndpointFailing(d.endpoint_id, now, endpointFailingEvent({ id: d.endpoint_id }, error, now))) {
      this.ctx.log.warn(
        { endpoint: d.endpoint_id, status: statusCode },
        'webhook endpoint marked failing: deliveries failed for the whole retry window; nothing more is sent until it is re-enabled',
      )
      this.ctx.audit.record({
        actor: null,
        action: 'webhook.endpoint_failing',
        user_id: null,
        provider_id: null,
        detail: { endpoint_id: d.endpoint_id, last_status_code: statusCode, last_error: error.slice(0, 200) },
      })
    }
  }

  // ------------------------------------------------------------ periodic: expiry notices, retention

  /** Announces refresh tokens about to expire (once per expiry) and drops settled history. */
  async sweep(now = Date.now()): Promise<number> {
    let announced = 0
    if (this.#cfg.expiryLeadMs > 0) {
      for (;;) {
        const due = await this.store.connectionsWithExpiringRefreshToken(now, now + this.#cfg.expiryLeadMs, 500)
        for (const c of due) {
          if (await this.store.announceExpiry(c.id, c.refresh_token_expires_at, refreshTokenExpiringEvent(c, now))) announced++
        }
        if (due.length < 500) break
      }
    }
    await this.store.deleteSettledBefore(now - this.#cfg.retentionMs)
    if (announced > 0) this.kick()
    return announced
  }

  /** Age in seconds of the oldest event not yet delivered (the `latchkey_outbox_lag_seconds` gauge). */
  async lagSeconds(): Promise<number> {
    const oldest = await this.store.oldestUndeliveredAt()
    return oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000)
  }
}
