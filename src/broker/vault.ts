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
}

function aad(slot: SecretSlot): string {
  return `${slot.table}:${slot.id}:${slot.field}`
}
