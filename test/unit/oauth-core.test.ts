/**
 * The provider-agnostic protocol pieces: response-map expressions, token response parsing with
 * declared quirks, authorization URL building, and provider entry compilation.
 */

import { skipStateCheck, validateAuthResponse } from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { buildAuthorizationUrl } from '../../src/oauth/authorization-url.js'
import { exchangeCode } from '../../src/oauth/exchange-code.js'
import { compileExpression, evaluate } from '../../src/oauth/expressions.js'
import { createOutbound } from '../../src/oauth/http.js'
import { OutboundGuard } from '../../src/oauth/outbound-guard.js'
import { asProviderError, ProviderError } from '../../src/oauth/provider-error.js'
import { refreshAccessToken } from '../../src/oauth/refresh-access-token.js'
import { parseTokenResponse } from '../../src/oauth/token-response.js'
import { catalog } from '../../src/providers/catalog.js'
import { compileProviderEntry } from '../../src/providers/provider-config.js'
import { loadProviders } from '../../src/providers/registry.js'

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('response-map expressions', () => {
  it('reads JSONPath, joins arrays and decodes JWT claims, nested', () => {
    const body = { a: { b: [{ c: 'x' }] }, scp: ['r', 'w'], access_token: jwt({ scp: ['files.read', 'files.write'], sub: 'u1' }) }
    expect(evaluate('$.a.b[0].c', body)).toBe('x')
    expect(evaluate("$['a'].b[0]['c']", body)).toBe('x')
    expect(evaluate("join('$.scp', ' ')", body)).toBe('r w')
    expect(evaluate("jwt_decode('$.access_token', '$.sub')", body)).toBe('u1')
    expect(evaluate("join(jwt_decode('$.access_token', '$.scp'), ' ')", body)).toBe('files.read files.write')
    expect(evaluate('$.missing.deep', body)).toBeUndefined()
    expect(evaluate('$.__proto__', {})).toBeUndefined()
  })

  it('rejects malformed expressions with a clear message', () => {
    expect(() => compileExpression('a.b')).toThrow(/must start with/)
    expect(() => compileExpression("join('$.a'")).toThrow()
    expect(() => compileExpression('$.a junk')).toThrow(/unexpected/)
  })
})

const respond = (body: string, status = 200, type = 'application/json') => new Response(body, { status, headers: { 'content-type': type } })

