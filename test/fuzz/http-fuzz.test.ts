/**
 * Property-based fuzzing of every HTTP endpoint of a live Latchkey (real HTTP on 127.0.0.1, a
 * real OAuth server, SQLite) with random and hostile input: JSON of any shape (deep nesting,
 * huge strings, lone surrogates, bidi and zero-width characters, control characters,
 * `__proto__`/`constructor` keys, NaN/1e308/-0), wrong content types, repeated and badly encoded
 * query parameters, random path ids, and — over raw sockets — malformed request lines and
 * header injection. Properties: never a 5xx, JSON errors are `{ name, message }`, the server keeps
 * answering, the prototype of Object is untouched, and no response leaks the token of the
 * connected user `victim` (no fuzz input ever names that user).
 *
 * `FUZZ_RUNS` sets the runs per endpoint (default 150); `npm run fuzz` runs 5000. `FUZZ_POSTGRES=1` fuzzes
 * a server on a fresh PostgreSQL database instead of SQLite; `FUZZ_SEED` replays a reported seed;
 * `FUZZ_STATS=1` prints which statuses the runs reached.
 */
import { connect as netConnect } from 'node:net'
import { Latchkey } from '@latchkey/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../helpers/browser.js'
import { type Harness, startHarness } from '../helpers/latchkey.js'
import { createTestDatabase, describePostgres } from '../helpers/postgres.js'

const RUNS = Math.max(1, Number(process.env['FUZZ_RUNS'] ?? 150))
const TIMEOUT = Math.max(60_000, RUNS * 400)

// ------------------------------------------------------------------ the live server

let h: Harness
let db: { url: string; drop(): Promise<void> } | undefined
let port: number
const victim = { token: '', refreshToken: '', connectionId: '', flowId: '' }
const known = { bystanderFlowId: '', bystanderConnectionId: '', failedFlowId: '', pendingFlowId: '', pendingState: '' }
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort()

beforeAll(async () => {
  if (process.env['FUZZ_POSTGRES']) db = await createTestDatabase()
  h = await startHarness({ config: { rateLimit: { perMinute: 0 }, authFailuresPerMinute: 0 }, ...(db ? { databaseUrl: db.url } : {}) })
  port = Number(new URL(h.baseURL).port)
  const client = new Latchkey({ apiKey: h.apiKey, baseURL: h.baseURL, maxRetries: 0 })
  const connectUser = async (user: string) => {
    const started = await client.auth.start(user, 'test-idp', { scopes: ['openid', 'profile', 'offline_access'] })
    await new TestBrowser().authorize(started.url!, { login: user })
    const done = await client.auth.waitForCompletion(started, { timeoutMs: 10_000 })
    return { flowId: started.id!, token: done.context!.token!, connection: (await h.latchkey.store.getConnection(user, 'test-idp'))! }
  }
  const v = await connectUser('victim')
  victim.token = v.token
  victim.flowId = v.flowId
  victim.connectionId = v.connection.id
  victim.refreshToken = h.latchkey.ctx.vault.open(
    { table: 'connections', id: v.connection.id, field: 'refresh_token' },
    v.connection.refresh_token_enc!,
  )
  const b = await connectUser('bystander')
  known.bystanderFlowId = b.flowId
  known.bystanderConnectionId = b.connection.id
  const declined = await client.auth.start('decliner', 'test-idp', { scopes: ['openid'] })
  await new TestBrowser().authorize(declined.url!, { login: 'decliner', decision: 'deny' })
  known.failedFlowId = declined.id!
  const pending = await client.auth.start('pending-user', 'test-idp', { scopes: ['openid'] })
  known.pendingFlowId = pending.id!
  const pendingRow = (await h.latchkey.store.getFlow(pending.id!))!
  known.pendingState = h.latchkey.ctx.vault.open({ table: 'flows', id: pendingRow.id, field: 'state' }, pendingRow.state_enc!)
  // A provider managed through the admin API, for PATCH fuzzing.
  const created = await fetch(`${h.baseURL}/v1/admin/auth_providers`, {
    method: 'POST',
    headers: { authorization: h.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(h.idp.entry('fuzz-admin')),
  })
  expect(created.status).toBe(201)
}, 60_000)

afterAll(async () => {
  await h?.close()
  await db?.drop()
})

// ------------------------------------------------------------------ requests and checks

interface FuzzRequest {
  method: string
  /** Path and query, already encoded (may contain junk escapes on purpose). */
  path: string
  body?: string | undefined
  contentType?: string | undefined
  /** `null`: no Authorization header; undefined: the admin key. */
  auth?: string | null | undefined
  cookie?: string | undefined
}

interface FuzzResponse {
  status: number
  contentType: string
  text: string
}

async function send(req: FuzzRequest): Promise<FuzzResponse> {
  const headers: Record<string, string> = {}
  const auth = req.auth === undefined ? h.apiKey : req.auth
  if (auth !== null) headers['authorization'] = auth
  if (req.contentType !== undefined) headers['content-type'] = req.contentType
  if (req.cookie !== undefined) headers['cookie'] = req.cookie
  // Generators are built before the server exists: real values are filled in here.
  const body = req.body?.replaceAll('@@PENDING_FLOW@@', known.pendingFlowId).replaceAll('@@PUBLIC_URL@@', h.baseURL)
  const r = await fetch(`${h.baseURL}${req.path}`, { method: req.method, headers, body: body ?? null, redirect: 'manual' })
  return { status: r.status, contentType: r.headers.get('content-type') ?? '', text: await r.text() }
}

const describeRequest = (req: FuzzRequest) => {
  const s = JSON.stringify({ ...req, auth: req.auth === undefined ? '<admin key>' : req.auth })
  return s.length > 600 ? `${s.slice(0, 600)}… (${s.length} chars)` : s
}

/** The properties every fuzzed response must have. */
function check(req: FuzzRequest, res: FuzzResponse): void {
  const what = `${describeRequest(req)} → ${res.status} ${res.text.slice(0, 300)}`
  expect(res.status, what).toBeLessThan(500)
  expect(res.status, what).toBeGreaterThanOrEqual(200)
  if (res.contentType.startsWith('application/json') && res.status >= 400 && req.method !== 'HEAD') {
    const body = JSON.parse(res.text) as Record<string, unknown>
    expect(typeof body['name'], what).toBe('string')
    expect(typeof body['message'], what).toBe('string')
  }
  if (req.path.startsWith('/v1/') && res.status !== 204 && req.method !== 'HEAD')
    expect(res.contentType, what).toMatch(/^application\/json/)
  for (const secret of [victim.token, victim.refreshToken, h.apiKey])
    expect(res.text.includes(secret), `a secret leaked: ${what}`).toBe(false)
}

async function expectStillServing(): Promise<void> {
  const r = await fetch(`${h.baseURL}/v1/health`)
  expect(r.status).toBe(200)
  expect(await r.json()).toEqual({ healthy: true })
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames)
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
}

