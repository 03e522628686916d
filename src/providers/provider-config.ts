/**
 * @module providers/provider-config
 * Provider entries in the shape of Arcade's engine.yaml `auth.providers` (wire doc §11) and of
 * its admin API, validated with zod and compiled into a `ConfiguredProvider`: a catalog
 * definition (by `provider_id`) or a full custom `oauth2` block, plus client credentials.
 */
import { z } from 'zod'
import { formatPath } from '../config.js'
import type { ProviderDefinition, TokenField } from './define-provider.js'
import { compileExpression } from '../oauth/expressions.js'
import { fillSettings, placeholdersIn, settingsIn } from '../oauth/templates.js'

export interface ConfiguredProvider {
  /** The unique id apps name in `auth_requirement.provider_id` / `id`. */
  id: string
  /** Catalog id (`google`) or `oauth2` for a fully custom provider. */
  type: string
  description: string
  enabled: boolean
  source: 'config' | 'env' | 'admin' | 'demo'
  clientId: string
  clientSecret: string | undefined
  settings: Record<string, string>
  /** The definition with `{setting}` templates filled in. */
  def: ProviderDefinition
  /** Refresh is used only when the provider issues refresh tokens (and, for custom ones, has a refresh_request). */
  refreshEnabled: boolean
  /** The entry as given (secrets excluded), for the admin API. */
  entry: ProviderEntry
}

const requestSchema = z
  .object({
    endpoint: z.string().min(1),
    method: z.enum(['GET', 'POST']).optional(),
    auth_method: z.enum(['', 'none', 'client_secret_basic', 'client_secret_post', 'bearer_access_token']).optional(),
    auth_header_value_format: z.string().optional(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    request_content_type: z.enum(['application/x-www-form-urlencoded', 'application/json']).optional(),
    response_content_type: z.enum(['application/x-www-form-urlencoded', 'application/json']).optional(),
    response_map: z.record(z.string(), z.string()).optional(),
    expiration_format: z.string().optional(),
    triggers: z.object({ on_token_grant: z.boolean().optional(), on_token_refresh: z.boolean().optional() }).optional(),
  })
  .passthrough()

const oauth2Schema = z
  .object({
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    scope_delimiter: z.enum([' ', ',']).optional(),
    pkce: z.object({ enabled: z.boolean().optional(), code_challenge_method: z.literal('S256').optional() }).optional(),
    authorize_request: requestSchema.optional(),
    token_request: requestSchema.optional(),
    refresh_request: requestSchema.optional(),
    user_info_request: requestSchema.optional(),
    token_introspection_request: requestSchema.optional(),
    revoke_request: requestSchema.optional(),
  })
  .passthrough()

export const providerEntrySchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1–100 letters, digits, ".", "_" or "-"'),
    description: z.string().optional(),
    enabled: z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true').optional(),
    status: z.enum(['active', 'inactive']).optional(),
    type: z.literal('oauth2').optional(),
    provider_id: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    /** Latchkey extension: values for a catalog provider's `{setting}` templates. */
    settings: z.record(z.string(), z.string()).optional(),
    oauth2: oauth2Schema.optional(),
  })
  .passthrough()

export type ProviderEntry = z.infer<typeof providerEntrySchema>

export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProviderConfigError'
  }
}

export interface CompileContext {
  /** Built-in catalog by id. */
  catalog: Readonly<Record<string, ProviderDefinition>>
  /** Allow http:// endpoints on loopback (development and tests). */
  allowInsecureLoopback: boolean
  source: ConfiguredProvider['source']
  /** Prefix for error messages, e.g. `latchkey.yaml: auth.providers[2] (id: hooli)`. */
  where: string
}