describe('parseTokenResponse', () => {
  it('reads a standard JSON response', async () => {
    const t = await parseTokenResponse(
      respond(JSON.stringify({ access_token: 'at', refresh_token: 'rt', expires_in: 3600, scope: 'a b', token_type: 'Bearer' })),
    )
    expect(t).toMatchObject({ accessToken: 'at', refreshToken: 'rt', expiresIn: 3600, scope: ['a', 'b'], tokenType: 'Bearer' })
  })

  it('reads form-encoded bodies and comma-separated scopes (GitHub)', async () => {
    const t = await parseTokenResponse(
      respond('access_token=gho_x&scope=repo%2Cgist&token_type=bearer', 200, 'application/x-www-form-urlencoded'),
    )
    expect(t.accessToken).toBe('gho_x')
    expect(t.scope).toEqual(['repo', 'gist'])
  })

  it('treats an error sent with HTTP 200 as an error (GitHub, Slack)', async () => {
    await expect(
      parseTokenResponse(respond(JSON.stringify({ error: 'bad_verification_code', error_description: 'The code passed is incorrect' }))),
    ).rejects.toMatchObject({
      kind: 'invalid_grant',
      error: 'bad_verification_code',
    })
    await expect(parseTokenResponse(respond(JSON.stringify({ ok: false, error: 'invalid_client_id' })))).rejects.toMatchObject({
      kind: 'invalid_client',
    })
  })

  it('follows a declared map to nested tokens (Slack user tokens)', async () => {
    const body = {
      ok: true,
      access_token: 'xoxb-bot',
      authed_user: { id: 'U1', access_token: 'xoxp-user', scope: 'search:read,users:read' },
    }
    const t = await parseTokenResponse(respond(JSON.stringify(body)), catalog['slack']!.tokenResponse)
    expect(t.accessToken).toBe('xoxp-user')
    expect(t.scope).toEqual(['search:read', 'users:read'])
  })

  it('classifies failures', async () => {
    const kind = async (r: Response) => ((await parseTokenResponse(r).catch((e: unknown) => e)) as ProviderError).kind
    expect(await kind(respond(JSON.stringify({ error: 'invalid_grant' }), 400))).toBe('invalid_grant')
    expect(await kind(respond(JSON.stringify({ error: 'invalid_client' }), 401))).toBe('invalid_client')
    expect(await kind(respond('<html>bad gateway</html>', 502, 'text/html'))).toBe('transient')
    expect(await kind(respond('', 429))).toBe('transient')
    expect(await kind(respond(JSON.stringify({ token_type: 'bearer' })))).toBe('protocol')
    expect(await kind(respond('not json at all <', 200, 'application/json'))).toBe('protocol')
  })

  it('reads expires_in 0 as no expiry, an absolute expires_at, and keeps declared fields', async () => {
    const never = await parseTokenResponse(respond(JSON.stringify({ access_token: 'a', expires_in: 0 })))
    expect(never.expiresIn).toBeUndefined()
    const at = new Date(Date.now() + 30 * 86_400_000).toISOString()
    const square = await parseTokenResponse(
      respond(JSON.stringify({ access_token: 'a', expires_at: at, merchant_id: 'M1' })),
      catalog['square']!.tokenResponse,
    )
    expect(square.expiresIn).toBeGreaterThan(30 * 86_400 - 5)
    expect(square.kept).toEqual({ merchant_id: 'M1' })
    const sf = await parseTokenResponse(
      respond(JSON.stringify({ access_token: 'a', instance_url: 'https://acme.my.salesforce.com' })),
      catalog['salesforce']!.tokenResponse,
    )
    expect(sf.kept).toEqual({ instance_url: 'https://acme.my.salesforce.com' })
    expect(sf.expiresIn).toBeUndefined()
  })

  it('refuses oversized responses', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10)
    await expect(parseTokenResponse(respond(big))).rejects.toBeInstanceOf(ProviderError)
  })
})

const ctx = { catalog, allowInsecureLoopback: false, source: 'config' as const, where: 'latchkey.yaml: auth.providers[0]' }

describe('authorization URL', () => {
  it('adds state, PKCE S256, the provider extras and requested ∪ existing scopes once each', async () => {
    const p = compileProviderEntry({ id: 'g', provider_id: 'google', client_id: 'cid', client_secret: 's' }, ctx)
    const url = await buildAuthorizationUrl(p, {
      redirectUri: 'https://lk.example/oauth/callback',
      state: 'st',
      scopes: ['email', 'openid'],
      existingScopes: ['profile'],
      codeVerifier: 'v'.repeat(43),
    })
    const q = url.searchParams
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth')
    expect(q.get('scope')).toBe('email openid profile')
    expect(q.get('state')).toBe('st')
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(q.get('access_type')).toBe('offline')
    expect(q.get('redirect_uri')).toBe('https://lk.example/oauth/callback')
  })

  it('sends an account hint as login_hint where the provider takes one, and nowhere else', async () => {
    const google = compileProviderEntry({ id: 'g', provider_id: 'google', client_id: 'cid', client_secret: 's' }, ctx)
    const slack = compileProviderEntry({ id: 's', provider_id: 'slack', client_id: 'cid', client_secret: 's' }, ctx)
    const req = { redirectUri: 'https://x/cb', state: 's', scopes: ['email'], existingScopes: [], codeVerifier: undefined }
    expect((await buildAuthorizationUrl(google, { ...req, accountHint: 'ann@home.example' })).searchParams.get('login_hint')).toBe(
      'ann@home.example',
    )
    expect((await buildAuthorizationUrl(google, req)).searchParams.has('login_hint')).toBe(false)
    expect([...(await buildAuthorizationUrl(slack, { ...req, accountHint: 'ann@home.example' })).searchParams.values()]).not.toContain(
      'ann@home.example',
    )
  })

  it('uses the provider scope parameter and delimiter (Slack user_scope, commas)', async () => {
    const p = compileProviderEntry({ id: 's', provider_id: 'slack', client_id: 'cid', client_secret: 's' }, ctx)
    const url = await buildAuthorizationUrl(p, {
      redirectUri: 'https://x/cb',
      state: 's',
      scopes: ['search:read', 'users:read'],
      existingScopes: [],
      codeVerifier: undefined,
    })
    expect(url.searchParams.get('user_scope')).toBe('search:read,users:read')
    expect(url.searchParams.has('scope')).toBe(false)
    expect(url.searchParams.has('code_challenge')).toBe(false)
  })
})

