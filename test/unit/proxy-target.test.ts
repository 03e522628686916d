/**
 * The proxy's pure parts (broker/proxy-target.ts): the upstream URL stays under a declared base,
 * which headers cross each way, and the path template the audit trail keeps.
 */
import { describe, expect, it } from 'vitest'
import { connectionApiBase, downstreamHeaders, pathTemplate, upstreamHeaders, upstreamUrl } from '../../src/broker/proxy-target.js'
import { LatchkeyError } from '../../src/errors.js'
import { catalog } from '../../src/providers/catalog.js'
import { compileProviderEntry } from '../../src/providers/provider-config.js'

const BASES = ['https://api.example.com/v1', 'https://uploads.example.com']

describe('upstreamUrl', () => {
  it('joins the path and query under the first base, or the one named', () => {
    expect(upstreamUrl(BASES, undefined, 'users/me?fields=a,b').href).toBe('https://api.example.com/v1/users/me?fields=a,b')
    expect(upstreamUrl(BASES, 'https://uploads.example.com/', 'files').href).toBe('https://uploads.example.com/files')
    expect(upstreamUrl(BASES, undefined, '').href).toBe('https://api.example.com/v1')
    expect(upstreamUrl(BASES, undefined, 'a/b/').href).toBe('https://api.example.com/v1/a/b/')
    // Encoded characters other than slashes stay encoded; an '@' is a path character.
    expect(upstreamUrl(BASES, undefined, 'users/me%40x.com/a%20b').pathname).toBe('/v1/users/me%40x.com/a%20b')
    expect(upstreamUrl(BASES, undefined, '@evil.example').host).toBe('api.example.com')
  })

  it.each([
    '..',
    '../v2/x',
    'a/../../x',
    '%2e%2e/x',
    '%2E%2e/x',
    '.%2e/x',
    'a/./b',
    '%2e/b',
    'a%2Fb',
    'a%2fb',
    'a%5Cb',
    'a\\b',
    'a//b',
    '/etc/passwd',
    'a%00b',
    'a%0d%0aHost:%20evil',
    'a#frag',
    'a%zzb',
  ])('refuses %s', (path) => {
    expect(() => upstreamUrl(BASES, undefined, path)).toThrow(LatchkeyError)
  })

  it('refuses a base that is not declared, exactly', () => {
    expect(() => upstreamUrl(BASES, 'https://api.example.com', 'x')).toThrow(/Latchkey-Api-Base/)
    expect(() => upstreamUrl(BASES, 'https://evil.example', 'x')).toThrow(/Latchkey-Api-Base/)
  })
})

describe('headers', () => {
  it('upstream: drops the Latchkey key, cookies, Latchkey-*, forwarding and hop-by-hop headers; the credential wins', () => {
    const out = upstreamHeaders(
      {
        authorization: 'lk_secret',
        cookie: 'a=1',
        host: 'latchkey.example',
        'latchkey-user-id': 'alice',
        'x-forwarded-for': '10.0.0.1',
        forwarded: 'for=10.0.0.1',
        connection: 'keep-alive, x-private',
        'x-private': 'hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        te: 'trailers',
        expect: '100-continue',
        'proxy-authorization': 'Basic x',
        accept: 'application/json',
        'content-type': 'text/plain',
        'content-length': '5',
        Authorization: 'also-dropped',
      },
      { authorization: 'Bearer tok' },
    )
    expect(out).toEqual({ accept: 'application/json', 'content-type': 'text/plain', 'content-length': '5', authorization: 'Bearer tok' })
  })

  it('downstream: drops cookies, hop-by-hop headers and any header carrying the token', () => {
    const out = downstreamHeaders(
      {
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
        connection: 'close, x-hop',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        'x-echo': 'Bearer tok-123',
        link: '<https://api.example.com/next?access_token=tok-123>; rel="next"',
        etag: '"abc"',
      },
      ['tok-123'],
    )
    expect(out).toEqual({ 'content-type': 'application/json', etag: '"abc"' })
  })
})

describe('pathTemplate', () => {
  it('keeps words and versions, replaces ids and personal values, keeps only query names', () => {
    const t = (u: string) => pathTemplate(new URL(u))
    expect(t('https://gmail.googleapis.com/gmail/v1/users/me@x.com/messages/18c2f?q=secret&pageToken=abc')).toBe(
      '/gmail/v1/users/*/messages/*?q&pageToken',
    )
    expect(t('https://api.github.com/repos/octo/hello-world/issues/42')).toBe('/repos/octo/hello-world/issues/*')
    expect(t('https://slack.com/api/chat.postMessage')).toBe('/api/chat.postMessage')
    expect(t('https://api.box.com/2.0/files/123')).toBe('/2.0/files/*')
    expect(t('https://www.googleapis.com/drive/v3/files/abc%2Fdef')).toBe('/drive/v3/files/*')
    expect(t('https://x.example/a?tok%3Den=1')).toBe('/a?*')
  })
})

