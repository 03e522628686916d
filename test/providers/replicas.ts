/**
 * Small local replicas of OAuth providers (HTTP on 127.0.0.1), each behaving the way the real
 * provider documents it, quirks included. They serve the provider's own paths, so a configured
 * provider only needs its endpoint origins swapped (`pointAt`). Every request is recorded; a
 * request the real provider would refuse for breaking its documented rules is refused here too
 * and recorded in `violations`, which tests assert is empty.
 *
 * One function per quirk family:
 * - `githubReplica`: form-encoded answers unless `Accept: application/json`, errors with HTTP 200,
 *   comma-separated scope echo, `/user` needing a User-Agent, `DELETE /applications/{id}/grant`.
 * - `slackReplica`: user token under `authed_user` next to a bot token, `ok: false` with HTTP 200,
 *   top-level refresh responses, `auth.revoke` with the token as bearer.
 * - `commaScopeReplica`, `basicAuthOnlyReplica`, `jsonOnlyReplica`, `noExpiryReplica`,
 *   `rotatingRefreshReplica`, `staticRefreshReplica`: RFC 6749 servers with one documented twist each.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { ConfiguredProvider } from '../../src/providers/configured-provider.js'
import type { ProviderDefinition } from '../../src/providers/define-provider.js'
import { listenOnFreePort } from '../helpers/ports.js'

export const CLIENT_ID = 'replica-client'
export const CLIENT_SECRET = `replica-secret-${randomBytes(8).toString('hex')}`

export interface ReplicaRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** Media type of the body, lower case, without parameters ('' when none). */
  contentType: string
  raw: string
  /** The form or JSON body as flat string values. */
  body: Record<string, string>
  bearer: string | undefined
  basic: { id: string; secret: string } | undefined
}

export interface ReplicaResponse {
  status: number
  /** JSON (default) or form-encoded body, or a redirect. */
  body?: Record<string, unknown>
  form?: Record<string, string>
  location?: string
}

type Route = (req: ReplicaRequest) => ReplicaResponse | Promise<ReplicaResponse>

/** Thrown by a route when the request breaks a documented rule of the provider. */
class Violation extends Error {
  constructor(
    message: string,
    readonly response: ReplicaResponse,
  ) {
    super(message)
  }
}

function check(
  ok: unknown,
  message: string,
  response: ReplicaResponse = { status: 400, body: { error: 'invalid_request', error_description: message } },
): asserts ok {
  if (!ok) throw new Violation(message, response)
}

export interface Grant {
  user: string
  scopes: string[]
  redirectUri: string
  challenge: string | undefined
  /** The authorization asked for offline access (where a provider makes refresh tokens depend on it). */
  offline: boolean
}

export interface Replica {
  name: string
  origin: string
  calls: ReplicaRequest[]
  /** Requests refused because they broke the provider's documented rules. */
  violations: string[]
  callsTo(method: string, path: string): ReplicaRequest[]
  /** Live tokens: revoked or rotated-out ones are removed. */
  accessTokens: Map<string, Grant>
  refreshTokens: Map<string, Grant>
  close(): Promise<void>
}

interface OAuthState {
  codes: Map<string, Grant>
  accessTokens: Map<string, Grant>
  refreshTokens: Map<string, Grant>
}

