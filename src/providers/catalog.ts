/**
 * @module providers/catalog
 * The built-in catalog: a plain registry object, one import per provider file.
 */
import type { ProviderDefinition } from './define-provider.js'
import { airtable } from './airtable.js'
import { amazon } from './amazon.js'
import { auth0 } from './auth0.js'
import { bitbucket } from './bitbucket.js'
import { box } from './box.js'
import { calendly } from './calendly.js'
import { digitalocean } from './digitalocean.js'
import { docusign } from './docusign.js'
import { freshbooks } from './freshbooks.js'
import { github } from './github.js'
import { gitlab } from './gitlab.js'
import { google } from './google.js'
import { harvest } from './harvest.js'
import { heroku } from './heroku.js'
import { intercom } from './intercom.js'
import { keycloak } from './keycloak.js'
import { mailchimp } from './mailchimp.js'
import { miro } from './miro.js'
import { monday } from './monday.js'
import { okta } from './okta.js'
import { paypal } from './paypal.js'
import { pipedrive } from './pipedrive.js'
import { quickbooks } from './quickbooks.js'
import { salesforce } from './salesforce.js'
import { shopify } from './shopify.js'
import { slack } from './slack.js'
import { smartsheet } from './smartsheet.js'
import { square } from './square.js'
import { strava } from './strava.js'
import { stripe } from './stripe.js'
import { todoist } from './todoist.js'
import { typeform } from './typeform.js'
import { webflow } from './webflow.js'
import { wrike } from './wrike.js'
import { xero } from './xero.js'
import { yahoo } from './yahoo.js'
import { zendesk } from './zendesk.js'
import { zoho } from './zoho.js'

export const catalog: Readonly<Record<string, ProviderDefinition>> = {
  airtable,
  amazon,
  auth0,
  bitbucket,
  box,
  calendly,
  digitalocean,
  docusign,
  freshbooks,
  github,
  gitlab,
  google,
  harvest,
  heroku,
  intercom,
  keycloak,
  mailchimp,
  miro,
  monday,
  okta,
  paypal,
  pipedrive,
  quickbooks,
  salesforce,
  shopify,
  slack,
  smartsheet,
  square,
  strava,
  stripe,
  todoist,
  typeform,
  webflow,
  wrike,
  xero,
  yahoo,
  zendesk,
  zoho,
}
