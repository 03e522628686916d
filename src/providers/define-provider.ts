/**
 * @module providers/define-provider
 * The data shape of a provider: endpoints, scope rules and quirks as named fields.
 *
 * Every built-in provider is one small file (`src/providers/<id>.ts`) that exports
 * `defineProvider({...})`. Core code never branches on a provider id: each quirk is a
 * field here, and the generic OAuth core reads the field. Arcade-style custom providers
 * from `latchkey.yaml` compile into the same shape (see `src/providers/arcade-entry.ts`).
 */

/**
 * A value expression used by response maps (Arcade's `response_map` language):
 * - `$.a.b[0].c` simple JSONPath into the response body,
 * - `join(<expr>, '<delim>')` joins an array into a string,
 * - `jwt_decode(<expr>, '$.claim')` decodes a JWT (without verifying it) and reads a claim.
 */
export type ValueExpression = string

/** Keys of the normalized token set a `tokenResponse.map` may fill. */
export type TokenField =
  | 'access_token'
  | 'refresh_token'
  | 'expires_in'
  /** Absolute expiry (ISO 8601 or unix seconds), for providers that send it instead of `expires_in` (Square). */
  | 'expires_at'
  | 'refresh_token_expires_in'
  | 'scope'
  | 'token_type'
  | 'id_token'

/** Per-installation setting that endpoint URLs are templated with, e.g. `{subdomain}`. */
export interface ProviderSetting {
  description: string
  /** Example value, shown in docs and used by the catalog test to build sample URLs. */
  example: string
  /**
   * Regular expression (source) the value must match in full. Settings become part of URLs,
   * so the default only allows a DNS label or host name; never widen it to allow `/`, `?` or `@`.
   */
  pattern?: string
  /** Value used when the installation gives none (e.g. Microsoft `tenant: common`). */
  default?: string
}

export interface UserInfoDefinition {
  /** Userinfo endpoint; may use `{setting}` templates. */
  endpoint: string
  method?: 'GET' | 'POST'
  /** JSON request body, for identity behind a GraphQL API (Linear's `{ viewer { id } }`). Implies POST. */
  body?: Record<string, unknown>
  /** Extra headers (e.g. Notion's `Notion-Version`, Twitch's `Client-Id: {{client_id}}`). */
  headers?: Record<string, string>
  /**
   * Where the stable account id is in the response (e.g. `$.sub`, `$.id`, `$.data.id`).
   * Used to show which account a connection belongs to.
   */
  accountId?: ValueExpression
  /** Optional human label for the account (email, login, name). */
  accountLabel?: ValueExpression
  /**
   * Map of output field → expression. Without a map the entire response body is kept
   * verbatim as `user_info` (Arcade's documented behaviour).
   */
  map?: Record<string, ValueExpression>
  /** When to fetch: on grant (default true) and/or on refresh (default false). */
  triggers?: { onTokenGrant?: boolean; onTokenRefresh?: boolean }
}

// ---- non-OAuth credentials ----
/** How a non-OAuth credential is presented to the service and checked (from the service's own docs). */
export interface CredentialDefinition {
  kind: 'api_key' | 'basic'
  /** api_key: the header carrying the key (e.g. `authorization`, `x-api-key`). basic: always `authorization`. */
  header: string
  /** api_key: the header value with `{secret}` for the key (e.g. `Bearer {secret}`). */
  format: string
  /** Other headers every request needs (e.g. Anthropic's `anthropic-version`). */
  headers?: Record<string, string>
  /** What the person is asked for: the secret's label, and for basic the username's. */
  labels?: { secret?: string; username?: string }
  /**
   * A cheap request that succeeds only with a valid credential (`{username}` may appear in the
   * URL: Twilio's account SID). 401/403 means the credential is wrong; other failures are outages.
   */
  validation?: {
    method?: 'GET'
    url: string
    /**
     * Where the validation response (JSON) says who the credential belongs to: dotted paths to the
     * account's id and a human label (Twilio's account: `sid`, `friendly_name`). Absent: the
     * username (Basic) or the app's account hint (API key) name the account.
     */
    identity?: { id?: string | undefined; label?: string | undefined }
  }
}
// ---- end non-OAuth credentials ----

export interface ProviderDefinition {
  /** Lower-case kebab id, equal to the file name (`google`, `microsoft`, `zendesk`). */
  id: string
  displayName: string
  /** The official document(s) the endpoints and quirks were taken from. */
  docsUrl: string | readonly string[]
  /**
   * The provider's API base URLs (https, no query), as its API documentation names them: the
   * only places the proxy (`/v1/proxy/<provider>/…`) forwards to. May use `{setting}` templates
   * (Shopify's `https://{shop}.myshopify.com/admin/api`). Empty or absent: the proxy refuses the
   * provider.
   */
  apiBaseUrls?: readonly string[]

