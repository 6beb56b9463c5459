/**
 * The node's persistent identity: an Ed25519 key in `<dataDir>/identity.key`, created on first start, readable by
 * the owner only, and encrypted at rest with the caller's passphrase through libp2p's own AES-GCM cipher
 * (PBKDF2-derived key). The desktop app supplies the passphrase from the OS keystore; `serve` from a file or the
 * environment.
 */
import { AES_GCM } from '@libp2p/crypto/ciphers'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import { fromBase64, toBase64 } from '../../shared/bytes.ts'

export const IDENTITY_FILE = 'identity.key'
export const MIN_PASSPHRASE_LENGTH = 8

export class IdentityError extends Error {
  override readonly name = 'IdentityError'
}

interface IdentityFile {
  format: 'swarm-inspector-identity/1'
  peerId: string
  keyType: 'Ed25519'
  cipher: 'libp2p-aes-gcm-pbkdf2'
  encryptedKey: string
}

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new IdentityError(`the identity passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`)
  }
}

/** Loads the identity from the data directory, creating it on first start. */
export async function loadOrCreateIdentity(
  dataDir: string,
  passphrase: string
): Promise<{ privateKey: PrivateKey; created: boolean }> {
  checkPassphrase(passphrase)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, IDENTITY_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const privateKey = await generateKeyPair('Ed25519')
    const encrypted = await AES_GCM.create().encrypt(privateKeyToProtobuf(privateKey), passphrase)
    const file: IdentityFile = {
      format: 'swarm-inspector-identity/1',
      peerId: peerIdFromPrivateKey(privateKey).toString(),
      keyType: 'Ed25519',
      cipher: 'libp2p-aes-gcm-pbkdf2',
      encryptedKey: toBase64(encrypted)
    }
    // 'wx' refuses to overwrite an identity created concurrently; 0o600 keeps it to the owner.
    await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
    return { privateKey, created: true }
  }

  // Tighten permissions left open by a copy or an unusual umask (POSIX only).
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)

  let file: IdentityFile
  try {
    file = JSON.parse(text) as IdentityFile
  } catch {
    throw new IdentityError(`${path} is not a swarm-inspector identity file`)
  }
  if (file.format !== 'swarm-inspector-identity/1' || typeof file.encryptedKey !== 'string') {
    throw new IdentityError(`${path} is not a swarm-inspector identity file`)
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(
      await AES_GCM.create().decrypt(fromBase64(file.encryptedKey), passphrase)
    )
  } catch {
    throw new IdentityError(`cannot decrypt ${path}: wrong passphrase, or the file is damaged`)
  }
  if (peerIdFromPrivateKey(privateKey).toString() !== file.peerId) {
    throw new IdentityError(`${path} is inconsistent: its key does not match its peer id`)
  }
  return { privateKey, created: false }
}
