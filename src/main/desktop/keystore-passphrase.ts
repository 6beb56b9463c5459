/**
 * The identity passphrase of the desktop app: a random secret made on first start, kept encrypted by the OS
 * keystore (Electron's safeStorage: Keychain, DPAPI, libsecret/kwallet) in userData. The user never types it.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(encrypted: Buffer): string
}

export class KeystoreError extends Error {
  override readonly name = 'KeystoreError'
}

export async function keystorePassphrase(path: string, safeStorage: SafeStorageLike): Promise<string> {
  if (!safeStorage.isEncryptionAvailable()) {
    throw new KeystoreError('the OS keystore is not available, so the identity cannot be protected')
  }
  try {
    return safeStorage.decryptString(await readFile(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new KeystoreError(`cannot unlock the identity passphrase in ${path}: ${(err as Error).message}`)
    }
  }
  const passphrase = randomBytes(32).toString('base64url')
  await writeFile(path, safeStorage.encryptString(passphrase), { mode: 0o600, flag: 'wx' })
  return passphrase
}