async function startReplica(name: string, routes: (state: OAuthState) => Record<string, Route>): Promise<Replica> {
  const state: OAuthState = { codes: new Map(), accessTokens: new Map(), refreshTokens: new Map() }
  const table = routes(state)
  const calls: ReplicaRequest[] = []
  const violations: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://replica')
        const raw = Buffer.concat(chunks).toString('utf8')
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        const auth = req.headers.authorization ?? ''
        const basic = /^Basic (.+)$/i.exec(auth)?.[1]
        const decoded = basic ? Buffer.from(basic, 'base64').toString('utf8') : undefined
        const request: ReplicaRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          contentType,
          raw,
          body: parseBody(raw, contentType),
          bearer: /^Bearer (.+)$/i.exec(auth)?.[1],
          basic:
            decoded === undefined
              ? undefined
              : {
                  id: decodeURIComponent(decoded.split(':')[0]!.replace(/\+/g, ' ')),
                  secret: decodeURIComponent(decoded.slice(decoded.indexOf(':') + 1).replace(/\+/g, ' ')),
                },
        }
        calls.push(request)
        let response: ReplicaResponse
        try {
          const route = table[`${request.method} ${request.path}`]
          check(route, `no route for ${request.method} ${request.path}`, { status: 404, body: { error: 'not_found' } })
          response = await route(request)
        } catch (err) {
          if (!(err instanceof Violation)) throw err
          violations.push(`${request.method} ${request.path}: ${err.message}`)
          response = err.response
        }
        if (response.location) {
          res.writeHead(response.status, { location: response.location })
          res.end()
        } else if (response.form) {
          res.writeHead(response.status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })
          res.end(new URLSearchParams(response.form).toString())
        } else {
          res.writeHead(response.status, response.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' })
          res.end(response.body === undefined ? undefined : JSON.stringify(response.body))
        }
      })().catch((err: Error) => {
        violations.push(`replica crashed: ${err.message}`)
        res.writeHead(500).end()
      })
    })
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await listenOnFreePort(server)
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    name,
    origin,
    calls,
    violations,
    callsTo: (method, path) => calls.filter((c) => c.method === method && c.path === path),
    accessTokens: state.accessTokens,
    refreshTokens: state.refreshTokens,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function parseBody(raw: string, contentType: string): Record<string, string> {
  if (raw === '') return {}
  if (contentType === 'application/json') {
    const v = JSON.parse(raw) as Record<string, unknown>
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]))
  }
  return Object.fromEntries(new URLSearchParams(raw))
}

/** The configured provider with every endpoint's origin replaced by the replica's; paths and quirks kept. */
export function pointAt(p: ConfiguredProvider, origin: string): ConfiguredProvider {
  const swap = (u: string) => u.replace(/^https?:\/\/[^/]+/, origin)
  const def: ProviderDefinition = {
    ...p.def,
    authorizationEndpoint: swap(p.def.authorizationEndpoint),
    tokenEndpoint: swap(p.def.tokenEndpoint),
  }
  if (p.def.refreshEndpoint) def.refreshEndpoint = swap(p.def.refreshEndpoint)
  if (p.def.revocationEndpoint) def.revocationEndpoint = swap(p.def.revocationEndpoint)
  if (p.def.userInfo) def.userInfo = { ...p.def.userInfo, endpoint: swap(p.def.userInfo.endpoint) }
  return { ...p, def }
}

/** Path of an endpoint, `{{client_id}}` filled. */
const pathOf = (url: string) => new URL(url.replace(/\{\{\s*client_id\s*\}\}/g, CLIENT_ID)).pathname
const mint = (prefix: string) => `${prefix}${randomBytes(12).toString('base64url')}`
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url')

/** Sets a simple JSONPath (`$.a.b`) in an object; other expressions are left alone. */
function put(target: Record<string, unknown>, expr: string | undefined, value: unknown): void {
  const m = /^\$((?:\.[A-Za-z0-9_]+)+)$/.exec(expr ?? '')
  if (!m) return
  const keys = m[1]!.slice(1).split('.')
  let cur = target
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[keys.at(-1)!] = value
}

// ---------------------------------------------------------------------------------------------
// Pieces every replica uses.

interface AuthorizeRules {
  scopeParam: string
  delimiter: ' ' | ','
  pkce: boolean
  /** Parameters the provider documents as required to get the behaviour the entry wants. */
  params?: Record<string, string>
  /** Extra query parameters on the redirect back (QuickBooks `realmId`). */
  callbackParams?: Record<string, string>
  /** Given the authorize query, whether the grant is "offline" (refresh token issued). */
  offline?: (q: URLSearchParams) => boolean
}

