/**
 * @module providers/catalog
 * The built-in catalog: a plain registry object, one import per provider file.
 */
import type { ProviderDefinition } from './define-provider.js'
import { amazon } from './amazon.js'
import { auth0 } from './auth0.js'
import { digitalocean } from './digitalocean.js'
import { docusign } from './docusign.js'
import { freshbooks } from './freshbooks.js'
import { github } from './github.js'
import { google } from './google.js'
import { harvest } from './harvest.js'
import { heroku } from './heroku.js'
import { keycloak } from './keycloak.js'
import { okta } from './okta.js'
import { paypal } from './paypal.js'
import { pipedrive } from './pipedrive.js'
import { shopify } from './shopify.js'
import { slack } from './slack.js'
import { smartsheet } from './smartsheet.js'
import { strava } from './strava.js'
import { stripe } from './stripe.js'
import { todoist } from './todoist.js'
import { wrike } from './wrike.js'
import { yahoo } from './yahoo.js'
import { zendesk } from './zendesk.js'

export const catalog: Readonly<Record<string, ProviderDefinition>> = {
  amazon,
  auth0,
  digitalocean,
  docusign,
  freshbooks,
  github,
  google,
  harvest,
  heroku,
  keycloak,
  okta,
  paypal,
  pipedrive,
  shopify,
  slack,
  smartsheet,
  strava,
  stripe,
  todoist,
  wrike,
  yahoo,
  zendesk,
}
