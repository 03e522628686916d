/**
 * @module broker/vault
 * Encryption of stored secrets with their row bound in: the additional authenticated data is
 * `<table>:<row id>:<field>`, so a ciphertext moved to another row or field fails to decrypt.
 */
import type { Keyring } from '../crypto/keyring.js'

export type SecretSlot =
  | { table: 'connections'; id: string; field: 'access_token' | 'refresh_token' }
  | { table: 'flows'; id: string; field: 'code_verifier' | 'grant' | 'state' }
  | { table: 'providers'; id: string; field: 'client_secret' }

export class Vault {
  constructor(readonly keyring: Keyring) {}

  seal(slot: SecretSlot, plaintext: string): string {
    return this.keyring.encrypt(plaintext, aad(slot))
  }

  open(slot: SecretSlot, envelope: string): string {
    return this.keyring.decrypt(envelope, aad(slot))
  }
}

function aad(slot: SecretSlot): string {
  return `${slot.table}:${slot.id}:${slot.field}`
}
