import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { toBase64 } from '../../../src/shared/bytes.ts'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../../src/main/peer/identity.ts'
import { tempDir } from '../../helpers/swarm.ts'

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => rm(dir, { recursive: true, force: true }))

test('creates an Ed25519 identity on first start, owner-only and encrypted, and loads it again', async () => {
  const first = await loadOrCreateIdentity(dir, 'a good passphrase')
  expect(first.created).toBe(true)
  expect(first.privateKey.type).toBe('Ed25519')
  const path = join(dir, IDENTITY_FILE)
  expect((await stat(path)).mode & 0o777).toBe(0o600)
  const text = await readFile(path, 'utf8')
  // The key itself never appears in the file, in any common encoding.
  const rawKey = privateKeyToProtobuf(first.privateKey)
  expect(text).not.toContain(toBase64(rawKey))
  expect(text).not.toContain(Buffer.from(rawKey).toString('hex'))

  const second = await loadOrCreateIdentity(dir, 'a good passphrase')
  expect(second.created).toBe(false)
  expect(peerIdFromPrivateKey(second.privateKey).equals(peerIdFromPrivateKey(first.privateKey))).toBe(true)
})

test('refuses a wrong passphrase, a short passphrase and a damaged file', async () => {
  await loadOrCreateIdentity(dir, 'a good passphrase')
  await expect(loadOrCreateIdentity(dir, 'another passphrase')).rejects.toThrow(/wrong passphrase/)
  await expect(loadOrCreateIdentity(dir, 'short')).rejects.toThrow(/at least 8 characters/)
  await writeFile(join(dir, IDENTITY_FILE), 'garbage')
  await expect(loadOrCreateIdentity(dir, 'a good passphrase')).rejects.toThrow(
    /not a swarm-inspector identity/
  )
})