const mentionsVictim = (req: FuzzRequest) => /victim/i.test(req.path) || /victim/i.test(req.body ?? '')

async function fuzz(arb: fc.Arbitrary<FuzzRequest>, runs = RUNS): Promise<void> {
  const statuses = new Map<string, number>()
  const details = await fc.check(
    fc.asyncProperty(
      arb.filter((r) => !mentionsVictim(r)),
      async (req) => {
        let res: FuzzResponse
        try {
          res = await send(req)
        } catch (err) {
          throw new Error(`${describeRequest(req)}: no answer (${String((err as Error).cause ?? err)})`)
        }
        check(req, res)
        const k = `${req.method} ${req.path.replace(/\?.*$/, '').slice(0, 40)} ${res.status}`
        statuses.set(k, (statuses.get(k) ?? 0) + 1)
      },
    ),
    { numRuns: runs, ...(process.env['FUZZ_SEED'] ? { seed: Number(process.env['FUZZ_SEED']) } : {}) },
  )
  // fast-check prints the whole counterexample, which can be 60 KB of one character: keep the report short.
  if (details.failed)
    throw new Error(
      `fuzz property failed (seed ${details.seed}, path ${details.counterexamplePath}): ${String(details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance).slice(0, 1500)}`,
    )
  // FUZZ_STATS=1 prints what the runs reached (method, path, status), to check the generators' coverage.
  if (process.env['FUZZ_STATS'])
    console.log(
      [...statuses]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([k, n]) => `${n}\t${k}`)
        .join('\n'),
    )
  await expectStillServing()
}

// ------------------------------------------------------------------ hostile strings

const SPECIAL = [
  '\u0000',
  '\u0001',
  '\b',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u00a0',
  '\u00ff',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u2060',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\u{1f600}',
  '\u{10ffff}',
  '\u0301',
  'ﷺ',
  'İ',
  'ß',
  '"',
  "'",
  '`',
  '\\',
  '/',
  '<',
  '>',
  '&',
  '%',
  '+',
  '=',
  '?',
  '#',
  ';',
  ',',
  ':',
  '@',
  ' ',
  '{{',
  '}}',
  '${',
  '$.',
  '[0]',
  '../',
  '%00',
  '<script>',
  '</textarea>',
  "' OR 1=1 --",
  'Set-Cookie: x=1',
  '\r\nSet-Cookie: x=1',
  'javascript:',
]
/** Mostly the usual, sometimes the hostile. */
const mostly = <T>(usual: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: usual }, { weight: 1, arbitrary: hostile })
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
const hostileChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }) },
)
const WORDS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'polluted',
  'test-idp',
  'fuzz-admin',
  'demo',
  'github',
  'oauth2',
  'openid',
  'offline_access',
  'admin',
  'runtime',
  'active',
  'revoked',
  'ac_',
  'cn_',
  'lk_',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e308',
  'true',
  '',
  ' ',
  'http://127.0.0.1:1/x',
  'https://evil.example/',
  'javascript:alert(1)',
  'data:text/html,<b>x</b>',
  '//evil.example',
  '\\\\evil.example',
  'file:///etc/passwd',
]
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('x', '\u202e', '\u0000', 'é', '\u{1f600}', '%'), fc.integer({ min: 200, max: 12_000 }))
      .map(([c, n]) => c.repeat(n)),
  },
)
const stringWithoutControls = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\u202e', '\u200b', '\ufeff', 'é', '\u{1f600}', '"', '<', '&'),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  ),
  minLength: 1,
  maxLength: 40,
})

// ------------------------------------------------------------------ JSON text of any shape

/** A JSON-ish syntax tree serialised by hand, so keys may repeat or be `__proto__` and numbers may be raw. */
type J = { t: 'raw'; v: string } | { t: 'str'; v: string } | { t: 'arr'; v: J[] } | { t: 'obj'; v: Array<[string, J]> }

function serialise(j: J): string {
  switch (j.t) {
    case 'raw':
      return j.v
    case 'str':
      return JSON.stringify(j.v)
    case 'arr':
      return `[${j.v.map(serialise).join(',')}]`
    case 'obj':
      return `{${j.v.map(([k, v]) => `${JSON.stringify(k)}:${serialise(v)}`).join(',')}}`
  }
}

const RAW_NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '1e308',
  '-1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '5e-324',
  '9007199254740993',
  '1.5',
  '1E2',
  '3650',
  '3651',
  '0.0',
  '1e2',
  '2147483648',
]
const rawPrimitive: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom(...RAW_NUMBERS, 'true', 'false', 'null').map((v) => ({ t: 'raw' as const, v })),
  fc.integer().map((n) => ({ t: 'raw' as const, v: String(n) })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ t: 'raw' as const, v: JSON.stringify(n) })),
  hostileString.map((v) => ({ t: 'str' as const, v })),
)
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'user_id',
  'auth_requirement',
  'provider_id',
  'provider_type',
  'id',
  'oauth2',
  'scopes',
  'next_uri',
  'flow_id',
  'name',
  'role',
  'expires_in_days',
  'client_id',
  'client_secret',
  'type',
  'enabled',
  'status',
  'description',
  'settings',
  'authorize_request',
  'token_request',
  'refresh_request',
  'user_info_request',
  'revoke_request',
  'endpoint',
  'params',
  'response_map',
  'auth_method',
  'pkce',
  'scope_delimiter',
  'triggers',
  'binding',
]
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: hostileString })