/** `GET /authorize`: checks the request and sends the browser straight back with a code (no login page). */
function authorize(state: OAuthState, rules: AuthorizeRules): Route {
  return (req) => {
    const q = req.query
    check(q.get('response_type') === 'code', `response_type must be code, got ${q.get('response_type')}`)
    check(q.get('client_id') === CLIENT_ID, `unknown client_id ${q.get('client_id')}`)
    const redirectUri = q.get('redirect_uri')
    check(redirectUri && /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/.test(redirectUri), `unexpected redirect_uri ${redirectUri}`)
    const stateParam = q.get('state')
    check(stateParam, 'state is missing')
    const scope = q.get(rules.scopeParam) ?? ''
    const wrong = rules.delimiter === ',' ? /\s/ : /,/
    check(
      !wrong.test(scope),
      `${rules.scopeParam} must be ${rules.delimiter === ',' ? 'comma' : 'space'}-separated: ${JSON.stringify(scope)}`,
    )
    if (rules.scopeParam !== 'scope') check(!q.has('scope'), `scopes go in ${rules.scopeParam}, not scope`)
    const challenge = q.get('code_challenge') ?? undefined
    if (rules.pkce) {
      check(challenge && q.get('code_challenge_method') === 'S256', 'PKCE S256 code_challenge is required')
    } else {
      check(!challenge && !q.has('code_challenge_method'), 'this provider does not take PKCE parameters')
    }
    for (const [k, v] of Object.entries(rules.params ?? {})) check(q.get(k) === v, `${k} must be ${v}, got ${q.get(k)}`)
    const code = mint('code-')
    state.codes.set(code, {
      user: 'alice',
      scopes: scope.split(rules.delimiter).filter(Boolean),
      redirectUri,
      challenge,
      offline: rules.offline ? rules.offline(q) : true,
    })
    const back = new URL(redirectUri)
    back.searchParams.set('code', code)
    back.searchParams.set('state', stateParam)
    for (const [k, v] of Object.entries(rules.callbackParams ?? {})) back.searchParams.set(k, v)
    return { status: 302, location: back.toString() }
  }
}

type ClientAuth = ProviderDefinition['tokenEndpointAuthMethod']

/** The one client authentication method the provider documents; the other is refused. */
function checkClientAuth(req: ReplicaRequest, method: ClientAuth): void {
  const invalidClient = { status: 401, body: { error: 'invalid_client' } }
  if (method === 'client_secret_basic') {
    check(req.basic, 'client credentials must be sent with HTTP Basic', invalidClient)
    check(req.basic.id === CLIENT_ID && req.basic.secret === CLIENT_SECRET, 'wrong Basic credentials', invalidClient)
    check(!('client_secret' in req.body), 'client_secret must not be in the body', invalidClient)
  } else if (method === 'none') {
    check(
      req.body['client_id'] === CLIENT_ID && !('client_secret' in req.body) && !req.basic,
      'a public client sends client_id only',
      invalidClient,
    )
  } else {
    check(
      req.body['client_id'] === CLIENT_ID && req.body['client_secret'] === CLIENT_SECRET,
      'client_id and client_secret must be body parameters',
      invalidClient,
    )
    check(!req.headers.authorization, 'no Authorization header on the token endpoint', invalidClient)
  }
}

/**
 * Redeems a code once: undefined for an unknown or used code (the caller answers in the
 * provider's own error format); PKCE and redirect_uri mismatches are violations.
 */
function redeem(state: OAuthState, req: ReplicaRequest): Grant | undefined {
  const code = req.body['code'] ?? ''
  const grant = state.codes.get(code)
  if (!grant) return undefined
  state.codes.delete(code)
  check(req.body['redirect_uri'] === grant.redirectUri, `redirect_uri ${req.body['redirect_uri']} differs from the authorization request's`)
  const verifier = req.body['code_verifier']
  if (grant.challenge)
    check(verifier && s256(verifier) === grant.challenge, 'code_verifier does not match the code_challenge', {
      status: 400,
      body: { error: 'invalid_grant' },
    })
  else check(verifier === undefined, 'code_verifier sent although no code_challenge was')
  return grant
}

function issue(
  state: OAuthState,
  grant: Grant,
  prefix: string,
  withRefresh: boolean,
): { accessToken: string; refreshToken: string | undefined } {
  const accessToken = mint(`${prefix}at-`)
  state.accessTokens.set(accessToken, grant)
  if (!withRefresh) return { accessToken, refreshToken: undefined }
  const refreshToken = mint(`${prefix}rt-`)
  state.refreshTokens.set(refreshToken, grant)
  return { accessToken, refreshToken }
}

function userInfo(state: OAuthState, def: ProviderDefinition, extraChecks?: (req: ReplicaRequest) => void): Route {
  return (req) => {
    extraChecks?.(req)
    for (const [k, v] of Object.entries(def.userInfo?.headers ?? {}))
      check(req.headers[k.toLowerCase()] === v.replace('{{client_id}}', CLIENT_ID), `header ${k} is required`)
    // GraphQL identity (Linear): the query as a JSON body.
    if (def.userInfo?.body)
      check(
        req.contentType === 'application/json' && req.raw === JSON.stringify(def.userInfo.body),
        `expected the JSON body ${JSON.stringify(def.userInfo.body)}`,
      )
    if (!req.bearer || !state.accessTokens.has(req.bearer)) return { status: 401, body: { error: 'invalid_token' } }
    const body: Record<string, unknown> = { sub: 'acct-42', id: 'acct-42', email: 'alice@example.com' }
    put(body, def.userInfo?.accountId, 'acct-42')
    put(body, def.userInfo?.accountLabel, 'alice@example.com')
    return { status: 200, body }
  }
}

