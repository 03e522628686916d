/**
 * @module broker/vault
 * Encryption of stored secrets with their row bound in: the additional authenticated data is
 * `<table>:<row id>:<field>`, so a ciphertext moved to another row or field fails to decrypt.
 * The named helpers (`accessToken`, `sealTokens`, …) are the only places a slot is spelled out.
 */
import { randomBytes } from 'node:crypto'
import type { Keyring } from '../crypto/keyring.js'
import type { ConnectionRow, FlowRow } from '../storage/store.js'

export type SecretSlot =
  | { table: 'connections'; id: string; field: 'access_token' | 'refresh_token' }
  | { table: 'flows'; id: string; field: 'code_verifier' | 'grant' | 'binding' | 'state' }
  | { table: 'providers'; id: string; field: 'client_secret' }
  /** A client secret an MCP authorization server issued by dynamic registration; `id` is its issuer. */
  | { table: 'mcp_client_registrations'; id: string; field: 'client_secret' }
  | { table: 'webhook_endpoints'; id: string; field: 'secret' | 'previous_secret' }

/** A connection's token columns as sealed for its row; `refresh_token_enc` undefined when none was given. */
export interface SealedTokens {
  access_token_enc: string
  refresh_token_enc: string | undefined
}

export class Vault {
  #announced = 0

  /** `onFirstSeal`: called once per process when the current key version first encrypts (its fingerprint is then recorded). */
  constructor(
    readonly keyring: Keyring,
    private readonly onFirstSeal?: (version: number) => void,
  ) {}

  seal(slot: SecretSlot, plaintext: string): string {
    const envelope = this.keyring.encrypt(plaintext, aad(slot))
    if (this.#announced !== this.keyring.currentVersion) {
      this.#announced = this.keyring.currentVersion
      this.onFirstSeal?.(this.#announced)
    }
    return envelope
  }

  open(slot: SecretSlot, envelope: string): string {
    return this.keyring.decrypt(envelope, aad(slot))
  }

  accessToken(c: Pick<ConnectionRow, 'id' | 'access_token_enc'>): string {
    return this.open({ table: 'connections', id: c.id, field: 'access_token' }, c.access_token_enc)
  }

  refreshToken(c: Pick<ConnectionRow, 'id' | 'refresh_token_enc'>): string | undefined {
    return c.refresh_token_enc === null
      ? undefined
      : this.open({ table: 'connections', id: c.id, field: 'refresh_token' }, c.refresh_token_enc)
  }

  /** Seals a grant's or refresh's tokens for connection `id`. */
  sealTokens(id: string, tokens: { accessToken: string; refreshToken: string | undefined }): SealedTokens {
    return {
      access_token_enc: this.seal({ table: 'connections', id, field: 'access_token' }, tokens.accessToken),
      refresh_token_enc:
        tokens.refreshToken === undefined
          ? undefined
          : this.seal({ table: 'connections', id, field: 'refresh_token' }, tokens.refreshToken),
    }
  }

  codeVerifier(f: Pick<FlowRow, 'id' | 'code_verifier_enc'>): string | undefined {
    return f.code_verifier_enc === null ? undefined : this.open({ table: 'flows', id: f.id, field: 'code_verifier' }, f.code_verifier_enc)
  }

  sealCodeVerifier(flowId: string, verifier: string): string {
    return this.seal({ table: 'flows', id: flowId, field: 'code_verifier' }, verifier)
  }

  /** A received grant held until user verification confirms it (custom mode), as JSON. */
  heldGrant(f: Pick<FlowRow, 'id' | 'grant_enc'>): string | undefined {
    return f.grant_enc === null ? undefined : this.open({ table: 'flows', id: f.id, field: 'grant' }, f.grant_enc)
  }

  sealHeldGrant(flowId: string, json: string): string {
    return this.seal({ table: 'flows', id: flowId, field: 'grant' }, json)
  }

  /**
   * A browser binding value for a flow, minted here: random bytes sealed for the flow (never
   * stored; the row keeps its hash once a browser continues). Sealing lets any process of the
   * fleet recognise a value it issued, and a value a client made up is never one.
   */
  issueBinding(flowId: string): string {
    return this.seal({ table: 'flows', id: flowId, field: 'binding' }, randomBytes(32).toString('base64url'))
  }

  /** True when `value` is a binding this fleet issued for this flow. */
  isIssuedBinding(flowId: string, value: string | undefined): value is string {
    if (value === undefined) return false
    try {
      this.open({ table: 'flows', id: flowId, field: 'binding' }, value)
      return true
    } catch {
      return false
    }
  }
}

function aad(slot: SecretSlot): string {
  return `${slot.table}:${slot.id}:${slot.field}`
}
