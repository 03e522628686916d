/**
 * The audit export's CSV fields: quoted when they hold a quote, comma or line break, and a value
 * a spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with an apostrophe.
 */
import { describe, expect, it } from 'vitest'
import { csvField } from '../../src/http/routes/admin-dashboard.js'

describe('csvField', () => {
  it('leaves plain values alone and writes null as empty', () => {
    expect(csvField('token.issued')).toBe('token.issued')
    expect(csvField(null)).toBe('')
    expect(csvField(undefined)).toBe('')
  })
  it('quotes quotes, commas and line breaks', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
  })
  it('writes objects as JSON, quoted', () => {
    expect(csvField({ key_id: 'k1', role: 'admin' })).toBe('"{""key_id"":""k1"",""role"":""admin""}"')
  })
  it('defuses spreadsheet formulas', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`)
    expect(csvField('+1')).toBe("'+1")
    expect(csvField('-1')).toBe("'-1")
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)")
  })
})
