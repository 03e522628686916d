/**
 * @module branding
 * The deployment's branding on the end-user pages: the app's name, logo, accent colour and
 * support link. Set in configuration (`LATCHKEY_BRANDING_*`, `branding:` in latchkey.yaml) and
 * overridden at run time through `PUT /v1/admin/branding` (kept in the store's meta table).
 * Every value is validated here, for both; the pages escape every value they print.
 */
import { z } from 'zod'

export interface Branding {
  /** Who is asking, in the pages' words ("<App> wants to connect to your <Provider> account"). */
  appName: string | undefined
  /** An https URL or a `data:image/…;base64,` URL of at most {@link MAX_LOGO_DATA_URL_CHARS} characters. */
  logoUrl: string | undefined
  /** `#rgb` or `#rrggbb`: buttons and links. */
  accentColor: string | undefined
  /** An https or `mailto:` URL, linked as "Contact <App> support". */
  supportUrl: string | undefined
}

export const NO_BRANDING: Branding = { appName: undefined, logoUrl: undefined, accentColor: undefined, supportUrl: undefined }

/** About 36 KiB of image once decoded; with the rest of a PUT it fits the default 64 KiB body limit. */
export const MAX_LOGO_DATA_URL_CHARS = 49_152

// biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern exists to find them
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

export const appNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .refine((s) => !CONTROL.test(s), 'must not contain control or bidi-override characters')

export const accentColorSchema = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour, #rgb or #rrggbb')
  .transform((s) => s.toLowerCase())

const httpsUrl = (s: string) => {
  try {
    const u = new URL(s)
    return u.protocol === 'https:' && u.username === '' && u.password === '' && u.hostname !== ''
  } catch {
    return false
  }
}

export const logoUrlSchema = z
  .string()
  .max(MAX_LOGO_DATA_URL_CHARS, `must be at most ${MAX_LOGO_DATA_URL_CHARS} characters (a data: logo of about 36 KiB)`)
  .refine(
    (s) =>
      s.startsWith('data:') ? /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(s) : s.length <= 2048 && httpsUrl(s),
    'must be an https URL (at most 2048 characters) or a data:image/(png|jpeg|gif|webp);base64 URL',
  )

export const supportUrlSchema = z
  .string()
  .max(2048)
  .refine((s) => httpsUrl(s) || /^mailto:[^\s<>"]+@[^\s<>"]+$/.test(s), 'must be an https or mailto: URL')

/** The wire shape (admin API, latchkey.yaml): snake_case; `null` clears a value set in configuration. */
export const brandingInput = z.strictObject({
  app_name: appNameSchema.nullable().optional(),
  logo_url: logoUrlSchema.nullable().optional(),
  accent_color: accentColorSchema.nullable().optional(),
  support_url: supportUrlSchema.nullable().optional(),
})
export type BrandingInput = z.infer<typeof brandingInput>

const FIELDS = [
  ['app_name', 'appName'],
  ['logo_url', 'logoUrl'],
  ['accent_color', 'accentColor'],
  ['support_url', 'supportUrl'],
] as const

/** `override` over `base`: a field it sets wins, a field it sets to null is cleared, a field it leaves out is kept. */
export function mergeBranding(base: Branding, override: BrandingInput): Branding {
  const out: Branding = { ...base }
  for (const [wire, key] of FIELDS) {
    const v = override[wire]
    if (v === null) out[key] = undefined
    else if (v !== undefined) out[key] = v
  }
  return out
}

export function brandingView(b: Branding): Record<(typeof FIELDS)[number][0], string | null> {
  return {
    app_name: b.appName ?? null,
    logo_url: b.logoUrl ?? null,
    accent_color: b.accentColor ?? null,
    support_url: b.supportUrl ?? null,
  }
}
