/**
 * @module providers/catalog
 * The built-in catalog: a plain registry object, one import per provider file.
 */
import type { ProviderDefinition } from './define-provider.js'
import { github } from './github.js'
import { google } from './google.js'
import { slack } from './slack.js'

export const catalog: Readonly<Record<string, ProviderDefinition>> = {
  github,
  google,
  slack,
}