const { json: anyJson } = fc.letrec<{ json: J }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    rawPrimitive,
    fc.array(tie('json'), { maxLength: 5 }).map((v) => ({ t: 'arr' as const, v })),
    fc.array(fc.tuple(key, tie('json')), { maxLength: 6 }).map((v) => ({ t: 'obj' as const, v })),
  ),
}))

/** Deep nesting within the 64 KiB body limit (V8 parses it; our code must not recurse into a crash). */
const deep: fc.Arbitrary<J> = fc
  .tuple(fc.integer({ min: 100, max: 30_000 }), fc.constantFrom('arr', 'obj', 'mixed'), fc.constantFrom(...KEYS))
  .map(([wanted, kind, k]) => {
    // As deep as fits in ~60 KB (5000+ levels for arrays), so it reaches the parser and our code, not the 413.
    const unit = kind === 'arr' ? 2 : kind === 'obj' ? k.length + 4 : k.length + 6
    const n = Math.min(wanted, Math.floor(60_000 / unit))
    const open = kind === 'arr' ? '['.repeat(n) : kind === 'obj' ? `{"${k}":`.repeat(n) : `[{"${k}":`.repeat(n)
    const close = kind === 'arr' ? ']'.repeat(n) : kind === 'obj' ? '}'.repeat(n) : '}]'.repeat(n)
    return { t: 'raw' as const, v: `${open}1${close}` }
  })

const field = (name: string, value: fc.Arbitrary<J>) =>
  fc.option(
    fc.tuple(
      fc.constant(name),
      fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: deep }),
    ),
    { nil: undefined, freq: 5 },
  )
const obj = (...fields: Array<fc.Arbitrary<[string, J] | undefined>>) =>
  fc
    .tuple(fc.tuple(...fields), fc.array(fc.tuple(key, anyJson), { maxLength: 3 }))
    .map(([fs, extra]) => ({ t: 'obj' as const, v: [...fs.filter((f): f is [string, J] => f !== undefined), ...extra] }))
const str = (a: fc.Arbitrary<string>): fc.Arbitrary<J> => a.map((v) => ({ t: 'str' as const, v }))
const arr = (a: fc.Arbitrary<J>, maxLength = 5): fc.Arbitrary<J> => fc.array(a, { maxLength }).map((v) => ({ t: 'arr' as const, v }))
const providerRef = str(fc.oneof(fc.constantFrom('test-idp', 'fuzz-admin', 'demo', 'github', 'google'), hostileString))
const userId = str(fc.oneof(stringWithoutControls, hostileString))

/** Bodies shaped like each endpoint's, with any field replaced by anything. */
const authorizeJson = obj(
  field('user_id', userId),
  field(
    'auth_requirement',
    obj(
      field('provider_id', providerRef),
      field('id', providerRef),
      field('provider_type', str(fc.constantFrom('oauth2', 'api_key', ''))),
      field(
        'oauth2',
        obj(field('scopes', arr(str(fc.oneof(fc.constantFrom('openid', 'profile', 'offline_access', 'email'), hostileString))))),
      ),
    ),
  ),
  field(
    'next_uri',
    str(
      fc.oneof(
        fc.constantFrom('http://127.0.0.1/x', 'https://evil.example/', '//evil.example', 'javascript:alert(1)', 'http://[::1', ''),
        hostileString,
      ),
    ),
  ),
)
/** Authorize bodies that pass validation more often, so the broker itself (flows, scopes, next_uri) is reached. */
const plausibleAuthorize: fc.Arbitrary<J> = fc
  .record({
    user: stringWithoutControls,
    provider: fc.constantFrom('test-idp', 'fuzz-admin', 'test-idp', 'github', 'nope'),
    byId: fc.boolean(),
    scopes: fc.array(fc.oneof(fc.constantFrom('openid', 'profile', 'offline_access', 'email', 'demo.read'), stringWithoutControls), {
      maxLength: 6,
    }),
    next: fc.option(
      fc.constantFrom(
        '/relative',
        'http://127.0.0.1/done',
        'https://evil.example/x',
        'http://127.0.0.1:1/\u202e',
        'mailto:a@b',
        '@@PUBLIC_URL@@/done?x=\u202e',
        '@@PUBLIC_URL@@@evil.example/',
        '@@PUBLIC_URL@@/%0d%0aSet-Cookie:x=1',
      ),
      { nil: undefined, freq: 2 },
    ),
  })
  .map(({ user, provider, byId, scopes, next }) => ({
    t: 'obj' as const,
    v: [
      ['user_id', { t: 'str' as const, v: user }],
      [
        'auth_requirement',
        {
          t: 'obj' as const,
          v: [
            [byId ? 'id' : 'provider_id', { t: 'str' as const, v: provider }],
            ['oauth2', { t: 'obj' as const, v: [['scopes', { t: 'arr' as const, v: scopes.map((v) => ({ t: 'str' as const, v })) }]] }],
          ],
        },
      ],
      ...(next === undefined ? [] : [['next_uri', { t: 'str' as const, v: next }] as [string, J]]),
    ] as Array<[string, J]>,
  }))

