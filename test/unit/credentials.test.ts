/**
 * The non-OAuth catalog (every entry compiles, is https, and says where its docs are), how each
 * kind presents its credential, and which connection an account hint names.
 */
import { describe, expect, it } from 'vitest'
import { matchAccount } from '../../src/broker/select-connection.js'
import { credentialHeaderValues, identityOf } from '../../src/oauth/credential.js'
import { credentialCatalog } from '../../src/providers/credentials/catalog.js'
import { compileCredentialEntry } from '../../src/providers/credentials/compile.js'
import type { ConnectionRow } from '../../src/storage/store.js'

const ctx = { allowInsecureLoopback: false, where: 'test' }

describe('credential catalog', () => {
  it.each(Object.keys(credentialCatalog))('%s compiles, uses https and cites its docs', (id) => {
    const p = compileCredentialEntry({ id, service: id }, ctx)
    const c = p.def.credential!
    expect(c.format).toContain('{{secret}}')
    expect(c.validation!.url).toMatch(/^https:\/\//)
    expect([p.def.docsUrl].flat().length).toBeGreaterThan(0)
    for (const u of [p.def.docsUrl].flat()) expect(u).toMatch(/^https:\/\//)
    expect(p.refreshEnabled).toBe(false)
  })

  it('refuses an unknown service, a custom entry without kind, http outside loopback, and a format without the secret', () => {
    expect(() => compileCredentialEntry({ id: 'x', service: 'nope' }, ctx)).toThrow(/unknown credential service/)
    expect(() => compileCredentialEntry({ id: 'x', validation_url: 'https://a.example/v1' }, ctx)).toThrow(/kind/)
    expect(() => compileCredentialEntry({ id: 'x', kind: 'api_key', validation_url: 'http://a.example/v1' }, ctx)).toThrow(/http/)
    expect(() => compileCredentialEntry({ id: 'x', kind: 'api_key', format: 'Bearer', api_origin: 'https://a.example' }, ctx)).toThrow(
      /\{\{secret\}\}/,
    )
  })

  it('presents each kind as its docs say', () => {
    const anthropic = compileCredentialEntry({ id: 'anthropic', service: 'anthropic' }, ctx).def.credential!
    expect(credentialHeaderValues(anthropic, { secret: 'k' })).toEqual({ 'x-api-key': 'k', 'anthropic-version': '2023-06-01' })
    const openai = compileCredentialEntry({ id: 'openai', service: 'openai' }, ctx).def.credential!
    expect(credentialHeaderValues(openai, { secret: 'k' })).toEqual({ authorization: 'Bearer k' })
    const twilio = compileCredentialEntry({ id: 'twilio', service: 'twilio' }, ctx).def.credential!
    expect(credentialHeaderValues(twilio, { secret: 'tok', username: 'AC1' })).toEqual({
      authorization: `Basic ${Buffer.from('AC1:tok').toString('base64')}`,
    })
  })
})

describe('matchAccount', () => {
  const row = (id: string, account_id: string | null, account_label: string | null, email?: string) =>
    ({ id, account_id, account_label, user_info: email ? { email } : null }) as unknown as ConnectionRow
  const rows = [row('cn_1', '111', 'Work', 'ann@work.example'), row('cn_2', '222', 'ann-home', 'Ann@Home.example')]

  it('matches the provider account id first, then the label or email ignoring case', () => {
    expect(matchAccount(rows, '222')?.id).toBe('cn_2')
    expect(matchAccount(rows, 'work')?.id).toBe('cn_1')
    expect(matchAccount(rows, 'ann@home.EXAMPLE')?.id).toBe('cn_2')
    expect(matchAccount(rows, 'someone@else.example')).toBeUndefined()
  })
})

describe('credential identity from the validation response', () => {
  it('reads the dotted paths; ignores missing, non-string and over-long values', () => {
    const twilio = credentialCatalog['twilio']!.credential.validation!.identity!
    expect(identityOf({ sid: 'AC1', friendly_name: ' Shop ' }, twilio)).toEqual({ id: 'AC1', label: 'Shop' })
    expect(identityOf({ account: { id: 42, name: 'x'.repeat(300) } }, { id: 'account.id', label: 'account.name' })).toEqual({
      id: '42',
      label: undefined,
    })
    expect(identityOf(undefined, twilio)).toEqual({ id: undefined, label: undefined })
    expect(identityOf({ sid: { nested: true }, friendly_name: ['a'] }, twilio)).toEqual({ id: undefined, label: undefined })
    expect(identityOf({ toString: 'x' }, { id: 'constructor' })).toEqual({ id: undefined, label: undefined })
  })

  it('a custom entry may say where; not without a validation URL', () => {
    const p = compileCredentialEntry(
      { id: 'x', type: 'basic', validation_url: 'https://a.example/me', validation_identity: { id: 'id', label: 'name' } },
      ctx,
    )
    expect(p.def.credential!.validation).toEqual({ url: 'https://a.example/me', identity: { id: 'id', label: 'name' } })
    expect(() =>
      compileCredentialEntry({ id: 'x', type: 'api_key', api_origin: 'https://a.example', validation_identity: { id: 'id' } }, ctx),
    ).toThrow(/validation_identity/)
  })
})
