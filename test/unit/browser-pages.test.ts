/** The binding cookie's name and attributes (`src/http/pages/browser-pages.ts`). */
import { describe, expect, it } from 'vitest'
import { bindingCookie, bindingCookieName } from '../../src/http/pages/browser-pages.js'

const NOW = 1_800_000_000_000
const b = { flowId: 'ac_1', value: 'v4lue', expiresAt: NOW + 600_000 }

describe('binding cookie', () => {
  it('on https: the __Host- prefix, Secure, Path=/ and no Domain', () => {
    const c = bindingCookie(b, true, NOW)
    expect(c).toBe('__Host-lk_ac_1=v4lue; Path=/; Secure; Max-Age=600; HttpOnly; SameSite=Lax')
    expect(c).not.toMatch(/domain=/i)
    expect(bindingCookieName('ac_1', true)).toBe('__Host-lk_ac_1')
  })

  it('on http (development): a plain name scoped to /oauth, without Secure (which browsers drop on http)', () => {
    expect(bindingCookie(b, false, NOW)).toBe('lk_ac_1=v4lue; Path=/oauth; Max-Age=600; HttpOnly; SameSite=Lax')
    expect(bindingCookieName('ac_1', false)).toBe('lk_ac_1')
  })
})