const confirmJson = mostly(
  fc
    .record({
      flow: fc.constantFrom('@@PENDING_FLOW@@', 'ac_', `ac_${'0'.repeat(24)}`),
      user: mostly(fc.constantFrom('pending-user', 'someone'), stringWithoutControls),
    })
    .map(({ flow, user }) => ({
      t: 'obj' as const,
      v: [
        ['flow_id', { t: 'str' as const, v: flow }],
        ['user_id', { t: 'str' as const, v: user }],
      ] as Array<[string, J]>,
    })),
  obj(field('flow_id', str(fc.oneof(fc.constantFrom('ac_', 'ac_x', '@@PENDING_FLOW@@'), hostileString))), field('user_id', userId)),
)
const apiKeyJson = mostly(
  fc
    .record({
      name: stringWithoutControls,
      role: fc.constantFrom('admin', 'runtime'),
      days: fc.option(fc.integer({ min: -5, max: 4000 }), { nil: undefined }),
    })
    .map(({ name, role, days }) => ({
      t: 'obj' as const,
      v: [
        ['name', { t: 'str' as const, v: name }],
        ['role', { t: 'str' as const, v: role }],
        ...(days === undefined ? [] : [['expires_in_days', { t: 'raw' as const, v: String(days) }] as [string, J]]),
      ] as Array<[string, J]>,
    })),
  obj(
    field('name', str(hostileString)),
    field('role', str(fc.constantFrom('admin', 'runtime', 'root', ''))),
    field('expires_in_days', rawPrimitive),
  ),
)
const endpoint = str(
  fc.oneof(
    fc.constantFrom(
      'http://127.0.0.1:1/auth',
      'https://example.com/token',
      'http://evil.example/token',
      'ftp://x/',
      'https://user:pass@example.com/',
      'https://example.com/{{client_secret}}',
    ),
    hostileString,
  ),
)
const request = obj(
  field('endpoint', endpoint),
  field('auth_method', str(fc.constantFrom('client_secret_basic', 'client_secret_post', 'none', 'bearer_access_token', 'x'))),
  field('params', anyJson),
  field('response_map', anyJson),
)
const providerJson = obj(
  field(
    'id',
    str(
      fc.oneof(
        fc
          .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 20 })
          .map((s) => `fz-${s}`),
        hostileString,
      ),
    ),
  ),
  field('description', str(hostileString)),
  field('type', str(fc.constantFrom('oauth2', 'api_key', ''))),
  field('provider_id', str(fc.constantFrom('github', 'google', 'okta', 'nope'))),
  field('client_id', str(hostileString)),
  field('client_secret', str(hostileString)),
  field('enabled', rawPrimitive),
  field('status', str(fc.constantFrom('active', 'inactive', 'x'))),
  field('settings', anyJson),
  field(
    'oauth2',
    obj(
      field('scope_delimiter', str(fc.constantFrom(' ', ',', '', '\u0000'))),
      field('pkce', obj(field('enabled', rawPrimitive), field('code_challenge_method', str(fc.constantFrom('S256', 'plain', 'x'))))),
      field('authorize_request', request),
      field('token_request', request),
      field('refresh_request', request),
      field('user_info_request', request),
      field('revoke_request', request),
      field('client_secret', str(hostileString)),
    ),
  ),
)

/** Provider bodies close to a working one (the test IdP's), with hostile leaves: reaches compilation and storage. */
const template = str(
  mostly(
    fc.constantFrom(
      'code',
      '{{client_id}}',
      '{{redirect_uri}}',
      '{{scopes}} {{existing_scopes}}',
      '{{refresh_token}}',
      '{{client_secret}}',
      'consent',
    ),
    fc.oneof(fc.constantFrom('{{nope}}', '{{', '}}{{', '{{{{x}}}}'), hostileString),
  ),
)
const expression = str(
  mostly(
    fc.constantFrom(
      '$.access_token',
      '$.a.b[0]',
      "join($.scope, ' ')",
      "jwt_decode($.id_token, '$.sub')",
      "join(join(join($.a, ' '), ' '), ' ')",
    ),
    fc.oneof(fc.constantFrom('$', '$.', '$[', 'join(', '$..a', '$.a[-1]', '$.a[99999999999999999999]'), hostileString),
  ),
)
const loopback = str(
  mostly(
    fc.constantFrom(
      'http://127.0.0.1:1/auth',
      'http://127.0.0.1:1/token',
      'http://localhost:1/x',
      'https://example.com/token',
      'http://127.0.0.1:1/a?b=c#d',
    ),
    endpoint.map((j) => (j.t === 'str' ? j.v : '')),
  ),
)
const paramName = mostly(
  fc.constantFrom(
    'response_type',
    'client_id',
    'redirect_uri',
    'scope',
    'prompt',
    'audience',
    'grant_type',
    'refresh_token',
    'state',
    'code_verifier',
  ),
  key,
)
const mapName = mostly(fc.constantFrom('access_token', 'refresh_token', 'expires_in', 'scope', 'email', 'id', 'token_type'), key)
const plausibleRequest = fc
  .record({
    endpoint: loopback,
    params: fc.array(fc.tuple(paramName, template), { maxLength: 4 }),
    map: fc.array(fc.tuple(mapName, expression), { maxLength: 3 }),
  })
  .map(({ endpoint: e, params, map }) => ({
    t: 'obj' as const,
    v: [
      ['endpoint', e],
      ['params', { t: 'obj' as const, v: params }],
      ['response_map', { t: 'obj' as const, v: map }],
    ] as Array<[string, J]>,
  }))
