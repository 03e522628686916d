/**
 * @module oauth/templates
 * Placeholders in provider data: `{{client_id}}`-style values known per request, and
 * `{setting}` per-installation values (tenant, subdomain, shop) validated at load.
 */

/** Replaces `{{name}}` placeholders; unknown names are an error (caught at provider load). */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => {
    const v = values[name]
    if (v === undefined) throw new TypeError(`unknown placeholder ${whole}`)
    return v
  })
}

/** Names of `{{…}}` placeholders in a template. */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((m) => m[1]!)
}

/** Replaces `{setting}` (single braces) with per-installation settings. */
export function fillSettings(template: string, settings: Readonly<Record<string, string>>): string {
  return template.replace(/(?<!\{)\{([A-Za-z][A-Za-z0-9_]*)\}(?!\})/g, (whole, name: string) => {
    const v = settings[name]
    if (v === undefined) throw new TypeError(`missing setting ${whole}`)
    return v
  })
}

export function settingsIn(template: string): string[] {
  return [...template.matchAll(/(?<!\{)\{([A-Za-z][A-Za-z0-9_]*)\}(?!\})/g)].map((m) => m[1]!)
}
