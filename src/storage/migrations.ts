/**
 * @module storage/migrations
 * Schema migrations, in code, run at start (and by `latchkey migrate`). The same statements
 * run on SQLite and PostgreSQL; Kysely's migrator takes a lock so concurrent starts are safe.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, SqliteAdapter, sql } from 'kysely'
import { hashState } from '../crypto/state-hash.js'

const migrations: Record<string, Migration> = {
  '0001-init': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute()

      await db.schema
        .createTable('flows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('requested_scopes', 'text', (c) => c.notNull())
        .addColumn('scope_key', 'text', (c) => c.notNull())
        .addColumn('code_verifier_enc', 'text')
        .addColumn('nonce', 'text')
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('next_uri', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('error_description', 'text')
        .addColumn('connection_id', 'text')
        .addColumn('opened_at', 'bigint')
        .addColumn('browser_binding', 'text')
        .addColumn('callback_at', 'bigint')
        .addColumn('grant_enc', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute()
      // At most one open (pending, not yet called back) flow per user, provider and scope set:
      // concurrent identical authorize calls, even on different processes, share it.
      await db.schema
        .createIndex('flows_one_open')
        .on('flows')
        .columns(['user_id', 'provider_id', 'scope_key'])
        .unique()
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('callback_at'), 'is', null)
        .execute()
      await db.schema.createIndex('flows_expires').on('flows').column('expires_at').execute()

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('access_token_enc', 'text', (c) => c.notNull())
        .addColumn('refresh_token_enc', 'text')
        .addColumn('token_type', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('refresh_token_expires_at', 'bigint')
        .addColumn('account_id', 'text')
        .addColumn('account_label', 'text')
        .addColumn('user_info', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('last_refresh_at', 'bigint')
        .addColumn('last_refresh_error', 'text')
        .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('refresh_cooldown_until', 'bigint')
        .addColumn('refresh_lease_owner', 'text')
        .addColumn('refresh_lease_until', 'bigint')
        .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('connections_user_provider', ['user_id', 'provider_id'])
        .execute()
      await db.schema.createIndex('connections_expires').on('connections').columns(['status', 'expires_at']).execute()

      await db.schema
        .createTable('providers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('client_secret_enc', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('provider_id', 'text')
        .addColumn('connection_id', 'text')
        .addColumn('detail', 'text')
        .execute()
      await db.schema.createIndex('audit_at').on('audit_log').column('at').execute()

      await db.schema
        .createTable('latchkey_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0002-token-issued-at': {
    // When the stored access token was obtained: with expires_at, its lifetime (refresh margin).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('connections').addColumn('token_issued_at', 'bigint').execute()
    },
  },
  '0004-state-hash': {
    // The state is kept as its SHA-256 (the unique index follows the renamed column) and, for
    // building the authorization URL when the link opens, encrypted. Rows written before this
    // have their state hashed here, so a sign-in already at the provider completes; a pending
    // link not yet opened has no encrypted state and fails with "start again" when opened.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('flows').renameColumn('state', 'state_hash').execute()
      await db.schema.alterTable('flows').addColumn('state_enc', 'text').execute()
      const rows = (await db.selectFrom('flows').select(['id', 'state_hash']).execute()) as Array<{ id: string; state_hash: string }>
      for (const r of rows)
        await db
          .updateTable('flows')
          .set({ state_hash: hashState(r.state_hash) })
          .where('id', '=', r.id)
          .execute()
    },
  },
  '0004b-process-keys': {
    // Each running process announces the key versions it holds, so `keys rotate-encryption` can
    // refuse while a process lacks the newest key (it would answer 500 for re-encrypted rows).
    // Separate from any health heartbeat: this one is about keys, and expires by last_seen.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('latchkey_process_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_fingerprints', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .execute()
    },
  },
  '0007-flows-one-unopened': {
    // A flow a browser has continued on is bound to that browser: it must not be handed to the
    // app again as the open one. Only unopened flows are shared, so the index leaves opened ones out.
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('flows_one_open').execute()
      await db.schema
        .createIndex('flows_one_open')
        .on('flows')
        .columns(['user_id', 'provider_id', 'scope_key'])
        .unique()
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('callback_at'), 'is', null)
        .where(sql.ref('opened_at'), 'is', null)
        .execute()
    },
  },
  // --- dashboard (issue 12) ---
  '0011-dashboard-sessions': {
    // Admin dashboard sign-ins: the row is keyed by the SHA-256 of the cookie's secret (never the
    // secret itself), so every process on one database accepts a session and sign-out or the
    // API key's revocation ends it everywhere.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('dashboard_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute()
      await db.schema.createIndex('dashboard_sessions_key').on('dashboard_sessions').column('key_id').execute()
    },
  },
  // --- end dashboard ---
  // --- 0009-mcp (MCP servers as providers, issue 13) ---
  '0009-mcp': {
    // Clients registered at MCP authorization servers, one per issuer (the spec binds client
    // credentials to the issuer that issued them), reused by every user and across restarts;
    // and which issuer, client and resource a flow was sent to and a connection's tokens came from.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mcp_client_registrations')
        .addColumn('issuer', 'text', (c) => c.primaryKey())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_secret_enc', 'text')
        .addColumn('auth_method', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('mcp_grant_bindings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
    },
  },
  // --- end 0009-mcp ---
  // ---- 0010-accounts (several accounts per user and provider) ----
  '0010-accounts': {
    // A user may hold several connections for one provider (a work and a personal account): the
    // (user, provider) uniqueness goes; instead one connection per (user, provider) is the
    // default (`is_default = 1`, what authorize without an account selector answers with, read
    // through a partial unique index so that lookup stays a direct one), and a provider account
    // is connected at most once per user (unique where account_id is known). Every existing
    // connection was the only one of its (user, provider), so each becomes its default.
    // Flows remember the selector they were started with (`account_hint` is passed to the
    // provider as login_hint where it takes one; `connection_target` is the connection asked for).
    async up(db: Kysely<any>) {
      if (db.getExecutor().adapter instanceof SqliteAdapter) {
        // SQLite cannot drop a table constraint: rebuild the table, in one transaction.
        await db.transaction().execute(async (tx) => {
          await connectionsTable(tx, 'connections_0010').execute()
          const cols = CONNECTION_COLUMNS_0002.join(', ')
          await sql`insert into connections_0010 (${sql.raw(cols)}, is_default) select ${sql.raw(cols)}, 1 from connections`.execute(tx)
          await tx.schema.dropTable('connections').execute()
          await tx.schema.alterTable('connections_0010').renameTo('connections').execute()
          await tx.schema.createIndex('connections_expires').on('connections').columns(['status', 'expires_at']).execute()
        })
      } else {
        await db.schema.alterTable('connections').dropConstraint('connections_user_provider').execute()
        await db.schema
          .alterTable('connections')
          .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(1))
          .execute()
      }
      await db.schema.createIndex('connections_by_user').on('connections').columns(['user_id', 'provider_id']).execute()
      await db.schema
        .createIndex('connections_default')
        .on('connections')
        .columns(['user_id', 'provider_id'])
        .unique()
        .where(sql.ref('is_default'), '=', 1)
        .execute()
      await db.schema
        .createIndex('connections_account')
        .on('connections')
        .columns(['user_id', 'provider_id', 'account_id'])
        .unique()
        .where(sql.ref('account_id'), 'is not', null)
        .execute()
      await db.schema.alterTable('flows').addColumn('account_hint', 'text').execute()
      await db.schema.alterTable('flows').addColumn('connection_target', 'text').execute()
    },
  },
  // ---- end 0010-accounts ----
  '0008-webhooks': {
    // Webhook endpoints, the durable outbox (events written with the state change that causes
    // them), deliveries (one per event and endpoint, with retry state and a lease), and the
    // refresh-token expiries already announced.
    async up(db: Kysely<any>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('previous_secret_enc', 'text')
        .addColumn('previous_secret_expires_at', 'bigint')
        .addColumn('failing_since', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('webhook_events')
        // SQLite: an integer primary key is the rowid (assigned in increasing order).
        .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('order_key', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint')
        .execute()
      await db.schema
        .createIndex('webhook_events_undispatched')
        .on('webhook_events')
        .column('seq')
        .where(sql.ref('dispatched_at'), 'is', null)
        .execute()
      await db.schema.createIndex('webhook_events_created').on('webhook_events').column('created_at').execute()
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', 'bigint', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('order_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_event_endpoint', ['event_id', 'endpoint_id'])
        .execute()
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['next_attempt_at', 'event_seq'])
        .where(sql.ref('status'), '=', 'pending')
        .execute()
      await db.schema
        .createIndex('webhook_deliveries_order')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'order_key', 'event_seq'])
        .where(sql.ref('status'), '=', 'pending')
        .execute()
      await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute()
      await db.schema
        .createTable('webhook_expiry_notices')
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_expiry_notices_pk', ['connection_id', 'expires_at'])
        .execute()
    },
  },
  '0012-connection-requested-scopes': {
    // What the last grant asked the provider for, on the connection itself: the flow that held it
    // is deleted by the retention sweep a day after it expires. Null on rows granted before this
    // column ("not recorded": nothing can tell what they asked for).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('connections').addColumn('requested_scopes', 'text').execute()
    },
  },
  '0013-dashboard-session-principal': {
    // A dashboard session names the kind of principal that signed in: 'api_key' (key_id set, the
    // session ends with the key) or 'oidc' (the operator's own OIDC provider: subject set, no
    // key). Existing sessions are API-key sessions. SQLite cannot drop a NOT NULL: the small table
    // is rebuilt, its rows copied.
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter
      if (sqlite) {
        await db.transaction().execute(async (tx) => {
          await sessionsTable(tx, 'dashboard_sessions_0013').execute()
          await sql`insert into dashboard_sessions_0013 (id, principal, key_id, subject, created_at, last_seen_at, expires_at, revoked_at)
            select id, 'api_key', key_id, null, created_at, last_seen_at, expires_at, revoked_at from dashboard_sessions`.execute(tx)
          await tx.schema.dropTable('dashboard_sessions').execute()
          await tx.schema.alterTable('dashboard_sessions_0013').renameTo('dashboard_sessions').execute()
          await tx.schema.createIndex('dashboard_sessions_key').on('dashboard_sessions').column('key_id').execute()
        })
        return
      }
      await db.schema
        .alterTable('dashboard_sessions')
        .addColumn('principal', 'text', (c) => c.notNull().defaultTo('api_key'))
        .execute()
      await db.schema.alterTable('dashboard_sessions').addColumn('subject', 'text').execute()
      await db.schema
        .alterTable('dashboard_sessions')
        .alterColumn('key_id', (c) => c.dropNotNull())
        .execute()
      await db.schema.alterTable('dashboard_sessions').addCheckConstraint('dashboard_sessions_principal', PRINCIPAL_CHECK).execute()
    },
  },
}

// ---- 0013-dashboard-session-principal helpers ----
/** Each principal kind carries its own id, and only that one. */
const PRINCIPAL_CHECK = sql`(principal = 'api_key' and key_id is not null and subject is null) or (principal = 'oidc' and key_id is null and subject is not null)`