const plausibleProvider: fc.Arbitrary<J> = fc
  .record({
    id: fc
      .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 20 })
      .map((s) => `fz-${s}`),
    description: mostly(stringWithoutControls, hostileString),
    clientId: mostly(stringWithoutControls, hostileString),
    secret: fc.option(mostly(stringWithoutControls, hostileString), { nil: undefined }),
    delimiter: mostly(fc.constantFrom(' ', ','), fc.constantFrom('+', '', '\u0000', '\u202e')),
    requests: fc.tuple(
      plausibleRequest,
      plausibleRequest,
      fc.option(plausibleRequest, { nil: undefined }),
      fc.option(plausibleRequest, { nil: undefined }),
    ),
  })
  .map(({ id, description, clientId, secret, delimiter, requests: [authz, token, refresh, userInfo] }) => ({
    t: 'obj' as const,
    v: [
      ['id', { t: 'str' as const, v: id }],
      ['description', { t: 'str' as const, v: description }],
      ['type', { t: 'str' as const, v: 'oauth2' }],
      ['client_id', { t: 'str' as const, v: clientId }],
      ...(secret === undefined ? [] : [['client_secret', { t: 'str' as const, v: secret }] as [string, J]]),
      [
        'oauth2',
        {
          t: 'obj' as const,
          v: [
            ['scope_delimiter', { t: 'str' as const, v: delimiter }],
            ['authorize_request', authz],
            ['token_request', token],
            ...(refresh ? [['refresh_request', refresh] as [string, J]] : []),
            ...(userInfo ? [['user_info_request', userInfo] as [string, J]] : []),
          ] as Array<[string, J]>,
        },
      ],
    ] as Array<[string, J]>,
  }))

/** Any body: shaped, random, deep, or not JSON at all. */
const bodyText = (shaped: fc.Arbitrary<J>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: shaped.map(serialise) },
    { weight: 2, arbitrary: anyJson.map(serialise) },
    { weight: 1, arbitrary: deep.map(serialise) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'NaN',
        '{"user_id": NaN}',
        '{"a":1,"a":2}',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '',
        ' ',
        '\u0000',
        '{',
        '[]',
        '"x"',
        '{"user_id":"a"} trailing',
        '\ufeff{}',
        '{"x":"\\ud800"}',
        '{"x":"\\u0000"}',
        '[1,]',
        "{'a':1}",
        '1e309',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  )

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset=utf-16',
      'application/json; charset=latin1',
      'application/json; x="\\"',
      'application/jsonx',
      'application/vnd.api+json',
      'application/json, text/plain',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      '',
      ';',
      'application/json; charset=',
      'application/json; boundary=--;--',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

// ------------------------------------------------------------------ URLs

/** Percent-encodes UTF-8 (lone surrogates become U+FFFD, as any client would send them). */
const pct = (s: string) =>
  [...new TextEncoder().encode(s)]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('')
const JUNK_ESCAPES = [
  '%',
  '%%',
  '%zz',
  '%0',
  '%00',
  '%ff%fe',
  '%C0%AF',
  '%ED%A0%80',
  '%E2%80%AE',
  '%0D%0A',
  '+',
  '%2B',
  '&',
  '=',
  '==',
  '[',
  ']',
  '%5B%5D',
  '..',
  '%2E%2E',
  '%2F',
  ';',
  '~',
]
const urlPart = fc.oneof(
  { weight: 4, arbitrary: hostileString.map(pct) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...JUNK_ESCAPES), { minLength: 1, maxLength: 4 }).map((a) => a.join('')) },
)

const queryString = (names: string[], values: fc.Arbitrary<string> = urlPart): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: urlPart }),
        fc.option(values, { nil: undefined }),
      ),
      { maxLength: 8 },
    )
    .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&'))

const WAITS = ['0', '-0', '-1', '1e308', 'NaN', 'Infinity', '0x1', '', '0.5', '59', '999999999999999999999', '1e-7', ' 0']

const auth = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(null),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer  lk_', 'Basic Zm9vOmJhcg==', `lk_${'a'.repeat(12)}_${'b'.repeat(43)}`),
      fc
        .string({
          unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)),
          minLength: 1,
          maxLength: 80,
        })
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  },
)

const requestTo = (method: string, path: fc.Arbitrary<string>, body?: fc.Arbitrary<J>): fc.Arbitrary<FuzzRequest> =>
  body
    ? fc.record({ method: fc.constant(method), path, body: bodyText(body), contentType, auth })
    : fc.record({ method: fc.constant(method), path, auth })

// ------------------------------------------------------------------ the properties