// ---------------------------------------------------------------------------------------------
// GitHub

/**
 * GitHub OAuth apps. The token endpoint answers form-encoded unless the request says
 * `Accept: application/json`, reports errors (bad_verification_code) with HTTP 200, and echoes
 * scopes comma-separated. `/user` refuses requests without a User-Agent. "Delete an app
 * authorization" is `DELETE /applications/{client_id}/grant` with Basic auth and a JSON body.
 * @see https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 * @see https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent
 * @see https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-authorization
 */
export function githubReplica(def: ProviderDefinition): Promise<Replica> {
  return startReplica('github', (state) => ({
    [`GET ${pathOf(def.authorizationEndpoint)}`]: authorize(state, {
      scopeParam: 'scope',
      delimiter: ' ',
      pkce: def.pkce !== 'unsupported',
    }),
    [`POST ${pathOf(def.tokenEndpoint)}`]: (req) => {
      const json = /application\/json/.test(req.headers.accept ?? '')
      const answer = (body: Record<string, string>): ReplicaResponse => (json ? { status: 200, body } : { status: 200, form: body })
      checkClientAuth(req, 'client_secret_post')
      const grant = redeem(state, req)
      if (!grant) {
        return answer({
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
        })
      }
      const { accessToken } = issue(state, grant, 'gho_', false)
      return answer({ access_token: accessToken, scope: grant.scopes.join(','), token_type: 'bearer' })
    },
    [`GET ${pathOf(def.userInfo!.endpoint)}`]: userInfo(state, def, (req) => {
      check(req.headers['user-agent'], 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header', {
        status: 403,
        body: { message: 'forbidden' },
      })
    }),
    [`DELETE ${pathOf(def.revocationEndpoint!)}`]: (req) => {
      const unauthorized = { status: 404, body: { message: 'Not Found' } }
      check(
        req.basic?.id === CLIENT_ID && req.basic.secret === CLIENT_SECRET,
        'Basic auth with the client id and secret is required',
        unauthorized,
      )
      check(req.contentType === 'application/json', `body must be JSON, got ${req.contentType}`, {
        status: 422,
        body: { message: 'Problems parsing JSON' },
      })
      const token = req.body['access_token']
      check(token, 'access_token is required in the JSON body', { status: 422, body: { message: 'Invalid request' } })
      if (!state.accessTokens.delete(token)) return { status: 404, body: { message: 'Not Found' } }
      return { status: 204 }
    },
  }))
}

// ---------------------------------------------------------------------------------------------
// Slack

/**
 * Slack OAuth v2 with user scopes and token rotation. `oauth.v2.access` answers HTTP 200 with
 * `ok: false` on errors, and on success puts the bot token at the top level and the user token
 * under `authed_user`; refreshing a user token answers with the new tokens at the top level.
 * `auth.test` and `auth.revoke` take the token as bearer.
 * @see https://api.slack.com/methods/oauth.v2.access
 * @see https://api.slack.com/authentication/rotation
 * @see https://api.slack.com/methods/auth.revoke
 */
