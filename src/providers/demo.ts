/**
 * @module providers/demo
 * The built-in demo provider: Latchkey's own development OAuth server (`src/demo/demo-idp.ts`),
 * registered as provider `demo` in `--dev`. Endpoints are oidc-provider's defaults under the
 * issuer URL, so it is a function of where the server is mounted.
 */
import { defineProvider, type ProviderDefinition } from './define-provider.js'

export function demoDefinition(issuer: string): ProviderDefinition {
  return defineProvider({
    id: 'demo',
    displayName: 'Latchkey Demo',
    docsUrl: 'https://github.com/panva/node-oidc-provider/blob/main/docs/README.md',
    issuer,
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    revocationEndpoint: `${issuer}/token/revocation`,
    userInfo: { endpoint: `${issuer}/me`, accountId: '$.sub', accountLabel: '$.name' },
    scopeDelimiter: ' ',
    defaultScopes: ['openid', 'profile'],
    scopeDescriptions: { 'demo.read': 'Read your demo data', 'demo.write': 'Change your demo data' },
    pkce: 'required',
    tokenEndpointAuthMethod: 'client_secret_basic',
    // oidc-provider asks for consent again when offline access is requested.
    authorizationParams: { prompt: 'consent' },
    refreshTokens: 'static',
    returnsGrantedScopes: true,
  })
}