describe('HTTP fuzzing (real server)', () => {
  it('POST /v1/auth/authorize', { timeout: TIMEOUT }, async () => {
    await fuzz(requestTo('POST', fc.constant('/v1/auth/authorize'), fc.oneof(authorizeJson, plausibleAuthorize)))
  })

  it('GET /v1/auth/status', { timeout: TIMEOUT }, async () => {
    // Real ids mixed in: a completed flow of another user (answers with that user's token), a failed one.
    const id = fc.oneof(
      urlPart,
      fc.constantFrom(
        known.bystanderFlowId,
        known.bystanderConnectionId,
        known.failedFlowId,
        'ac_',
        'cn_',
        `ac_${'0'.repeat(24)}`,
        `cn_${'0'.repeat(24)}`,
      ),
    )
    const wait = fc.oneof(fc.constantFrom(...WAITS), urlPart)
    // Usually one id and maybe a wait; sometimes repeated or junk parameters too.
    const qs = fc
      .tuple(
        fc.option(id, { nil: undefined, freq: 8 }),
        fc.option(wait, { nil: undefined, freq: 2 }),
        fc.array(
          fc.oneof(
            id.map((v) => `id=${v}`),
            wait.map((v) => `wait=${v}`),
            urlPart,
          ),
          { maxLength: 3 },
        ),
        fc.nat(3),
      )
      .map(([i, w, extra, at]) => {
        const parts = [...(i === undefined ? [] : [`id=${i}`]), ...(w === undefined ? [] : [`wait=${w}`])]
        if (at === 0) parts.push(...extra)
        return parts.join('&')
      })
    await fuzz(
      requestTo(
        'GET',
        qs.map((q) => `/v1/auth/status?${q}`),
      ),
    )
  })

  it('POST /v1/auth/confirm_user', { timeout: TIMEOUT }, async () => {
    await fuzz(requestTo('POST', fc.constant('/v1/auth/confirm_user'), confirmJson))
  })

  it('admin: user_connections, api_keys, audit', { timeout: TIMEOUT }, async () => {
    const id = fc.oneof(urlPart, fc.constantFrom(known.bystanderConnectionId, 'cn_', 'x'.repeat(201)))
    const arb = fc.oneof(
      requestTo(
        'GET',
        queryString([
          'limit',
          'offset',
          'user_id',
          'provider_id',
          'user[id]',
          'provider[id]',
          'status',
          'user',
          'user[',
          'user[id][x]',
        ]).map((q) => `/v1/admin/user_connections?${q}`),
      ),
      // The victim's connection through the admin view: metadata only, never the token.
      requestTo(
        'GET',
        fc.oneof(id, fc.constant(victim.connectionId)).map((i) => `/v1/admin/user_connections/${i}`),
      ),
      requestTo(
        'DELETE',
        id.map((i) => `/v1/admin/user_connections/${i}`),
      ),
      requestTo(
        'GET',
        queryString(
          ['limit', 'offset', 'user_id', 'provider_id', 'connection_id', 'action', 'actor', 'since'],
          fc.oneof(urlPart, fc.constantFrom('2024-01-01T00:00:00Z', '2024-13-45T99:99:99Z', '1e308', '-1')),
        ).map((q) => `/v1/admin/audit?${q}`),
      ),
      requestTo('GET', fc.constant('/v1/admin/api_keys')),
      requestTo('POST', fc.constant('/v1/admin/api_keys'), apiKeyJson),
      requestTo(
        'DELETE',
        urlPart.map((i) => `/v1/admin/api_keys/${i}`),
      ),
      requestTo(
        'GET',
        queryString(['x']).map((q) => `/v1/providers?${q}`),
      ),
    )
    await fuzz(arb)
  })

  it('admin: auth_providers create, patch, get, delete', { timeout: TIMEOUT }, async () => {
    const providerId = fc.oneof(urlPart, fc.constantFrom('test-idp', 'fuzz-admin', 'demo', 'x'.repeat(201)))
    const arb = fc.oneof(
      { weight: 4, arbitrary: requestTo('POST', fc.constant('/v1/admin/auth_providers'), mostly(plausibleProvider, providerJson)) },
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom('fuzz-admin', 'test-idp'), requestTo('PATCH', fc.constant(''), mostly(plausibleProvider, providerJson)))
          .map(([pid, r]) => ({ ...r, path: `/v1/admin/auth_providers/${pid}` })),
      },
      {
        weight: 1,
        arbitrary: requestTo(
          'PATCH',
          providerId.map((i) => `/v1/admin/auth_providers/${i}`),
          providerJson,
        ),
      },
      {
        weight: 1,
        arbitrary: requestTo(
          'GET',
          providerId.map((i) => `/v1/admin/auth_providers/${i}`),
        ),
      },
      {
        weight: 1,
        arbitrary: requestTo(
          'DELETE',
          urlPart.map((i) => `/v1/admin/auth_providers/${i}`),
        ),
      },
      { weight: 1, arbitrary: requestTo('GET', fc.constant('/v1/admin/auth_providers')) },
    )
    await fuzz(arb)
    // The victim's provider is untouched by it all.
    const r = await send({
      method: 'POST',
      path: '/v1/auth/authorize',
      contentType: 'application/json',
      body: JSON.stringify({ user_id: 'after-fuzz', auth_requirement: { provider_id: 'test-idp' } }),
    })
    expect(r.status).toBe(200)
  })

  it('GET /oauth/callback', { timeout: TIMEOUT }, async () => {
    const state = fc.oneof(
      urlPart,
      fc.constant(known.pendingState),
      fc.constant(pct(known.pendingState)),
      fc.constant(`${known.pendingState}x`),
    )
    const qs = fc
      .array(
        fc.oneof(
          state.map((s) => `state=${s}`),
          fc.oneof(urlPart, fc.constantFrom('access_denied', 'invalid_request', 'server_error')).map((e) => `error=${e}`),
          urlPart.map((v) => `code=${v}`),
          urlPart.map((v) => `error_description=${v}`),
          fc.oneof(urlPart, fc.constant(pct(h.idp.issuer))).map((v) => `iss=${v}`),
          urlPart,
        ),
        { maxLength: 6 },
      )
      .map((p) => p.join('&'))
    const cookie = fc.option(
      fc.oneof(
        fc.constant(`lk_${known.pendingFlowId}=${'A'.repeat(43)}`),
        fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
      ),
      { nil: undefined },
    )
    const arb = fc.record({
      method: fc.constantFrom('GET', 'HEAD'),
      path: qs.map((q) => `/oauth/callback?${q}`),
      auth: fc.constant(null),
      cookie,
    })
    await fuzz(arb)
    // The pending flow was never consumed by a fuzzed callback.
    const flow = (await h.latchkey.store.getFlow(known.pendingFlowId))!
    expect(flow.status).toBe('pending')
    expect(flow.callback_at).toBeNull()
  })

  it('GET and POST /oauth/authorize/:id', { timeout: TIMEOUT }, async () => {
    const id = fc.oneof(
      { weight: 5, arbitrary: urlPart },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          known.pendingFlowId,
          known.bystanderFlowId,
          known.failedFlowId,
          victim.flowId,
          'x'.repeat(64),
          'x'.repeat(65),
          'x'.repeat(201),
          '',
          '.',
          '..',
          '%2e%2e%2fv1%2fhealth',
        ),
      },
    )
    const arb = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST'),
      path: fc
        .tuple(id, fc.option(queryString(['id', 'state']), { nil: undefined }))
        .map(([i, q]) => `/oauth/authorize/${i}${q === undefined ? '' : `?${q}`}`),
      auth: fc.constant(null),
    })
    await fuzz(arb)
  })

  it('any method on any route', { timeout: TIMEOUT }, async () => {
    const paths = fc.oneof(
      fc.constantFrom(
        '/v1/auth/authorize',
        '/v1/auth/status',
        '/v1/auth/confirm_user',
        '/v1/health',
        '/v1/providers',
        '/v1/admin/audit',
        '/v1/admin/api_keys',
        '/v1/admin/auth_providers',
        '/oauth/callback',
        '/metrics',
        '/',
        '//',
        '/v1//health',
        '/V1/HEALTH',
        '/v1/health/',
        '/v1/health?',
        '/v1/health#x',
      ),
      fc.array(urlPart, { minLength: 1, maxLength: 4 }).map((segs) => `/${segs.join('/')}`),
    )
    const arb = fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'M-SEARCH'),
        path: paths,
        body: fc.option(bodyText(anyJson), { nil: undefined }),
        contentType,
        auth,
      })
      .map((r) => (r.method === 'GET' || r.method === 'HEAD' ? { ...r, body: undefined } : r))
    await fuzz(arb)
  })
})