function sessionsTable(db: Kysely<any>, name: string) {
  return db.schema
    .createTable(name)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('principal', 'text', (c) => c.notNull().defaultTo('api_key'))
    .addColumn('key_id', 'text')
    .addColumn('subject', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addCheckConstraint('dashboard_sessions_principal', PRINCIPAL_CHECK)
}
// ---- end 0013-dashboard-session-principal helpers ----

// ---- 0010-accounts helpers ----
/** The connections columns as of 0002-token-issued-at (what 0010-accounts copies). */
const CONNECTION_COLUMNS_0002 = [
  'id',
  'user_id',
  'provider_id',
  'status',
  'scopes',
  'access_token_enc',
  'refresh_token_enc',
  'token_type',
  'expires_at',
  'refresh_token_expires_at',
  'account_id',
  'account_label',
  'user_info',
  'created_at',
  'updated_at',
  'last_used_at',
  'last_refresh_at',
  'last_refresh_error',
  'refresh_failures',
  'refresh_cooldown_until',
  'refresh_lease_owner',
  'refresh_lease_until',
  'generation',
  'token_issued_at',
]

/** The connections table as 0010-accounts leaves it (SQLite rebuild): 0001's without the (user, provider) constraint. */
function connectionsTable(db: Kysely<any>, name: string) {
  return db.schema
    .createTable(name)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('access_token_enc', 'text', (c) => c.notNull())
    .addColumn('refresh_token_enc', 'text')
    .addColumn('token_type', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('refresh_token_expires_at', 'bigint')
    .addColumn('account_id', 'text')
    .addColumn('account_label', 'text')
    .addColumn('user_info', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('last_refresh_at', 'bigint')
    .addColumn('last_refresh_error', 'text')
    .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refresh_cooldown_until', 'bigint')
    .addColumn('refresh_lease_owner', 'text')
    .addColumn('refresh_lease_until', 'bigint')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('token_issued_at', 'bigint')
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(1))
}
// ---- end 0010-accounts helpers ----

const provider: MigrationProvider = { getMigrations: async () => migrations }

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return migrate(db, (m) => m.migrateToLatest())
}

/** Migrates up (or down) to the named migration: tests use it to build a database of an older version. */
export async function migrateTo(db: Kysely<any>, name: string): Promise<string[]> {
  return migrate(db, (m) => m.migrateTo(name))
}

async function migrate(db: Kysely<any>, run: (m: Migrator) => ReturnType<Migrator['migrateToLatest']>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'latchkey_migrations',
    migrationLockTableName: 'latchkey_migrations_lock',
  })
  const { error, results } = await run(migrator)
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
