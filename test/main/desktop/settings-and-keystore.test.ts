import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { DEFAULT_SETTINGS } from '../../../src/shared/swarm-settings.ts'
import { keystorePassphrase, type SafeStorageLike } from '../../../src/main/desktop/keystore-passphrase.ts'
import { readSettings, writeSettings } from '../../../src/main/desktop/settings-file.ts'
import { tempDir } from '../../helpers/swarm.ts'

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => rm(dir, { recursive: true, force: true }))

test('settings: defaults when absent, round-trip, and field-by-field recovery from a damaged file', async () => {
  const path = join(dir, 'settings.json')
  expect(await readSettings(path)).toEqual({ settings: DEFAULT_SETTINGS, problems: [] })
  const mine = { ...DEFAULT_SETTINGS, mdns: false, bootstrap: ['/ip4/10.0.0.2/tcp/4101/p2p/12D3KooWabc'] }
  await writeSettings(path, mine)
  expect((await stat(path)).mode & 0o777).toBe(0o600)
  expect((await readSettings(path)).settings).toEqual(mine)

  await writeFile(path, JSON.stringify({ ...mine, listen: 'not a list', api: { enabled: 'yes' } }))
  const recovered = await readSettings(path)
  expect(recovered.settings).toEqual({ ...mine, listen: DEFAULT_SETTINGS.listen, api: DEFAULT_SETTINGS.api })
  expect(recovered.problems).toEqual([
    'settings.listen is invalid; using the default',
    'settings.api is invalid; using the default'
  ])

  await writeFile(path, '{ not json')
  expect((await readSettings(path)).problems[0]).toMatch(/not valid JSON/)
})

// A stand-in for Electron's safeStorage: reversible, but never stores the plain text.
const fakeKeystore = (available = true): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
  encryptString: (plain) => Buffer.from(Buffer.from(plain).map((b) => b ^ 0x5a)),
  decryptString: (encrypted) => Buffer.from(encrypted.map((b) => b ^ 0x5a)).toString()
})

test('keystore passphrase: random, created once, stored only encrypted, same on every start', async () => {
  const path = join(dir, 'identity-passphrase.bin')
  const first = await keystorePassphrase(path, fakeKeystore())
  expect(first.length).toBeGreaterThanOrEqual(32)
  expect(await readFile(path, 'utf8')).not.toContain(first)
  expect(await keystorePassphrase(path, fakeKeystore())).toBe(first)
  const other = join(dir, 'other.bin')
  expect(await keystorePassphrase(other, fakeKeystore())).not.toBe(first)
  await expect(keystorePassphrase(join(dir, 'x.bin'), fakeKeystore(false))).rejects.toThrow(
    /keystore is not available/
  )
})