// ------------------------------------------------------------------ raw HTTP over sockets

interface RawAnswer {
  /** Status code of the first response, or undefined when the server closed without one. */
  status: number | undefined
  raw: string
}

/**
 * Sends raw bytes and reads until the server closes (or 5 s). The client half-closes only once the
 * server has gone quiet (no answer within `quietMs` unless the request says `Connection: close`, or
 * 200 ms after its last bytes): Node's server drops a request whose client half-closed before
 * the answer was written.
 */
function rawRequest(bytes: string | Buffer, quietMs = 1000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    const endWhenQuiet = (ms: number) => {
      clearTimeout(quiet)
      quiet = setTimeout(() => socket.end(), ms)
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer and no close within 5 s for ${JSON.stringify(String(bytes).slice(0, 200))}`))
    }, 5000)
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      endWhenQuiet(200)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      clearTimeout(quiet)
      const raw = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw)
      resolve({ status: m ? Number(m[1]) : undefined, raw })
    })
    socket.on('connect', () => {
      socket.write(bytes)
      // A complete request asking to close gets its answer however slow the server is.
      if (!String(bytes).includes('\r\nConnection: close\r\n')) endWhenQuiet(quietMs)
    })
  })
}

describe('raw HTTP (header injection, malformed requests)', () => {
  const health = (extra = '') => `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`
  const badOrClosed = (a: RawAnswer, what: string) => {
    if (a.status !== undefined) {
      expect(a.status, `${what}: ${a.raw.slice(0, 200)}`).toBeGreaterThanOrEqual(400)
      expect(a.status, `${what}: ${a.raw.slice(0, 200)}`).toBeLessThan(500)
    }
  }

  it('answers a well-formed raw request (the reader works)', async () => {
    const a = await rawRequest(health())
    expect(a.status).toBe(200)
    expect(a.raw).toContain('{"healthy":true}')
  })

  it('refuses malformed request lines and header injection with 4xx or a closed socket', { timeout: TIMEOUT }, async () => {
    const cases: Array<[string, string]> = [
      ['garbage', 'GARBAGE\r\n\r\n'],
      ['bad version', 'GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['space in path', 'GET /v1/ health HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['NUL in path', 'GET /v1/\u0000health HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['CR in header value', health('X-Injected: a\rSet-Cookie: x=1\r\n')],
      ['bare LF in header value', health('X-Injected: a\nSet-Cookie: x=1\r\n')],
      ['NUL in header value', health('X-Injected: a\u0000b\r\n')],
      [
        'CR in Authorization',
        `GET /v1/providers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.apiKey}\rX: y\r\nConnection: close\r\n\r\n`,
      ],
      ['space before colon', health('X-Injected : a\r\n')],
      ['header without colon', health('NoColonHere\r\n')],
      ['obsolete line folding', health('X-Folded: a\r\n  b\r\n')],
      [
        'two content-lengths',
        'POST /v1/auth/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      ],
      [
        'content-length and chunked',
        'POST /v1/auth/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      [
        'bad chunk size',
        'POST /v1/auth/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      ],
      [
        'negative content-length',
        'POST /v1/auth/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
      ],
      ['header over 16 KiB', health(`X-Big: ${'a'.repeat(20_000)}\r\n`)],
      ['URL over 16 KiB', `GET /v1/auth/status?id=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
      [
        'body shorter than content-length',
        `POST /v1/auth/authorize HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user_id":`,
      ],
    ]
    for (const [what, bytes] of cases) {
      const a = await rawRequest(bytes)
      badOrClosed(a, what)
      // Nothing injected made it into a response header.
      expect(a.raw.toLowerCase()).not.toContain('set-cookie: x=1')
      if (a.status !== undefined) {
        // Even errors the HTTP parser raises before any route carry Arcade's `{ name, message }`.
        const body = JSON.parse(a.raw.slice(a.raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
        expect(typeof body['name'], what).toBe('string')
        expect(typeof body['message'], what).toBe('string')
        expect(a.status, what).toBe(what.includes('16 KiB') ? 431 : 400)
      }
    }
    // Node accepts a request line without a version (HTTP/0.9 style): served, not an error.
    expect((await rawRequest('GET /v1/health\r\nHost: x\r\n\r\n')).status).toBeLessThan(500)
    expect((await rawRequest(health())).status).toBe(200)
  })

  it('never admits an Authorization header past the limit of 100 headers', async () => {
    const filler = Array.from({ length: 149 }, (_, i) => `X-Filler-${i}: ${i}\r\n`).join('')
    const late = await rawRequest(
      `GET /v1/providers HTTP/1.1\r\nHost: x\r\n${filler}Authorization: ${h.apiKey}\r\nConnection: close\r\n\r\n`,
    )
    // Node 20 keeps the first 100 headers and drops the rest (the key is not seen: 401); Node 22+
    // refuses the whole request with 431. Either way the late key must not admit the request.
    expect([401, 431], late.raw.slice(0, 300)).toContain(late.status)
    if (late.status === 401) expect(late.raw).toContain('"name":"UNAUTHENTICATED"')
    const early = await rawRequest(`GET /v1/providers HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.apiKey}\r\nConnection: close\r\n\r\n`)
    expect(early.status).toBe(200)
    const many = await rawRequest(health(Array.from({ length: 200 }, (_, i) => `X-Filler-${i}: ${i}\r\n`).join('')))
    expect([200, 431], many.raw.slice(0, 300)).toContain(many.status)
    expect((await rawRequest(health())).status).toBe(200)
  })

  it('survives random bytes as requests', { timeout: TIMEOUT }, async () => {
    const junk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .tuple(
          fc.constantFrom('GET', 'POST', 'PUT', 'X', ''),
          fc.string({ unit: hostileChar, maxLength: 60 }),
          fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'http/1.1', ''),
          fc.array(fc.tuple(fc.string({ unit: hostileChar, maxLength: 20 }), fc.string({ unit: hostileChar, maxLength: 40 })), {
            maxLength: 5,
          }),
        )
        .map(([m, p, v, hs]) => `${m} /${p} ${v}\r\nHost: x\r\n${hs.map(([k, val]) => `${k}: ${val}\r\n`).join('')}\r\n`),
    )
    await fc.assert(
      fc.asyncProperty(junk, async (bytes) => {
        const a = await rawRequest(Buffer.from(bytes, 'utf8'), 150)
        expect(a.status === undefined || a.status < 500, `${JSON.stringify(bytes.slice(0, 200))} → ${a.raw.slice(0, 200)}`).toBe(true)
        expect(a.raw.includes(victim.token)).toBe(false)
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 2)) },
    )
    await expectStillServing()
  })
})

