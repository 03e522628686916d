/**
 * @module providers/credentials/catalog
 * Non-OAuth services (API keys, HTTP Basic) and how their credential is presented and checked,
 * each taken from the service's own API reference. The person enters the credential on
 * Latchkey's page (`broker/credential-flow.ts`); apps get it through authorize like a token.
 * Enabled per installation with `LATCHKEY_CREDENTIAL_PROVIDERS=openai,anthropic,…` (or entries
 * in `credentialProviders`, which may also define a custom service).
 */
import type { CredentialDefinition } from '../define-provider.js'

export interface CredentialService {
  id: string
  displayName: string
  docsUrl: string | readonly string[]
  /** The API's origin (shown as where the credential is for). */
  apiOrigin: string
  credential: CredentialDefinition
}

export const credentialCatalog: Readonly<Record<string, CredentialService>> = {
  openai: {
    id: 'openai',
    displayName: 'OpenAI',
    docsUrl: [
      'https://platform.openai.com/docs/api-reference/authentication',
      'https://platform.openai.com/docs/api-reference/models/list',
    ],
    apiOrigin: 'https://api.openai.com',
    credential: {
      kind: 'api_key',
      header: 'authorization',
      format: 'Bearer {{secret}}',
      labels: { secret: 'OpenAI API key' },
      validation: { url: 'https://api.openai.com/v1/models' },
    },
  },
  anthropic: {
    id: 'anthropic',
    displayName: 'Anthropic',
    docsUrl: ['https://docs.anthropic.com/en/api/overview', 'https://docs.anthropic.com/en/api/models-list'],
    apiOrigin: 'https://api.anthropic.com',
    credential: {
      kind: 'api_key',
      header: 'x-api-key',
      format: '{{secret}}',
      headers: { 'anthropic-version': '2023-06-01' },
      labels: { secret: 'Anthropic API key' },
      validation: { url: 'https://api.anthropic.com/v1/models' },
    },
  },
  mistral: {
    id: 'mistral',
    displayName: 'Mistral AI',
    docsUrl: 'https://docs.mistral.ai/api/#tag/models',
    apiOrigin: 'https://api.mistral.ai',
    credential: {
      kind: 'api_key',
      header: 'authorization',
      format: 'Bearer {{secret}}',
      labels: { secret: 'Mistral API key' },
      validation: { url: 'https://api.mistral.ai/v1/models' },
    },
  },
  twilio: {
    id: 'twilio',
    displayName: 'Twilio',
    // "you will use your Twilio Account SID as the username and your Auth Token as the password for HTTP Basic authentication"
    docsUrl: ['https://www.twilio.com/docs/iam/api', 'https://www.twilio.com/docs/iam/api/account'],
    apiOrigin: 'https://api.twilio.com',
    credential: {
      kind: 'basic',
      header: 'authorization',
      format: 'Basic {{secret}}',
      labels: { username: 'Account SID', secret: 'Auth Token' },
      // The Account resource: "sid" (the account's unique id) and "friendly_name" (its name).
      validation: {
        url: 'https://api.twilio.com/2010-04-01/Accounts/{{username}}.json',
        identity: { id: 'sid', label: 'friendly_name' },
      },
    },
  },
}
