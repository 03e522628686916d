/**
 * @module broker/branding
 * The branding the end-user pages show: configuration (`config.branding`) with the admin API's
 * override over it, kept as JSON in the store's meta table (key `branding`), so every process of a
 * fleet shows the same. Read on each page: pages are few, and a change shows at once everywhere.
 */
import { type Branding, type BrandingInput, brandingInput, mergeBranding } from '../branding.js'
import type { BrokerContext } from './context.js'

export const BRANDING_META_KEY = 'branding'

/** The stored override, or `{}` (none, or unreadable: a bad row never breaks the pages). */
async function storedOverride(ctx: BrokerContext): Promise<BrandingInput> {
  const raw = await ctx.store.getMeta(BRANDING_META_KEY)
  if (raw === undefined) return {}
  try {
    const parsed = brandingInput.safeParse(JSON.parse(raw))
    if (parsed.success) return parsed.data
  } catch {
    // fall through
  }
  ctx.log.warn('the stored branding is not valid; using the configured branding')
  return {}
}

/** The branding in force. During a database outage, the configured branding (a page must still render). */
export async function currentBranding(ctx: BrokerContext): Promise<Branding> {
  try {
    return mergeBranding(ctx.config.branding, await storedOverride(ctx))
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'branding unavailable (storage); using the configured branding')
    return ctx.config.branding
  }
}

/** The admin API's view: what is in force, and the override alone. Storage errors propagate (503). */
export async function readBranding(ctx: BrokerContext): Promise<{ effective: Branding; override: BrandingInput }> {
  const override = await storedOverride(ctx)
  return { effective: mergeBranding(ctx.config.branding, override), override }
}

/** Replaces the override (a field left out falls back to configuration; `null` clears it). */
export async function replaceBranding(ctx: BrokerContext, input: BrandingInput, actor: string | null): Promise<Branding> {
  await ctx.store.setMeta(BRANDING_META_KEY, JSON.stringify(input))
  ctx.audit.record({ actor, action: 'branding.updated', detail: { fields: Object.keys(input).sort() } })
  return mergeBranding(ctx.config.branding, input)
}
