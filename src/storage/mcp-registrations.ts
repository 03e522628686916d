/**
 * @module storage/mcp-registrations
 * Storage of MCP client registrations (one per authorization-server issuer, secret sealed by the
 * caller) and of grant bindings: the issuer, client and resource a flow was sent to (`ac_…` ids)
 * and a connection's tokens came from (`cn_…` ids). Its own module beside the main store, on the
 * same Kysely instance and tables created by migration `0009-mcp`.
 */
import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

export interface McpRegistrationRow {
  issuer: string
  method: 'static' | 'cimd' | 'dcr'
  client_id: string
  client_secret_enc: string | null
  auth_method: 'client_secret_basic' | 'client_secret_post' | 'none'
  created_at: number
}

export interface McpGrantBinding {
  /** A flow id (`ac_…`) or a connection id (`cn_…`). */
  id: string
  issuer: string
  client_id: string
  resource: string
  updated_at: number
}

export interface McpStore {
  getRegistration(issuer: string): Promise<McpRegistrationRow | undefined>
  /** Inserts unless the issuer has one; returns the row that is stored (the first writer wins). */
  addRegistration(row: McpRegistrationRow): Promise<McpRegistrationRow>
  /** Deletes the issuer's registration only if it still is `clientId` (another process may have replaced it). */
  dropRegistration(issuer: string, clientId: string): Promise<boolean>
  getBinding(id: string): Promise<McpGrantBinding | undefined>
  putBinding(row: McpGrantBinding): Promise<void>
  dropBinding(id: string): Promise<void>
}

type McpTables = {
  mcp_client_registrations: McpRegistrationRow
  mcp_grant_bindings: McpGrantBinding
}

const num = (v: unknown) => Number(v)

export class KyselyMcpStore implements McpStore {
  readonly #db: Kysely<Database & McpTables>

  constructor(db: Kysely<Database>) {
    // The tables are this module's own; the main schema type does not list them.
    this.#db = db.withTables<McpTables>()
  }

  async getRegistration(issuer: string): Promise<McpRegistrationRow | undefined> {
    const r = await this.#db.selectFrom('mcp_client_registrations').selectAll().where('issuer', '=', issuer).executeTakeFirst()
    return r ? { ...(r as McpRegistrationRow), created_at: num(r.created_at) } : undefined
  }

  async addRegistration(row: McpRegistrationRow): Promise<McpRegistrationRow> {
    await this.#db
      .insertInto('mcp_client_registrations')
      .values(row)
      .onConflict((oc) => oc.column('issuer').doNothing())
      .execute()
    return (await this.getRegistration(row.issuer)) ?? row
  }

  async dropRegistration(issuer: string, clientId: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('mcp_client_registrations')
      .where('issuer', '=', issuer)
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  async getBinding(id: string): Promise<McpGrantBinding | undefined> {
    const r = await this.#db.selectFrom('mcp_grant_bindings').selectAll().where('id', '=', id).executeTakeFirst()
    return r ? { ...(r as McpGrantBinding), updated_at: num(r.updated_at) } : undefined
  }

  async putBinding(row: McpGrantBinding): Promise<void> {
    await this.#db
      .insertInto('mcp_grant_bindings')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ issuer: row.issuer, client_id: row.client_id, resource: row.resource, updated_at: row.updated_at }),
      )
      .execute()
  }

  async dropBinding(id: string): Promise<void> {
    await this.#db.deleteFrom('mcp_grant_bindings').where('id', '=', id).execute()
  }
}