  /**
   * For APIs whose host comes with each connection (Salesforce `instance_url`, Zoho
   * `api_domain`, Mailchimp `api_endpoint`): the proxy's base URL is the connection's
   * `user_info[userInfo]` (an origin kept from the token response or userinfo) plus `path`, and
   * only when its host matches one of `hosts` (`acme.example.com` exactly, or `*.example.com`:
   * any name under it). Used when `apiBaseUrls` is empty or absent.
   */
  connectionApiBase?: ConnectionApiBase

  /**
   * Issuer identifier (RFC 8414 / OIDC). When set, an `iss` parameter in the authorization
   * response must equal it (RFC 9207 mix-up defence); may contain `{setting}` templates. When
   * unset, see `oauth/expected-issuer.ts`.
   */
  issuer?: string
  /**
   * The authorization server advertises `authorization_response_iss_parameter_supported`: an
   * authorization response without `iss` is then refused (RFC 9207 §2.4; MCP servers, issue 13).
   */
  issuerParameterRequired?: boolean
  /** Authorization endpoint; may contain `{setting}` templates (e.g. `https://{shop}.myshopify.com/...`). */
  authorizationEndpoint: string
  tokenEndpoint: string
  /** Refresh endpoint if it differs from the token endpoint. */
  refreshEndpoint?: string
  /** RFC 7009 revocation endpoint (or the provider's equivalent). */
  revocationEndpoint?: string
  /**
   * How the revocation request is made when it is not plain RFC 7009 (token in a form body,
   * client authenticated like the token endpoint).
   */
  revocation?: {
    /** Which token to revoke: refresh tokens revoke the whole grant at most providers. Default `refresh_token` when present. */
    prefer?: 'access_token' | 'refresh_token'
    /** Send the token as this form/query parameter name (default `token`). */
    tokenParam?: string
    method?: 'POST' | 'DELETE'
    /** Body encoding of the revocation request (default form); `none` sends no body (Dropbox). */
    body?: 'form' | 'json' | 'none'
    /** Extra headers (e.g. Notion's `Notion-Version`). */
    headers?: Record<string, string>
    /** Client authentication for revocation (default: same as the token endpoint). */
    clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'none' | 'bearer_access_token'
  }
  userInfo?: UserInfoDefinition

  /** Per-installation settings that endpoints are templated with. */
  settings?: Record<string, ProviderSetting>

  /** Separator between scopes in the authorize request. Most use space; GitHub accepts both; some need comma. */
  scopeDelimiter: ' ' | ','
  /** Scopes requested when the app asks for none. */
  defaultScopes?: readonly string[]
  /**
   * What each scope lets the app do, in the provider's own words (taken from its documentation),
   * shown on the Continue page as the list of what is being asked. A scope without an entry is
   * shown as its raw name. English: the page's own phrases are translated, these are not.
   */
  scopeDescriptions?: Readonly<Record<string, string>>
  /**
   * Scopes the provider reports back under another name (Google grants `email` as
   * `https://www.googleapis.com/auth/userinfo.email`): both spellings count as the same scope.
   */
  scopeAliases?: Record<string, string>
  /**
   * PKCE (RFC 7636): `required` and `supported` both send S256; `unsupported` sends none
   * (providers that reject or mishandle the parameters).
   */
  pkce: 'required' | 'supported' | 'unsupported'
  /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none'
  /**
   * Extra or overriding authorize parameters. Values may use placeholders
   * `{{client_id}}`, `{{redirect_uri}}`, `{{scopes}}`, `{{existing_scopes}}` and `{setting}`.
   * Set a key to `null` to drop a default parameter (e.g. a provider that rejects `scope`).
   */
  authorizationParams?: Record<string, string | null>
  // ---- several accounts per user and provider ----
  /**
   * Authorize parameter that pre-selects the account to sign in with (OIDC `login_hint`), sent
   * with an authorize's account hint (the email or account id the app named) when set.
   */
  accountHintParam?: string
  /**
   * A non-OAuth provider (`api_key`: one secret; `basic`: username and password): the person
   * enters the credential on Latchkey's page, Latchkey validates it and hands it out like a token.
   * Its OAuth endpoints are unused (they name the service's API origin). See `CredentialDefinition`.
   */
  credential?: CredentialDefinition
  // ---- end several accounts ----
  /** Scope parameter name if it is not `scope` (e.g. Slack user scopes: `user_scope`). */
  scopeParam?: string
  /** Extra headers on token and refresh requests (e.g. GitHub `Accept: application/json`). */
  tokenRequestHeaders?: Record<string, string>
  /** Extra body parameters on the code exchange (templated like `authorizationParams`). */
  tokenRequestParams?: Record<string, string>
  /** Extra body parameters on refresh requests. */
  refreshRequestParams?: Record<string, string>
  /** Token request body encoding; default form (RFC 6749). */
  tokenRequestContentType?: 'form' | 'json'
  tokenResponse?: {
    /** Force the body format; default decides by the Content-Type header. */
    format?: 'json' | 'form'
    /** Where each token field is in the response (default: top-level RFC 6749 names). */
    map?: Partial<Record<TokenField, ValueExpression>>
    /**
     * Non-secret fields of the token response the app needs to call the API, kept in the
     * connection's `user_info` (e.g. Salesforce `instance_url`, Zoho `api_domain`).
     */
    keep?: Record<string, ValueExpression>
  }
  /** Callback query parameters the app needs, kept in `user_info` (e.g. QuickBooks `realmId`). */
  keepCallbackParams?: readonly string[]
  /** How a refresh response is read, when it differs from the code-exchange response (Slack). */
  refreshResponse?: {
    format?: 'json' | 'form'
    map?: Partial<Record<TokenField, ValueExpression>>
  }
  /**
   * Whether the provider issues refresh tokens and whether they rotate on use. Documentation
   * for operators and tests; the core handles all cases (keeps the old refresh token when
   * a refresh response carries none).
   */
  refreshTokens: 'rotating' | 'static' | 'none'
  /**
   * Access-token lifetime to assume when the token response has no `expires_in` (Salesforce).
   * Without it such tokens are treated as non-expiring.
   */
  assumedAccessTokenLifetimeSeconds?: number
  /** Whether the provider returns the granted scopes in the token response. Informational. */
  returnsGrantedScopes?: boolean
  /** Free-form notes on quirks that are handled elsewhere or by the operator. */
  notes?: string
}