export function slackReplica(def: ProviderDefinition): Promise<Replica> {
  const team = { id: 'T0001', name: 'Acme' }
  return startReplica('slack', (state) => ({
    [`GET ${pathOf(def.authorizationEndpoint)}`]: authorize(state, { scopeParam: 'user_scope', delimiter: ',', pkce: false }),
    [`POST ${pathOf(def.tokenEndpoint)}`]: (req) => {
      check(req.contentType === 'application/x-www-form-urlencoded', 'oauth.v2.access takes a form body')
      checkClientAuth(req, 'client_secret_post')
      if (req.body['grant_type'] === 'refresh_token') {
        const grant = state.refreshTokens.get(req.body['refresh_token'] ?? '')
        if (!grant) return { status: 200, body: { ok: false, error: 'invalid_refresh_token' } }
        state.refreshTokens.delete(req.body['refresh_token']!)
        const t = issue(state, grant, 'xoxe.xoxp-1-', true)
        return {
          status: 200,
          body: {
            ok: true,
            app_id: 'A0001',
            user_id: 'U0001',
            scope: grant.scopes.join(','),
            token_type: 'user',
            access_token: t.accessToken,
            refresh_token: t.refreshToken,
            expires_in: 43200,
            team,
          },
        }
      }
      const grant = redeem(state, req)
      if (!grant) return { status: 200, body: { ok: false, error: 'invalid_code' } }
      const bot = mint('xoxb-bot-')
      const user = issue(state, grant, 'xoxe.xoxp-1-', true)
      return {
        status: 200,
        body: {
          ok: true,
          app_id: 'A0001',
          access_token: bot,
          token_type: 'bot',
          scope: 'commands,chat:write',
          bot_user_id: 'B0001',
          team,
          enterprise: null,
          is_enterprise_install: false,
          authed_user: {
            id: 'U0001',
            scope: grant.scopes.join(','),
            access_token: user.accessToken,
            token_type: 'user',
            refresh_token: user.refreshToken,
            expires_in: 43200,
          },
        },
      }
    },
    [`POST ${pathOf(def.userInfo!.endpoint)}`]: (req) => {
      if (!req.bearer || !state.accessTokens.has(req.bearer)) return { status: 200, body: { ok: false, error: 'invalid_auth' } }
      return {
        status: 200,
        body: { ok: true, url: 'https://acme.slack.com/', team: team.name, user: 'alice', team_id: team.id, user_id: 'U0001' },
      }
    },
    [`POST ${pathOf(def.revocationEndpoint!)}`]: (req) => {
      check(req.bearer, 'auth.revoke takes the token as bearer', { status: 200, body: { ok: false, error: 'not_authed' } })
      check(req.bearer.startsWith('xoxe.xoxp-'), 'the user token must be revoked, not the bot token')
      if (!state.accessTokens.delete(req.bearer)) return { status: 200, body: { ok: false, error: 'invalid_auth' } }
      for (const [rt, g] of state.refreshTokens) if (g.user === 'alice') state.refreshTokens.delete(rt)
      return { status: 200, body: { ok: true, revoked: true } }
    },
  }))
}

// ---------------------------------------------------------------------------------------------
// RFC 6749 providers with one documented twist each.

interface StandardRules {
  name: string
  /** The only client authentication the token endpoint accepts. */
  clientAuth: ClientAuth
  /** Token request bodies accepted: JSON-only endpoints answer 415 to a form. */
  body: 'form' | 'json' | 'form-or-json'
  /** Scope delimiter the provider documents (default: the entry's). */
  delimiter?: ' ' | ','
  /** Separator of the `scope` echoed in token responses (`none`: not echoed). */
  scopeEcho: ' ' | ',' | 'none'
  /** `undefined`: the token response carries no `expires_in` (Salesforce). */
  expiresIn: number | undefined
  /** rotating: each refresh returns a new refresh token and invalidates the used one; static: no new refresh token. */
  refresh: 'rotating' | 'static'
  authorize?: Pick<AuthorizeRules, 'params' | 'callbackParams' | 'offline'>
  /** Extra fields of every token response (Salesforce `instance_url`). */
  extra?: Record<string, unknown>
  /** How the revocation endpoint authenticates the client (default: not checked). */
  revokeAuth?: ClientAuth | 'bearer_access_token'
}