// ------------------------------------------------------------------ regressions found by fuzzing

const NUL_REQUESTS: Array<[string, string, string?]> = [
  ['GET', '/v1/admin/user_connections?user_id=%00'],
  ['GET', '/v1/admin/user_connections?provider_id=a%00b'],
  ['GET', '/v1/admin/audit?user_id=%00&action=%00'],
  ['GET', '/v1/admin/user_connections/%00'],
  ['DELETE', '/v1/admin/user_connections/cn_%00'],
  ['DELETE', '/v1/admin/api_keys/%00'],
  ['GET', '/oauth/callback?state=a%00b&code=x'],
  ['POST', '/v1/admin/api_keys', '{"name":"a\\u0000b"}'],
]

async function expectNulRefused(base: Harness) {
  for (const [method, path, body] of NUL_REQUESTS) {
    const r = await fetch(`${base.baseURL}${path}`, {
      method,
      headers: { authorization: base.apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ?? null,
    })
    expect(r.status, `${method} ${path}`).toBe(400)
    expect(await r.json()).toMatchObject({ name: 'BAD_REQUEST' })
  }
}

describe('regressions found by fuzzing', () => {
  it('refuses provider bodies nested deeper than a provider can be (they overflowed the stack: 500)', async () => {
    const deepArray = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const entry = JSON.stringify(h.idp.entry('fz-deep'))
    const created = await send({
      method: 'POST',
      path: '/v1/admin/auth_providers',
      contentType: 'application/json',
      body: `${entry.slice(0, -1)},"junk":${deepArray}}`,
    })
    expect(created.status).toBe(400)
    expect(JSON.parse(created.text)).toMatchObject({ name: 'BAD_REQUEST' })
    // A provider of its own (the fuzzing may have deleted or changed `fuzz-admin`).
    expect(
      (
        await send({
          method: 'POST',
          path: '/v1/admin/auth_providers',
          contentType: 'application/json',
          body: JSON.stringify(h.idp.entry('fz-regress')),
        })
      ).status,
    ).toBe(201)
    const deepObject = (n: number) => `${'{"user_id":'.repeat(n)}1${'}'.repeat(n)}`
    for (const n of [4000, 4000, 4600]) {
      const patched = await send({
        method: 'PATCH',
        path: '/v1/admin/auth_providers/fz-regress',
        contentType: 'application/json',
        body: deepObject(n),
      })
      expect(patched.status).toBe(400)
    }
    // A normal depth still works.
    expect(
      (
        await send({
          method: 'PATCH',
          path: '/v1/admin/auth_providers/fz-regress',
          contentType: 'application/json',
          body: '{"description":"still fine","oauth2":{"token_request":{"params":{"audience":"x"}}}}',
        })
      ).status,
    ).toBe(200)
  })

  it('refuses user ids with unpaired surrogates (stored as U+FFFD, distinct ids would be one user)', async () => {
    for (const user of ['x\ud800', 'x\udc00', '\udfffx', 'a\ud800\ud800']) {
      const r = await send({
        method: 'POST',
        path: '/v1/auth/authorize',
        contentType: 'application/json',
        body: JSON.stringify({ user_id: user, auth_requirement: { provider_id: 'test-idp' } }),
      })
      expect(r.status, JSON.stringify(user)).toBe(400)
      expect(r.text).toContain('unpaired surrogates')
    }
    const paired = await send({
      method: 'POST',
      path: '/v1/auth/authorize',
      contentType: 'application/json',
      body: JSON.stringify({ user_id: 'x\u{1f600}', auth_requirement: { provider_id: 'test-idp' } }),
    })
    expect(paired.status).toBe(200)
  })

  it('refuses NUL in URLs and key names with 400 (PostgreSQL cannot compare text with NUL: it was a 500)', async () => {
    await expectNulRefused(h)
  })
})

describePostgres('NUL characters on PostgreSQL', () => {
  let pg: Harness
  let pgDb: { url: string; drop(): Promise<void> }
  beforeAll(async () => {
    pgDb = await createTestDatabase()
    pg = await startHarness({ databaseUrl: pgDb.url })
  })
  afterAll(async () => {
    await pg?.close()
    await pgDb?.drop()
  })

  it('answers 400, not 500, to NUL in ids, filters, state and key names', async () => {
    await expectNulRefused(pg)
    expect((await fetch(`${pg.baseURL}/v1/health`)).status).toBe(200)
  })
})
