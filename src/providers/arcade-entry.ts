/**
 * @module providers/arcade-entry
 * A provider entry in the shape of Arcade's engine.yaml `auth.providers` (wire doc §11) and of
 * its admin API: the zod schema, and the translation of a full custom `oauth2` block into a
 * provider definition. Field names in errors are the entry's own (`oauth2.token_request.endpoint`).
 */
import { z } from 'zod'
import { placeholdersIn } from '../oauth/templates.js'
import { strictObject } from '../strict-schema.js'
import type { ProviderDefinition, TokenField } from './define-provider.js'

// Strict at every level: a misspelt key (`scope_delimeter`) is refused with the nearest known
// one, instead of being ignored while the default it meant to change stays in force.
const requestShape = {
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
  triggers: strictObject({ on_token_grant: z.boolean().optional(), on_token_refresh: z.boolean().optional() }).optional(),
}
const requestSchema = strictObject(requestShape)
/** Arcade documents `enabled` for the introspection request only. */
const introspectionSchema = strictObject({ ...requestShape, enabled: z.boolean().optional() })

const oauth2Schema = strictObject({
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  scope_delimiter: z.enum([' ', ',']).optional(),
  pkce: strictObject({ enabled: z.boolean().optional(), code_challenge_method: z.literal('S256').optional() }).optional(),
  authorize_request: requestSchema.optional(),
  token_request: requestSchema.optional(),
  refresh_request: requestSchema.optional(),
  user_info_request: requestSchema.optional(),
  token_introspection_request: introspectionSchema.optional(),
  revoke_request: requestSchema.optional(),
})

export const providerEntrySchema = strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1–100 letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  enabled: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional(),
  status: z.enum(['active', 'inactive']).optional(),
  type: z.enum(['oauth2', 'mcp']).optional(),
  provider_id: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  /** Latchkey extension: values for a catalog provider's `{setting}` templates. */
  settings: z.record(z.string(), z.string()).optional(),
  /**
   * Latchkey extension: the API base URLs the proxy (`/v1/proxy/<id>/…`) may forward to, for a
   * custom provider (catalog providers declare theirs).
   */
  api_base_urls: z.array(z.string().min(1).max(2048)).max(50).optional(),
  /**
   * Latchkey extension: for a custom provider whose API host comes with each connection, the
   * `user_info` key holding that origin, a path appended to it and the host patterns it must match
   * (`ProviderDefinition.connectionApiBase`). Used when `api_base_urls` is absent.
   */
  connection_api_base: strictObject({
    user_info: z.string().min(1).max(100),
    path: z
      .string()
      .max(512)
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/)
      .optional(),
    hosts: z
      .array(z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/))
      .min(1)
      .max(50),
  }).optional(),
  oauth2: oauth2Schema.optional(),
  /** Latchkey extension (issue 13): a remote MCP server whose OAuth endpoints are discovered (`mcp-entry.ts`). */
  mcp: strictObject({
    server_url: z.string().min(1),
    scopes: z.array(z.string().min(1)).optional(),
    /** RFC 8707 `resource` on authorization and token requests (default true; false for servers that reject it). */
    resource_parameter: z.boolean().optional(),
  }).optional(),
})

export type ProviderEntry = z.infer<typeof providerEntrySchema>

const STANDARD_TOKEN_PARAMS = new Set([
  'grant_type',
  'code',
  'redirect_uri',
  'client_id',
  'client_secret',
  'code_verifier',
  'refresh_token',
])
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
export function fromArcadeOauth2(
  id: string,
  description: string | undefined,
  o: Oauth2,
  fail: (f: string, m: string) => never,
): ProviderDefinition {
  const auth = o.authorize_request!
  const token = o.token_request!
  const requests = {
    authorize_request: auth,
    token_request: token,
    refresh_request: o.refresh_request,
    user_info_request: o.user_info_request,
    revoke_request: o.revoke_request,
  }
  for (const [name, req] of Object.entries(requests)) {
    const check = (field: string, template: string, available: readonly string[]) => {
      for (const p of placeholdersIn(template)) {
        if (available.includes(p)) continue
        if (p === 'client_secret' && name === 'authorize_request')
          fail(field, "{{client_secret}} would put the client secret in the user's browser; it belongs in token_request")
        fail(field, `{{${p}}} is not available in ${name} (available: ${available.map((a) => `{{${a}}}`).join(', ')})`)
      }
    }
    for (const [k, v] of Object.entries(req?.params ?? {})) check(`oauth2.${name}.params.${k}`, v, REQUEST_PLACEHOLDERS[name]!)
    for (const [k, v] of Object.entries(req?.headers ?? {})) check(`oauth2.${name}.headers.${k}`, v, HEADER_PLACEHOLDERS)
  }
  // Headers Latchkey would not send are refused rather than silently dropped.
  if (o.refresh_request?.headers) fail('oauth2.refresh_request.headers', 'not supported: refresh requests send token_request.headers')
  if (o.revoke_request?.headers)
    fail(
      'oauth2.revoke_request.headers',
      'not supported: revocation sends the token as RFC 7009 describes, with the client authentication of token_request',
    )
  const authorizationParams: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(auth.params ?? {})) {
    // state and PKCE are always added by Latchkey (Arcade: "state is added automatically").
    if (!STANDARD_AUTHORIZE_PARAMS.has(k)) authorizationParams[k] = v
  }
  const clientAuth = (r: Req): ProviderDefinition['tokenEndpointAuthMethod'] =>
    r.auth_method === 'client_secret_basic'
      ? 'client_secret_basic'
      : r.params?.['client_secret'] !== undefined || r.auth_method === 'client_secret_post'
        ? 'client_secret_post'
        : 'none'
  const extraParams = (r: Req | undefined) =>
    Object.fromEntries(Object.entries(r?.params ?? {}).filter(([k]) => !STANDARD_TOKEN_PARAMS.has(k)))
  const responseSpec = (r: Req | undefined) =>
    r && (r.response_content_type || r.response_map)
      ? {
          ...(r.response_content_type
            ? { format: r.response_content_type === 'application/json' ? ('json' as const) : ('form' as const) }
            : {}),
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
            triggers: {
              onTokenGrant: userInfo.triggers?.on_token_grant ?? true,
              onTokenRefresh: userInfo.triggers?.on_token_refresh ?? false,
            },
          },
        }
      : {}),
  }
  return def
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

export function arcadeFieldName(field: string): string {
  for (const [ours, theirs] of ARCADE_FIELDS) {
    if (field === ours || (ours.endsWith('.') && field.startsWith(ours))) return theirs + field.slice(ours.length)
  }
  return field
}