/** Validates and compiles one provider entry; errors name the entry and the field. */
export function compileProviderEntry(raw: unknown, ctx: CompileContext): ConfiguredProvider {
  const parsed = providerEntrySchema.safeParse(raw)
  if (!parsed.success) {
    throw new ProviderConfigError(`${ctx.where}: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`)
  }
  const entry = parsed.data
  const fail = (field: string, message: string): never => {
    throw new ProviderConfigError(`${ctx.where}: ${field}: ${message}`)
  }
  const clientId = entry.client_id ?? entry.oauth2?.client_id
  const clientSecret = entry.client_secret ?? entry.oauth2?.client_secret
  if (!clientId) fail('client_id', 'is required')

  let def: ProviderDefinition
  let type: string
  let refreshEnabled: boolean
  if (entry.provider_id !== undefined) {
    const base = ctx.catalog[entry.provider_id]
    if (!base) fail('provider_id', `unknown built-in provider ${JSON.stringify(entry.provider_id)} (see \`latchkey providers list\`)`)
    def = base!
    type = entry.provider_id
    refreshEnabled = def.refreshTokens !== 'none'
  } else {
    if (!entry.oauth2) fail('oauth2', 'is required when provider_id is not set')
    const o = entry.oauth2!
    if (!o.authorize_request) fail('oauth2.authorize_request', 'is required when provider_id is not set')
    if (!o.token_request) fail('oauth2.token_request', 'is required when provider_id is not set')
    def = fromArcadeOauth2(entry.id, entry.description, o, fail)
    type = 'oauth2'
    refreshEnabled = o.refresh_request !== undefined
  }

  const settings = resolveSettings(def, entry.settings ?? {}, fail)
  const filled = fillDefinition(def, settings)
  // Errors in a custom entry name the field as the entry spells it (`oauth2.token_request.endpoint`).
  const named = (field: string) => (entry.provider_id === undefined ? arcadeFieldName(field) : field)
  for (const [field, url] of endpointsOf(filled)) checkEndpoint(url, named(field), field === 'revocationEndpoint' ? ['client_id'] : [], ctx.allowInsecureLoopback, fail)
  for (const [field, expr] of expressionsOf(filled)) {
    try {
      compileExpression(expr)
    } catch (err) {
      fail(named(field), (err as Error).message)
    }
  }
  const { client_secret: _s, ...publicEntry } = entry
  if (publicEntry.oauth2) publicEntry.oauth2 = { ...publicEntry.oauth2, client_secret: undefined }
  return {
    id: entry.id,
    type,
    description: entry.description ?? def.displayName,
    enabled: (entry.enabled ?? true) && entry.status !== 'inactive',
    source: ctx.source,
    clientId: clientId!,
    clientSecret,
    settings,
    def: filled,
    refreshEnabled,
    entry: publicEntry,
  }
}

