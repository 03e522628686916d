/**
 * The SDK's types against the server's response schemas (the ones the OpenAPI document and the
 * handlers' return types come from). Checked by the type check (`npm test` runs tsc over test/):
 * what the server sends must be assignable to what the SDK promises, and the SDK must name no
 * field the server does not send. The `it` blocks only make the file a test; the checks are types.
 */
import type * as Sdk from '@latchkey/client'
import { describe, expectTypeOf, it } from 'vitest'
import type { ResponseBody } from '../../src/http/route-spec.js'
import type { listAuditRoute } from '../../src/http/routes/admin-audit.js'
import type { listConnectionsRoute } from '../../src/http/routes/admin-connections.js'
import type { createApiKeyRoute, listApiKeysRoute } from '../../src/http/routes/admin-keys.js'
import type { authorizeRoute } from '../../src/http/routes/auth.js'
import type { listCatalogRoute } from '../../src/http/routes/providers.js'

type Item<P> = P extends { items: Array<infer T> } ? T : never

describe('SDK types match the server schemas', () => {
  it('connections', () => {
    type Server = Item<ResponseBody<typeof listConnectionsRoute, 200>>
    expectTypeOf<Server>().toExtend<Sdk.Connection>()
    expectTypeOf<keyof Sdk.Connection>().toEqualTypeOf<keyof Server>()
    expectTypeOf<ResponseBody<typeof listConnectionsRoute, 200>>().toExtend<Sdk.Page<Sdk.Connection>>()
  })

  it('API keys', () => {
    type Server = Item<ResponseBody<typeof listApiKeysRoute, 200>>
    expectTypeOf<Server>().toExtend<Sdk.ApiKey>()
    expectTypeOf<keyof Sdk.ApiKey>().toEqualTypeOf<keyof Server>()
    expectTypeOf<ResponseBody<typeof createApiKeyRoute, 201>>().toExtend<Sdk.NewApiKey>()
    expectTypeOf<keyof Sdk.NewApiKey>().toEqualTypeOf<keyof ResponseBody<typeof createApiKeyRoute, 201>>()
  })

  it('audit entries', () => {
    type Server = Item<ResponseBody<typeof listAuditRoute, 200>>
    expectTypeOf<Server>().toExtend<Sdk.AuditEntry>()
    expectTypeOf<keyof Sdk.AuditEntry>().toEqualTypeOf<keyof Server>()
  })

  it('authorization responses', () => {
    type Server = ResponseBody<typeof authorizeRoute, 200>
    expectTypeOf<Server>().toExtend<Sdk.AuthorizationResponse>()
    expectTypeOf<keyof Sdk.AuthorizationResponse>().toEqualTypeOf<keyof Server>()
  })

  it('provider catalog', () => {
    type Server = ResponseBody<typeof listCatalogRoute, 200>
    expectTypeOf<Server>().toExtend<Sdk.ProviderCatalog>()
    expectTypeOf<keyof Sdk.ProviderCatalog['items'][number]>().toEqualTypeOf<keyof Item<Server>>()
  })
})