/** Identity function that type-checks a provider definition while keeping its literal types. */
export function defineProvider<const T extends ProviderDefinition>(definition: T): T {
  return definition
}

/**
 * A token endpoint answer as a provider's documentation prints it, with every token and secret
 * replaced by an obviously fake value, and what Latchkey must read from it.
 */
export interface DocumentedTokenResponse {
  /**
   * `printed`: the documentation prints this answer (values faked), checked against `source`.
   * `fields`: built from the fields the provider documents, on `source` or in its own typed SDK,
   * when no printed answer was compared (the file's comment names what was compared).
   * `unverified`: written from the provider's documented field list as remembered; not yet
   * checked against its page. The test still runs it, but it proves only that the maps read
   * what the author believed the provider sends. To verify one, open `source`, compare field
   * names, nesting, the `scope` format (space- or comma-separated string, array) and which of
   * `expires_in` / `refresh_token` / `refresh_token_expires_in` appear, fix the body (and the
   * definition's maps if they disagree), then set `printed` or `fields`.
   */
  basis: 'printed' | 'fields' | 'unverified'
  /** The JSON body, or the raw text of a form-encoded answer. */
  body: Record<string, unknown> | string
  /**
   * What the parser must find, read with the definition's `tokenResponse` (or `refreshResponse`)
   * map. An omitted `expiresIn`, `refreshTokenExpiresIn`, `scope` or `refreshToken` means the answer
   * states none. `expiresIn: 'from expires_at'` is for an absolute expiry (any positive lifetime passes).
   */
  expect: {
    accessToken: string
    refreshToken?: string
    expiresIn?: number | 'from expires_at'
    /** Refresh-token lifetime in seconds (`refresh_token_expires_in`, or where the map finds it). */
    refreshTokenExpiresIn?: number
    scope?: readonly string[]
  }
}

/**
 * Each provider file exports `examples` beside its definition, not inside it: the definition is
 * what the registry, the admin API and every request carry at run time, while the examples are
 * documentation and test data. Kept in the same file, they sit next to the maps they check
 * (`test/providers/catalog.test.ts` runs them through the real parser).
 */
export interface ProviderExamples {
  /** The page the example is taken from. */
  source: string
  tokenResponse: DocumentedTokenResponse
  /** Where the provider documents its refresh answer. */
  refreshResponse?: DocumentedTokenResponse
}

/** See `ProviderDefinition.connectionApiBase`. */
export interface ConnectionApiBase {
  /** The `user_info` key holding the origin (`instance_url`). */
  userInfo: string
  /** Appended to the origin (`/3.0`); default none. */
  path?: string
  /** Host patterns the origin must match: exact names or `*.suffix`. */
  hosts: readonly string[]
}