const STANDARD_TOKEN_PARAMS = new Set(['grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'code_verifier', 'refresh_token'])
const STANDARD_AUTHORIZE_PARAMS = new Set(['state', 'code_challenge', 'code_challenge_method'])
/**
 * The `{{…}}` values each request is built with (Arcade documents the same per request), so a
 * placeholder that a request could not fill is refused when the file loads, not at the callback.
 * `{{scopes}}` in the token request is the flow's requested scopes (`{{existing_scopes}}` the ones
 * granted before); in the refresh request, the connection's granted scopes.
 */
const REQUEST_PLACEHOLDERS: Record<string, readonly string[]> = {
  authorize_request: ['client_id', 'redirect_uri', 'scopes', 'existing_scopes', 'state'],
  token_request: ['client_id', 'client_secret', 'redirect_uri', 'scopes', 'existing_scopes'],
  refresh_request: ['client_id', 'client_secret', 'refresh_token', 'scopes'],
  // Accepted for compatibility with Arcade files but not sent: Latchkey sends the token itself
  // (bearer header to userinfo; RFC 7009 `token` body to revocation).
  user_info_request: ['client_id', 'client_secret', 'access_token'],
  revoke_request: ['client_id', 'client_secret', 'access_token', 'refresh_token'],
}
/** Request headers are filled with the client id only. */
const HEADER_PLACEHOLDERS: readonly string[] = ['client_id']

type Oauth2 = z.infer<typeof oauth2Schema>
type Req = z.infer<typeof requestSchema>

/** Arcade's full custom `oauth2` block → a provider definition. */
function fromArcadeOauth2(id: string, description: string | undefined, o: Oauth2, fail: (f: string, m: string) => never): ProviderDefinition {
  const auth = o.authorize_request!
  const token = o.token_request!
  const requests = { authorize_request: auth, token_request: token, refresh_request: o.refresh_request, user_info_request: o.user_info_request, revoke_request: o.revoke_request }
  for (const [name, req] of Object.entries(requests)) {
    const check = (field: string, template: string, available: readonly string[]) => {
      for (const p of placeholdersIn(template)) {
        if (available.includes(p)) continue
        if (p === 'client_secret' && name === 'authorize_request') fail(field, '{{client_secret}} would put the client secret in the user\'s browser; it belongs in token_request')
        fail(field, `{{${p}}} is not available in ${name} (available: ${available.map((a) => `{{${a}}}`).join(', ')})`)
      }
    }
    for (const [k, v] of Object.entries(req?.params ?? {})) check(`oauth2.${name}.params.${k}`, v, REQUEST_PLACEHOLDERS[name]!)
    for (const [k, v] of Object.entries(req?.headers ?? {})) check(`oauth2.${name}.headers.${k}`, v, HEADER_PLACEHOLDERS)
  }
  // Headers Latchkey would not send are refused rather than silently dropped.
  if (o.refresh_request?.headers) fail('oauth2.refresh_request.headers', 'not supported: refresh requests send token_request.headers')
  if (o.revoke_request?.headers) fail('oauth2.revoke_request.headers', 'not supported: revocation sends the token as RFC 7009 describes, with the client authentication of token_request')
  const authorizationParams: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(auth.params ?? {})) {
    // state and PKCE are always added by Latchkey (Arcade: "state is added automatically").
    if (!STANDARD_AUTHORIZE_PARAMS.has(k)) authorizationParams[k] = v
  }
  const clientAuth = (r: Req): ProviderDefinition['tokenEndpointAuthMethod'] =>
    r.auth_method === 'client_secret_basic' ? 'client_secret_basic' : r.params?.['client_secret'] !== undefined || r.auth_method === 'client_secret_post' ? 'client_secret_post' : 'none'
  const extraParams = (r: Req | undefined) => Object.fromEntries(Object.entries(r?.params ?? {}).filter(([k]) => !STANDARD_TOKEN_PARAMS.has(k)))
  const responseSpec = (r: Req | undefined) =>
    r && (r.response_content_type || r.response_map)
      ? {
          ...(r.response_content_type ? { format: r.response_content_type === 'application/json' ? ('json' as const) : ('form' as const) } : {}),
          ...(r.response_map ? { map: r.response_map as Partial<Record<TokenField, string>> } : {}),
        }
      : undefined
  const refresh = o.refresh_request
  const userInfo = o.user_info_request
  const tokenResponse = responseSpec(token)
  const refreshResponse = responseSpec(refresh)
  const def: ProviderDefinition = {
    id,
    displayName: description ?? id,
    docsUrl: [],
    authorizationEndpoint: auth.endpoint,
    tokenEndpoint: token.endpoint,
    ...(refresh && refresh.endpoint !== token.endpoint ? { refreshEndpoint: refresh.endpoint } : {}),
    ...(o.revoke_request ? { revocationEndpoint: o.revoke_request.endpoint } : {}),
    scopeDelimiter: o.scope_delimiter ?? ' ',
    pkce: o.pkce?.enabled ? 'required' : 'unsupported',
    tokenEndpointAuthMethod: clientAuth(token),
    authorizationParams,
    tokenRequestParams: extraParams(token),
    refreshRequestParams: extraParams(refresh),
    ...(token.headers ? { tokenRequestHeaders: token.headers } : {}),
    ...(token.request_content_type === 'application/json' ? { tokenRequestContentType: 'json' as const } : {}),
    ...(tokenResponse ? { tokenResponse } : {}),
    ...(refreshResponse ? { refreshResponse } : {}),
    refreshTokens: refresh ? 'static' : 'none',
    ...(userInfo
      ? {
          userInfo: {
            endpoint: userInfo.endpoint,
            ...(userInfo.method ? { method: userInfo.method } : {}),
            ...(userInfo.headers ? { headers: userInfo.headers } : {}),
            ...(userInfo.response_map ? { map: userInfo.response_map } : {}),
            triggers: { onTokenGrant: userInfo.triggers?.on_token_grant ?? true, onTokenRefresh: userInfo.triggers?.on_token_refresh ?? false },
          },
        }
      : {}),
  }
  return def
}

function resolveSettings(def: ProviderDefinition, given: Record<string, string>, fail: (f: string, m: string) => never): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(given)) {
    if (!def.settings?.[name]) fail(`settings.${name}`, `${def.id} has no setting ${JSON.stringify(name)}`)
  }
  for (const [name, s] of Object.entries(def.settings ?? {})) {
    const value = given[name] ?? s.default
    if (value === undefined) fail(`settings.${name}`, `is required by ${def.id}: ${s.description} (e.g. ${s.example})`)
    const pattern = new RegExp(s.pattern ?? '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$')
    if (!pattern.test(value!)) fail(`settings.${name}`, `${JSON.stringify(value)} does not match ${pattern.source}`)
    out[name] = value!
  }
  return out
}

