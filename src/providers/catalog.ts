/**
 * @module providers/catalog
 * The built-in catalog: a plain registry object, one import per provider file.
 */
import type { ProviderDefinition } from './define-provider.js'
import { airtable } from './airtable.js'
import { amazon } from './amazon.js'
import { asana } from './asana.js'
import { atlassian } from './atlassian.js'
import { attio } from './attio.js'
import { auth0 } from './auth0.js'
import { bitbucket } from './bitbucket.js'
import { box } from './box.js'
import { calendly } from './calendly.js'
import { clickup } from './clickup.js'
import { digitalocean } from './digitalocean.js'
import { discord } from './discord.js'
import { docusign } from './docusign.js'
import { dropbox } from './dropbox.js'
import { figma } from './figma.js'
import { freshbooks } from './freshbooks.js'
import { github } from './github.js'
import { gitlab } from './gitlab.js'
import { google } from './google.js'
import { harvest } from './harvest.js'
import { heroku } from './heroku.js'
import { hubspot } from './hubspot.js'
import { intercom } from './intercom.js'
import { keycloak } from './keycloak.js'
import { linear } from './linear.js'
import { linkedin } from './linkedin.js'
import { mailchimp } from './mailchimp.js'
import { microsoft } from './microsoft.js'
import { miro } from './miro.js'
import { monday } from './monday.js'
import { notion } from './notion.js'
import { okta } from './okta.js'
import { pagerduty } from './pagerduty.js'
import { paypal } from './paypal.js'
import { pipedrive } from './pipedrive.js'
import { quickbooks } from './quickbooks.js'
import { reddit } from './reddit.js'
import { salesforce } from './salesforce.js'
import { shopify } from './shopify.js'
import { slack } from './slack.js'
import { smartsheet } from './smartsheet.js'
import { spotify } from './spotify.js'
import { square } from './square.js'
import { strava } from './strava.js'
import { stripe } from './stripe.js'
import { todoist } from './todoist.js'
import { twitch } from './twitch.js'
import { typeform } from './typeform.js'
import { webflow } from './webflow.js'
import { wrike } from './wrike.js'
import { x } from './x.js'
import { xero } from './xero.js'
import { yahoo } from './yahoo.js'
import { zendesk } from './zendesk.js'
import { zoho } from './zoho.js'
import { zoom } from './zoom.js'

export const catalog: Readonly<Record<string, ProviderDefinition>> = {
  airtable,
  amazon,
  asana,
  atlassian,
  attio,
  auth0,
  bitbucket,
  box,
  calendly,
  clickup,
  digitalocean,
  discord,
  docusign,
  dropbox,
  figma,
  freshbooks,
  github,
  gitlab,
  google,
  harvest,
  heroku,
  hubspot,
  intercom,
  keycloak,
  linear,
  linkedin,
  mailchimp,
  microsoft,
  miro,
  monday,
  notion,
  okta,
  pagerduty,
  paypal,
  pipedrive,
  quickbooks,
  reddit,
  salesforce,
  shopify,
  slack,
  smartsheet,
  spotify,
  square,
  strava,
  stripe,
  todoist,
  twitch,
  typeform,
  webflow,
  wrike,
  x,
  xero,
  yahoo,
  zendesk,
  zoho,
  zoom,
}