function standardReplica(def: ProviderDefinition, rules: StandardRules): Promise<Replica> {
  const delimiter = rules.delimiter ?? def.scopeDelimiter
  /** A token response shaped where the entry says each field is (top level unless mapped). */
  const tokenResponse = (grant: Grant, t: { accessToken: string; refreshToken: string | undefined }, refresh: boolean): ReplicaResponse => {
    const map = (refresh ? (def.refreshResponse ?? def.tokenResponse) : def.tokenResponse)?.map ?? {}
    const body: Record<string, unknown> = { ...rules.extra }
    put(body, map.access_token ?? '$.access_token', t.accessToken)
    put(body, map.token_type ?? '$.token_type', 'Bearer')
    // Square sends an absolute `expires_at` instead of `expires_in`.
    if (rules.expiresIn !== undefined && map.expires_at)
      put(body, map.expires_at, new Date(Date.now() + rules.expiresIn * 1000).toISOString())
    else if (rules.expiresIn !== undefined) put(body, map.expires_in ?? '$.expires_in', rules.expiresIn)
    if (rules.scopeEcho !== 'none') put(body, map.scope ?? '$.scope', grant.scopes.join(rules.scopeEcho))
    if (t.refreshToken !== undefined) {
      put(body, map.refresh_token ?? '$.refresh_token', t.refreshToken)
      put(body, map.refresh_token_expires_in, 8_640_000)
    }
    // Fields the entry keeps for the app (Salesforce `instance_url`, Square `merchant_id`).
    for (const [k, expr] of Object.entries(def.tokenResponse?.keep ?? {})) if (!(k in body)) put(body, expr, `${k}-value`)
    const format = (refresh ? (def.refreshResponse ?? def.tokenResponse) : def.tokenResponse)?.format
    return format === 'form'
      ? { status: 200, form: Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])) }
      : { status: 200, body }
  }
  const withRefreshToken = (grant: Grant) => def.refreshTokens !== 'none' && grant.offline
  const token: (state: OAuthState) => Route = (state) => async (req) => {
    if (rules.body === 'json')
      check(req.contentType === 'application/json', `the token endpoint only takes application/json, got ${req.contentType}`, {
        status: 415,
        body: { error: 'unsupported_media_type' },
      })
    if (rules.body === 'form')
      check(req.contentType === 'application/x-www-form-urlencoded', `the token endpoint only takes a form body, got ${req.contentType}`)
    checkClientAuth(req, rules.clientAuth)
    const grantType = req.body['grant_type']
    if (grantType === 'authorization_code') {
      const grant = redeem(state, req)
      if (!grant) return { status: 400, body: { error: 'invalid_grant', error_description: 'unknown or used code' } }
      return tokenResponse(grant, issue(state, grant, `${rules.name}-`, withRefreshToken(grant)), false)
    }
    check(grantType === 'refresh_token', `unsupported grant_type ${grantType}`)
    const used = req.body['refresh_token'] ?? ''
    const grant = state.refreshTokens.get(used)
    if (!grant) return { status: 400, body: { error: 'invalid_grant', error_description: 'refresh token is invalid, rotated or revoked' } }
    if (rules.refresh === 'rotating') state.refreshTokens.delete(used)
    return tokenResponse(grant, issue(state, grant, `${rules.name}-`, rules.refresh === 'rotating'), true)
  }
  /** RFC 7009 or the entry's variant: the token as a body parameter (or the bearer); revoking a refresh token ends the grant. */
  const revoke: (state: OAuthState) => Route = (state) => (req) => {
    const invalidClient = { status: 401, body: { error: 'invalid_client' } }
    if (rules.revokeAuth === 'bearer_access_token')
      check(req.bearer && state.accessTokens.has(req.bearer), 'revocation takes the access token as bearer', invalidClient)
    else if (rules.revokeAuth === 'client_secret_basic')
      check(
        req.basic?.id === CLIENT_ID && req.basic.secret === CLIENT_SECRET,
        'revocation requires HTTP Basic client authentication',
        invalidClient,
      )
    else if (rules.revokeAuth === 'client_secret_post')
      check(req.body['client_secret'] === CLIENT_SECRET, 'revocation requires client_id and client_secret in the body', invalidClient)
    for (const [k, v] of Object.entries(def.revocation?.headers ?? {})) check(req.headers[k.toLowerCase()] === v, `header ${k} is required`)
    const token = req.body[def.revocation?.tokenParam ?? 'token'] ?? req.bearer ?? ''
    const grant = state.refreshTokens.get(token) ?? state.accessTokens.get(token)
    check(grant, 'unknown token', { status: 400, body: { error: 'invalid_token' } })
    for (const m of [state.accessTokens, state.refreshTokens]) for (const [k, g] of m) if (g === grant) m.delete(k)
    return { status: 200, body: {} }
  }
  return startReplica(rules.name, (state) => {
    const callbackParams = Object.fromEntries((def.keepCallbackParams ?? []).map((k) => [k, `${k}-value`]))
    const routes: Record<string, Route> = {
      [`GET ${pathOf(def.authorizationEndpoint)}`]: authorize(state, {
        scopeParam: def.scopeParam ?? 'scope',
        delimiter,
        pkce: def.pkce !== 'unsupported',
        callbackParams,
        ...rules.authorize,
      }),
      [`POST ${pathOf(def.tokenEndpoint)}`]: token(state),
    }
    if (def.refreshEndpoint) routes[`POST ${pathOf(def.refreshEndpoint)}`] = token(state)
    if (def.userInfo)
      routes[`${def.userInfo.body ? 'POST' : (def.userInfo.method ?? 'GET')} ${pathOf(def.userInfo.endpoint)}`] = userInfo(state, def)
    if (def.revocationEndpoint) routes[`${def.revocation?.method ?? 'POST'} ${pathOf(def.revocationEndpoint)}`] = revoke(state)
    return routes
  })
}