/** Fills `{setting}` templates in every endpoint of a definition. */
export function fillDefinition(def: ProviderDefinition, settings: Record<string, string>): ProviderDefinition {
  const f = (u: string | undefined) => (u === undefined ? undefined : fillSettings(u, settings))
  const filled: ProviderDefinition = { ...def, authorizationEndpoint: f(def.authorizationEndpoint)!, tokenEndpoint: f(def.tokenEndpoint)! }
  if (def.refreshEndpoint) filled.refreshEndpoint = f(def.refreshEndpoint)!
  if (def.revocationEndpoint) filled.revocationEndpoint = f(def.revocationEndpoint)!
  if (def.userInfo) filled.userInfo = { ...def.userInfo, endpoint: f(def.userInfo.endpoint)! }
  if (def.authorizationParams) {
    filled.authorizationParams = Object.fromEntries(Object.entries(def.authorizationParams).map(([k, v]) => [k, v === null ? null : fillSettings(v, settings)]))
  }
  return filled
}

export function endpointsOf(def: ProviderDefinition): Array<[string, string]> {
  const list: Array<[string, string | undefined]> = [
    ['authorizationEndpoint', def.authorizationEndpoint],
    ['tokenEndpoint', def.tokenEndpoint],
    ['refreshEndpoint', def.refreshEndpoint],
    ['revocationEndpoint', def.revocationEndpoint],
    ['userInfo.endpoint', def.userInfo?.endpoint],
  ]
  return list.filter((e): e is [string, string] => e[1] !== undefined)
}

/** Definition fields → where they come from in an Arcade-style `oauth2` block, for error messages. */
const ARCADE_FIELDS: Array<[string, string]> = [
  ['authorizationEndpoint', 'oauth2.authorize_request.endpoint'],
  ['tokenEndpoint', 'oauth2.token_request.endpoint'],
  ['refreshEndpoint', 'oauth2.refresh_request.endpoint'],
  ['revocationEndpoint', 'oauth2.revoke_request.endpoint'],
  ['userInfo.endpoint', 'oauth2.user_info_request.endpoint'],
  ['tokenResponse.map.', 'oauth2.token_request.response_map.'],
  ['refreshResponse.map.', 'oauth2.refresh_request.response_map.'],
  ['userInfo.map.', 'oauth2.user_info_request.response_map.'],
]

function arcadeFieldName(field: string): string {
  for (const [ours, theirs] of ARCADE_FIELDS) {
    if (field === ours || (ours.endsWith('.') && field.startsWith(ours))) return theirs + field.slice(ours.length)
  }
  return field
}

function expressionsOf(def: ProviderDefinition): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [k, v] of Object.entries(def.tokenResponse?.map ?? {})) out.push([`tokenResponse.map.${k}`, v])
  for (const [k, v] of Object.entries(def.tokenResponse?.keep ?? {})) out.push([`tokenResponse.keep.${k}`, v])
  for (const [k, v] of Object.entries(def.refreshResponse?.map ?? {})) out.push([`refreshResponse.map.${k}`, v])
  for (const [k, v] of Object.entries(def.userInfo?.map ?? {})) out.push([`userInfo.map.${k}`, v])
  if (def.userInfo?.accountId) out.push(['userInfo.accountId', def.userInfo.accountId])
  if (def.userInfo?.accountLabel) out.push(['userInfo.accountLabel', def.userInfo.accountLabel])
  return out
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)
}

/** `placeholders`: the `{{…}}` values the request to this endpoint fills in its URL (the revocation URL: the client id). */
function checkEndpoint(raw: string, field: string, placeholders: readonly string[], allowInsecureLoopback: boolean, fail: (f: string, m: string) => never): void {
  if (settingsIn(raw).length > 0) fail(field, `unfilled setting in ${raw}`)
  for (const p of placeholdersIn(raw)) {
    if (!placeholders.includes(p)) fail(field, `{{${p}}} is not filled in this URL${placeholders.length > 0 ? ` (available: ${placeholders.map((a) => `{{${a}}}`).join(', ')})` : ''}`)
  }
  // `{{client_id}}` may appear in a path (GitHub's revocation URL); check the URL around it.
  let url: URL
  try {
    url = new URL(raw.replace(/\{\{\s*[a-z_]+\s*\}\}/g, 'x'))
  } catch {
    fail(field, `${JSON.stringify(raw)} is not a URL`)
  }
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:' && isLoopbackUrl(url)) {
    if (allowInsecureLoopback) return
    fail(field, `${raw} uses http://; allowed on loopback only with LATCHKEY_ALLOW_INSECURE_LOOPBACK_PROVIDERS=true (never in production)`)
  }
  fail(field, `${raw} must use https://`)
}
