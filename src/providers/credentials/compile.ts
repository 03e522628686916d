/**
 * @module providers/credentials/compile
 * A credential provider entry (a catalog service by id, or a custom one) compiled into a
 * `ConfiguredProvider`, so authorize, status, the connection cache and selection treat it like
 * any provider: its "token" is the credential, it never refreshes, and its link opens
 * Latchkey's credential page instead of a sign-in at the provider.
 */
import { z } from 'zod'
import { ConfigError, formatPath } from '../../config.js'
import type { OutboundGuard } from '../../oauth/outbound-guard.js'
import { checkEndpoint } from '../compile-provider.js'
import type { ConfiguredProvider } from '../configured-provider.js'
import type { CredentialDefinition, ProviderDefinition } from '../define-provider.js'
import { type CredentialService, credentialCatalog } from './catalog.js'

export const credentialEntrySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1–100 letters, digits, ".", "_" or "-"'),
  /** A catalog service (`openai`); without it the entry is a custom service and needs `kind`. */
  service: z.string().optional(),
  description: z.string().optional(),
  /**
   * As an ordinary `auth.providers` entry (latchkey.yaml or the admin API): `type: api_key` or
   * `type: basic` (the same as `kind`), or `service: openai` alone.
   */
  type: z.enum(['api_key', 'basic']).optional(),
  enabled: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional(),
  kind: z.enum(['api_key', 'basic']).optional(),
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .optional(),
  format: z.string().max(200).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  api_origin: z.string().optional(),
  validation_url: z.string().optional(),
  /** Dotted paths in the validation response (JSON) to the account's id and label. */
  validation_identity: z
    .strictObject({ id: z.string().min(1).max(200).optional(), label: z.string().min(1).max(200).optional() })
    .optional(),
})
export type CredentialEntry = z.infer<typeof credentialEntrySchema>

export interface CredentialCompileContext {
  allowInsecureLoopback: boolean
  guard?: OutboundGuard | undefined
  where: string
  /** Where the entry comes from (default `config`). */
  source?: ConfiguredProvider['source']
}

/** A provider entry that is a credential provider: `type: api_key|basic`, or a catalog `service`. */
export function isCredentialEntry(raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false
  const r = raw as Record<string, unknown>
  return r['type'] === 'api_key' || r['type'] === 'basic' || r['service'] !== undefined
}

export function compileCredentialEntry(raw: unknown, ctx: CredentialCompileContext): ConfiguredProvider {
  const parsed = credentialEntrySchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(`${ctx.where}: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`)
  }
  const e = parsed.data
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${ctx.where}: ${field}: ${message}`)
  }
  let base: CredentialService | undefined
  if (e.service !== undefined) {
    base = credentialCatalog[e.service]
    if (!base)
      fail('service', `unknown credential service ${JSON.stringify(e.service)} (known: ${Object.keys(credentialCatalog).join(', ')})`)
  } else if (!e.kind && !e.type) fail('kind', 'is required for a custom credential provider (api_key or basic)')
  if (e.kind !== undefined && e.type !== undefined && e.kind !== e.type) fail('kind', `contradicts type: ${e.type}`)
  const kind = e.kind ?? e.type ?? base!.credential.kind
  const credential: CredentialDefinition = {
    kind,
    header: kind === 'basic' ? 'authorization' : (e.header ?? base?.credential.header ?? 'authorization'),
    format: kind === 'basic' ? 'Basic {{secret}}' : (e.format ?? base?.credential.format ?? 'Bearer {{secret}}'),
    ...((e.headers ?? base?.credential.headers) ? { headers: e.headers ?? base!.credential.headers! } : {}),
    ...(base?.credential.labels ? { labels: base.credential.labels } : {}),
  }
  if (!credential.format.includes('{{secret}}')) fail('format', 'must contain {{secret}}')
  const validationUrl = e.validation_url ?? base?.credential.validation?.url
  if (validationUrl !== undefined) {
    checkEndpoint(validationUrl, 'validation_url', kind === 'basic' ? ['username'] : [], ctx.allowInsecureLoopback, fail)
    try {
      ctx.guard?.checkUrl(validationUrl.replace(/\{\{\s*[a-z_]+\s*\}\}/g, 'x'))
    } catch (err) {
      fail('validation_url', (err as Error).message)
    }
    const identity = e.validation_identity ?? (e.validation_url === undefined ? base?.credential.validation?.identity : undefined)
    credential.validation = { url: validationUrl, ...(identity ? { identity } : {}) }
  } else if (e.validation_identity !== undefined) fail('validation_identity', 'needs a validation_url')
  const apiOrigin =
    e.api_origin ?? base?.apiOrigin ?? (validationUrl ? new URL(validationUrl.replace(/\{\{[^}]*\}\}/g, 'x')).origin : undefined)
  if (!apiOrigin) fail('api_origin', 'is required when there is no validation_url')
  const displayName = e.description ?? base?.displayName ?? e.id
  const def: ProviderDefinition = {
    id: e.id,
    displayName,
    docsUrl: base?.docsUrl ?? [],
    // Unused for a credential provider: they name where the credential is for.
    authorizationEndpoint: apiOrigin!,
    tokenEndpoint: apiOrigin!,
    scopeDelimiter: ' ',
    pkce: 'unsupported',
    tokenEndpointAuthMethod: 'none',
    refreshTokens: 'none',
    // The proxy forwards under the API's origin (`/v1/proxy/<id>/…`), with the credential added.
    apiBaseUrls: [apiOrigin!],
    credential,
  }
  return {
    id: e.id,
    type: e.service ?? kind,
    description: displayName,
    enabled: e.enabled ?? true,
    source: ctx.source ?? 'config',
    clientId: '',
    clientSecret: undefined,
    settings: {},
    def,
    refreshEnabled: false,
    entry: { ...e },
  }
}