/** Comma-separated scopes and client_secret_post only (Linear, Strava, Todoist). */
export function commaScopeReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-comma`,
    clientAuth: 'client_secret_post',
    body: 'form',
    delimiter: ',',
    scopeEcho: ',',
    expiresIn: 3600,
    refresh: 'rotating',
  })
}

/** The token endpoint refuses client credentials in the body and requires HTTP Basic (Notion, Reddit, Zoom, QuickBooks). */
export function basicAuthOnlyReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-basic`,
    clientAuth: 'client_secret_basic',
    body: 'form-or-json',
    scopeEcho: ' ',
    expiresIn: 3600,
    refresh: def.refreshTokens === 'static' ? 'static' : 'rotating',
    revokeAuth: 'client_secret_basic',
  })
}

/** The token endpoint only takes JSON bodies and answers 415 to a form. */
export function jsonOnlyReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-json`,
    clientAuth: def.tokenEndpointAuthMethod,
    body: 'json',
    scopeEcho: ' ',
    expiresIn: 3600,
    refresh: 'rotating',
  })
}

/**
 * Salesforce: the token response has `instance_url`, `id`, `issued_at` and `signature` but no
 * `expires_in` (the lifetime is the org's session timeout); refresh responses carry no new
 * refresh token (default "valid until revoked" policy).
 * @see https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
 */
export function noExpiryReplica(def: ProviderDefinition, origin = 'https://acme.my.salesforce.com'): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-noexpiry`,
    clientAuth: 'client_secret_post',
    body: 'form',
    scopeEcho: ' ',
    expiresIn: undefined,
    refresh: 'static',
    extra: {
      instance_url: origin,
      id: `${origin}/id/00D000000000001/005000000000001`,
      issued_at: String(Date.now()),
      signature: 'c2lnbmF0dXJl',
    },
  })
}

/** Each refresh returns a new refresh token and invalidates the one used (Xero, QuickBooks, GitLab, Airtable). */
export function rotatingRefreshReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-rotating`,
    clientAuth: def.tokenEndpointAuthMethod,
    body: def.tokenRequestContentType === 'json' ? 'json' : 'form',
    scopeEcho: ' ',
    expiresIn: 1800,
    refresh: 'rotating',
  })
}

/**
 * Google: a refresh token only when the authorization asked for `access_type=offline`, and
 * refresh responses carry no new refresh token (the original one stays valid).
 * @see https://developers.google.com/identity/protocols/oauth2/web-server#offline
 */
export function staticRefreshReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-static`,
    clientAuth: def.tokenEndpointAuthMethod,
    body: 'form',
    scopeEcho: ' ',
    expiresIn: 3599,
    refresh: 'static',
    authorize: { offline: (q) => q.get('access_type') === 'offline' },
  })
}

/**
 * A replica shaped by the entry itself: the client authentication, body encoding, response
 * layout and revocation variant it declares. Not evidence that the entry matches the provider
 * (the catalog test and the families above are); it shows the core carries out what the entry
 * declares, end to end, for every provider.
 */
export function entryShapedReplica(def: ProviderDefinition): Promise<Replica> {
  return standardReplica(def, {
    name: `${def.id}-entry`,
    clientAuth: def.tokenEndpointAuthMethod,
    body: def.tokenRequestContentType === 'json' ? 'json' : 'form',
    scopeEcho: def.scopeDelimiter,
    expiresIn: def.assumedAccessTokenLifetimeSeconds === undefined ? 3600 : undefined,
    refresh: def.refreshTokens === 'static' ? 'static' : 'rotating',
    revokeAuth: def.revocation?.clientAuth ?? def.tokenEndpointAuthMethod,
  })
}