describe('api_base_urls in a provider entry', () => {
  const ctx = { catalog, allowInsecureLoopback: false, source: 'config' as const, where: 'test' }
  const custom = {
    id: 'acme',
    client_id: 'c',
    client_secret: 's',
    oauth2: { authorize_request: { endpoint: 'https://acme.example/auth' }, token_request: { endpoint: 'https://acme.example/token' } },
  }

  it('is kept for a custom provider, without a trailing slash', () => {
    const p = compileProviderEntry({ ...custom, api_base_urls: ['https://api.acme.example/v2/'] }, ctx)
    expect(p.def.apiBaseUrls).toEqual(['https://api.acme.example/v2'])
  })

  it('is refused on a built-in entry, and when unsafe', () => {
    expect(() =>
      compileProviderEntry(
        { id: 'github', provider_id: 'github', client_id: 'c', client_secret: 's', api_base_urls: ['https://x.example'] },
        ctx,
      ),
    ).toThrow(/api_base_urls.*cannot take api_base_urls/)
    // The error names the field that was given, not its neighbour.
    expect(() =>
      compileProviderEntry(
        {
          id: 'salesforce',
          provider_id: 'salesforce',
          client_id: 'c',
          client_secret: 's',
          connection_api_base: { user_info: 'instance_url', hosts: ['*.example'] },
        } as never,
        ctx,
      ),
    ).toThrow(/connection_api_base.*cannot take connection_api_base/)
    expect(() => compileProviderEntry({ ...custom, api_base_urls: ['https://api.acme.example/a/../b'] }, ctx)).toThrow(/api_base_urls\[0\]/)
    expect(() => compileProviderEntry({ ...custom, api_base_urls: ['https://user:pw@api.acme.example'] }, ctx)).toThrow(
      /api_base_urls\[0\]/,
    )
    expect(() => compileProviderEntry({ ...custom, api_base_urls: ['https://api.acme.example/#x'] }, ctx)).toThrow(/api_base_urls\[0\]/)
  })
})

describe('connectionApiBase', () => {
  const sf = catalog['salesforce']!.connectionApiBase!
  const mc = catalog['mailchimp']!.connectionApiBase!
  const code = (f: () => unknown) => {
    try {
      f()
    } catch (err) {
      return (err as LatchkeyError).code
    }
    return 'none'
  }

  it("takes the connection's origin when the provider's host patterns allow it", () => {
    expect(connectionApiBase(sf, { instance_url: 'https://acme.my.salesforce.com' }, false)).toBe('https://acme.my.salesforce.com')
    expect(connectionApiBase(sf, { instance_url: 'https://acme--dev.sandbox.my.salesforce.com/' }, false)).toBe(
      'https://acme--dev.sandbox.my.salesforce.com',
    )
    expect(connectionApiBase(mc, { api_endpoint: 'https://us19.api.mailchimp.com' }, false)).toBe('https://us19.api.mailchimp.com/3.0')
  })

  it('refuses a missing value, another host, http, credentials, a path or a query', () => {
    for (const info of [
      null,
      {},
      { instance_url: 42 },
      { instance_url: 'not a url' },
      { instance_url: 'https://evil.example' },
      { instance_url: 'https://my.salesforce.com' },
      { instance_url: 'https://acme.my.salesforce.com.evil.example' },
      { instance_url: 'https://evilmy.salesforce.com' },
      { instance_url: 'http://acme.my.salesforce.com' },
      { instance_url: 'https://user:pw@acme.my.salesforce.com' },
      { instance_url: 'https://acme.my.salesforce.com/services' },
      { instance_url: 'https://acme.my.salesforce.com?x=1' },
    ]) {
      expect(
        code(() => connectionApiBase(sf, info, false)),
        JSON.stringify(info),
      ).toBe('UPSTREAM_REFUSED')
    }
    expect(code(() => connectionApiBase({ userInfo: 'u', hosts: ['127.0.0.1'] }, { u: 'http://127.0.0.1:9' }, false))).toBe(
      'UPSTREAM_REFUSED',
    )
    expect(connectionApiBase({ userInfo: 'u', hosts: ['127.0.0.1'] }, { u: 'http://127.0.0.1:9' }, true)).toBe('http://127.0.0.1:9')
    // Any 127.0.0.0/8 address is loopback, as everywhere else the project decides it (isLoopbackUrl).
    expect(connectionApiBase({ userInfo: 'u', hosts: ['127.0.0.2'] }, { u: 'http://127.0.0.2:9' }, true)).toBe('http://127.0.0.2:9')
  })
})