describe('provider entries', () => {
  it('loads Arcade’s hooli example unchanged', () => {
    const hooli = {
      id: 'hooli',
      description: 'Hooli OAuth 2.0 provider',
      enabled: true,
      type: 'oauth2',
      client_id: 'cid',
      client_secret: 'secret',
      oauth2: {
        scope_delimiter: ' ',
        pkce: { enabled: true, code_challenge_method: 'S256' },
        authorize_request: {
          endpoint: 'https://example.com/oauth/authorize',
          params: {
            response_type: 'code',
            client_id: '{{client_id}}',
            redirect_uri: '{{redirect_uri}}',
            scope: '{{scopes}} {{existing_scopes}}',
          },
        },
        token_request: {
          endpoint: 'https://example.com/oauth/token',
          auth_method: 'client_secret_basic',
          params: {
            grant_type: 'authorization_code',
            client_id: '{{client_id}}',
            client_secret: '{{client_secret}}',
            redirect_uri: '{{redirect_uri}}',
          },
          response_content_type: 'application/json',
          response_map: {
            access_token: '$.access_token',
            refresh_token: '$.refresh_token',
            expires_in: '$.expires_in',
            scope: '$.scope',
            token_type: '$.token_type',
          },
        },
        refresh_request: {
          endpoint: 'https://example.com/oauth/token',
          auth_method: 'client_secret_basic',
          params: {
            grant_type: 'refresh_token',
            client_id: '{{client_id}}',
            client_secret: '{{client_secret}}',
            refresh_token: '{{refresh_token}}',
          },
          response_content_type: 'application/json',
          response_map: {
            access_token: '$.access_token',
            refresh_token: '$.refresh_token',
            expires_in: '$.expires_in',
            scope: '$.scope',
            token_type: '$.token_type',
          },
        },
        token_introspection_request: {
          endpoint: 'https://example.com/oauth/introspect',
          method: 'POST',
          params: { token: '{{access_token}}' },
          auth_method: 'client_secret_basic',
          request_content_type: 'application/x-www-form-urlencoded',
          response_content_type: 'application/json',
          response_map: { expires_in: '$.data.expires_in', scope: '$.data.scope' },
          expiration_format: 'relative_seconds',
          triggers: { on_token_grant: true, on_token_refresh: true },
        },
        user_info_request: {
          endpoint: 'https://example.com/oauth/userinfo',
          auth_method: 'bearer_access_token',
          response_content_type: 'application/json',
          response_map: { custom_property: '$.data.custom_property' },
          triggers: { on_token_grant: true, on_token_refresh: true },
        },
      },
    }
    const p = compileProviderEntry(hooli, ctx)
    expect(p.def.tokenEndpointAuthMethod).toBe('client_secret_basic')
    expect(p.def.pkce).toBe('required')
    expect(p.refreshEnabled).toBe(true)
    expect(p.def.userInfo?.triggers?.onTokenRefresh).toBe(true)
    expect(p.clientSecret).toBe('secret')
  })

  it('names the entry and the field when an entry is invalid', () => {
    const fail = (raw: unknown) => {
      try {
        compileProviderEntry(raw, ctx)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as Error).message
      }
      throw new Error('expected an error')
    }
    expect(fail({ id: 'x', oauth2: {} })).toMatch(/^latchkey\.yaml: auth\.providers\[0\]: client_id: is required/)
    expect(fail({ id: 'x', client_id: 'c', oauth2: { token_request: { endpoint: 'https://a/t' } } })).toMatch(
      /oauth2\.authorize_request: is required/,
    )
    expect(fail({ id: 'x', client_id: 'c', provider_id: 'nope' })).toMatch(/provider_id: unknown built-in provider "nope"/)
    expect(
      fail({
        id: 'x',
        client_id: 'c',
        oauth2: { authorize_request: { endpoint: 'http://evil.example/a' }, token_request: { endpoint: 'https://a/t' } },
      }),
    ).toMatch(/oauth2\.authorize_request\.endpoint: .* must use https/)
    expect(
      fail({
        id: 'x',
        client_id: 'c',
        oauth2: { authorize_request: { endpoint: 'https://a/a', params: { x: '{{nope}}' } }, token_request: { endpoint: 'https://a/t' } },
      }),
    ).toMatch(/authorize_request\.params\.x: \{\{nope\}\} is not available in authorize_request \(available: \{\{client_id\}\}, /)
    expect(fail({ id: 'bad id!', client_id: 'c' })).toMatch(/id: must be/)
  })

  it('refuses, at load, a placeholder the request it is in could not fill', () => {
    const entry = (oauth2: Record<string, unknown>) => ({
      id: 'x',
      client_id: 'c',
      client_secret: 's',
      oauth2: { authorize_request: { endpoint: 'https://a/a' }, token_request: { endpoint: 'https://a/t' }, ...oauth2 },
    })
    expect(() =>
      compileProviderEntry(entry({ authorize_request: { endpoint: 'https://a/a', params: { s: '{{client_secret}}' } } }), ctx),
    ).toThrow(/authorize_request\.params\.s: \{\{client_secret\}\} would put the client secret in the user's browser/)
    expect(() =>
      compileProviderEntry(entry({ token_request: { endpoint: 'https://a/t', params: { r: '{{refresh_token}}' } } }), ctx),
    ).toThrow(/token_request\.params\.r: \{\{refresh_token\}\} is not available/)
    expect(() =>
      compileProviderEntry(entry({ token_request: { endpoint: 'https://a/t', headers: { 'x-secret': '{{client_secret}}' } } }), ctx),
    ).toThrow(/token_request\.headers\.x-secret: \{\{client_secret\}\} is not available in token_request \(available: \{\{client_id\}\}\)/)
    expect(() => compileProviderEntry(entry({ token_request: { endpoint: 'https://a/t/{{client_id}}' } }), ctx)).toThrow(
      /token_request\.endpoint: \{\{client_id\}\} is not filled in this URL/,
    )
    expect(() => compileProviderEntry(entry({ revoke_request: { endpoint: 'https://a/r/{{client_secret}}' } }), ctx)).toThrow(
      /revoke_request\.endpoint: \{\{client_secret\}\} is not filled in this URL \(available: \{\{client_id\}\}\)/,
    )
    expect(() => compileProviderEntry(entry({ revoke_request: { endpoint: 'https://a/r/{{client_id}}' } }), ctx)).not.toThrow()
    expect(() => compileProviderEntry(entry({ refresh_request: { endpoint: 'https://a/t', headers: { 'x-a': 'b' } } }), ctx)).toThrow(
      /refresh_request\.headers: not supported/,
    )
    expect(() =>
      compileProviderEntry(
        entry({
          token_request: { endpoint: 'https://a/t', params: { scope: '{{scopes}}' } },
          refresh_request: { endpoint: 'https://a/t', params: { scope: '{{scopes}}' } },
        }),
        ctx,
      ),
    ).not.toThrow()
  })

  it('fills {{scopes}} in token and refresh request params (flow scopes; granted scopes)', async () => {
    const p = compileProviderEntry(
      {
        id: 'x',
        client_id: 'c',
        client_secret: 's',
        oauth2: {
          scope_delimiter: ',',
          authorize_request: { endpoint: 'https://a/a' },
          token_request: {
            endpoint: 'https://a/t',
            auth_method: 'client_secret_basic',
            params: { scope: '{{scopes}}', previously: '{{existing_scopes}}' },
          },
          refresh_request: { endpoint: 'https://a/t', auth_method: 'client_secret_basic', params: { scope: '{{scopes}}' } },
        },
      },
      ctx,
    )
    const bodies: URLSearchParams[] = []
    const fetch = async (_url: URL | RequestInfo, init?: RequestInit) => {
      bodies.push(new URLSearchParams(String(init?.body)))
      return respond(JSON.stringify({ access_token: 'at', refresh_token: 'rt', expires_in: 3600, token_type: 'Bearer' }))
    }
    // A public address for the made-up host: the guard's pre-check resolves it.
    const outbound = createOutbound({
      allowPrivate: [],
      proxy: { http: undefined, https: undefined, noProxy: undefined },
      resolve: async () => [{ address: '93.184.215.14', family: 4 }],
    })
    const http = { timeoutMs: 5000, outbound, fetch: fetch as typeof globalThis.fetch }
    await exchangeCode(
      p,
      {
        callbackParameters: validateAuthResponse(
          { issuer: 'https://a' },
          { client_id: 'c' },
          new URLSearchParams({ code: 'abc' }),
          skipStateCheck,
        ),
        redirectUri: 'https://lk/cb',
        codeVerifier: undefined,
        scopes: ['read', 'write'],
        existingScopes: ['admin'],
      },
      http,
    )
    await refreshAccessToken(p, 'rt', ['read', 'write', 'admin'], http)
    expect(Object.fromEntries(bodies[0]!)).toMatchObject({
      grant_type: 'authorization_code',
      code: 'abc',
      scope: 'read,write',
      previously: 'admin',
    })
    expect(Object.fromEntries(bodies[1]!)).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'rt', scope: 'read,write,admin' })
  })

  it('validates per-installation settings so they cannot change the URL’s host', () => {
    expect(() =>
      compileProviderEntry(
        { id: 'z', provider_id: 'zendesk', client_id: 'c', client_secret: 's', settings: { subdomain: 'evil.com/x?' } },
        ctx,
      ),
    ).toThrow(/settings\.subdomain/)
    expect(() => compileProviderEntry({ id: 'z', provider_id: 'zendesk', client_id: 'c', client_secret: 's' }, ctx)).toThrow(
      /settings\.subdomain: is required/,
    )
    const ok = compileProviderEntry(
      { id: 'z', provider_id: 'zendesk', client_id: 'c', client_secret: 's', settings: { subdomain: 'acme' } },
      ctx,
    )
    expect(ok.def.authorizationEndpoint).toContain('https://acme.zendesk.com/')
  })

  it('reports every start-up problem of the provider list as a ConfigError (the CLI prints it without a stack)', () => {
    const load = (input: Partial<Parameters<typeof loadProviders>[0]>) => () =>
      loadProviders({
        catalog,
        entries: [],
        envProviders: {},
        configFile: 'latchkey.yaml',
        allowInsecureLoopback: false,
        guard: new OutboundGuard([]),
        ...input,
      })
    const google = { id: 'g', provider_id: 'google', client_id: 'c', client_secret: 's' }
    expect(load({ entries: [google, google] })).toThrow(new ConfigError('latchkey.yaml: auth.providers[1]: id "g" is used twice'))
    expect(load({ envProviders: { nosuch: { client_id: 'c' } } })).toThrow(
      new ConfigError('LATCHKEY_NOSUCH_CLIENT_ID: there is no built-in provider "nosuch"'),
    )
    for (const run of [
      load({ entries: [google, google] }),
      load({ envProviders: { nosuch: { client_id: 'c' } } }),
      load({ entries: [{ id: 'x' }] }),
    ]) {
      expect(run).toThrow(expect.objectContaining({ name: 'ConfigError' }))
    }
  })
})

describe('asProviderError', () => {
  it('keeps a ProviderError, unwraps one oauth4webapi carried as the cause, and calls anything else a protocol error', () => {
    const network = new ProviderError('transient', 'connect ECONNREFUSED')
    expect(asProviderError(network)).toBe(network)
    expect(asProviderError(new TypeError('fetch failed', { cause: network }))).toBe(network)
    const plain = asProviderError(new Error('"response" body "access_token" property must be a string'))
    expect([plain.kind, plain.message]).toEqual(['protocol', '"response" body "access_token" property must be a string'])
  })
})

describe('scope coverage', () => {
  it('counts a provider’s aliases as the same scope (Google userinfo URLs)', async () => {
    const { covers } = await import('../../src/broker/flows.js')
    const granted = ['openid', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile']
    expect(covers(granted, ['openid', 'email', 'profile'], catalog['google']!.scopeAliases)).toBe(true)
    expect(covers(granted, ['openid', 'email', 'profile'])).toBe(false)
    expect(covers(granted, ['https://www.googleapis.com/auth/gmail.readonly'], catalog['google']!.scopeAliases)).toBe(false)
  })
})
