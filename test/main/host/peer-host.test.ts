import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, expect, test } from 'vitest'
import type { PeerEvent } from '../../../src/shared/events.ts'
import { DEFAULT_SETTINGS, type SwarmSettings } from '../../../src/shared/swarm-settings.ts'
import { createHttpClient } from '../../../src/shared/http-client.ts'
import { PeerHost } from '../../../src/main/host/peer-host.ts'
import { PASSPHRASE, tempDir } from '../../helpers/swarm.ts'

let dir: string
let host: PeerHost
const settings: SwarmSettings = {
  ...DEFAULT_SETTINGS,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  api: { enabled: true, host: '127.0.0.1', port: 0 }
}

beforeEach(async () => {
  dir = await tempDir()
  host = new PeerHost({ dataDir: dir, passphrase: PASSPHRASE, settings, peer: { quic: false } })
  await host.start()
})
afterEach(async () => {
  await host.stop()
  await rm(dir, { recursive: true, force: true })
})

test('a settings change restarts the peer with the same identity, and the event stream follows it', async () => {
  const client = createHttpClient({ baseUrl: host.apiServer!.url })
  const id = await client.ownId({})
  const seen: PeerEvent[] = []
  const controller = new AbortController()
  const following = (async () => {
    for await (const event of client.events({}, { signal: controller.signal })) seen.push(event)
  })().catch(() => {})

  const { settings: next, restarted } = await client.updateSettings({ namespace: 'robots', mdns: false })
  expect(restarted).toBe(true)
  expect(next.namespace).toBe('robots')
  expect(await client.settings({})).toEqual(next)
  expect((await client.nodeInfo({})).namespace).toBe('robots')
  expect(await client.ownId({})).toBe(id)
  await expect.poll(() => seen.some((e) => e.type === 'node:started' && e.peerId === id)).toBe(true)

  expect((await client.updateSettings({ namespace: 'robots' })).restarted).toBe(false)
  controller.abort()
  await following
})

test('invalid settings are refused with a clear error, and settings that do not start roll back', async () => {
  const client = createHttpClient({ baseUrl: host.apiServer!.url })
  await expect(client.updateSettings({ protocol: '/ipfs/kad/1.0.0' })).rejects.toThrow(/public IPFS DHT/)
  expect((await client.settings({})).protocol).toBe(DEFAULT_SETTINGS.protocol)
  await expect(client.updateSettings({ listen: ['/ip4/999.1.1.1/tcp/0'] })).rejects.toThrow(
    /kept the old ones|malformed/
  )
  expect((await client.settings({})).listen).toEqual(settings.listen)
  expect(typeof (await client.ownId({}))).toBe('string')
  await expect(client.updateSettings({ api: { host: '0.0.0.0' } })).rejects.toThrow(/token/)
  // @ts-expect-error unknown fields are refused at run time too
  await expect(client.updateSettings({ colour: 'blue' })).rejects.toThrow(/invalid input/)
})

test('a swarm key set through settings makes the swarm private and never comes back out of the API', async () => {
  const client = createHttpClient({ baseUrl: host.apiServer!.url })
  const key = `/key/swarm/psk/1.0.0/\n/base16/\n${'3c'.repeat(32)}\n`
  const { settings: shown, restarted } = await client.updateSettings({ swarmKey: key })
  expect(restarted).toBe(true)
  expect(shown.swarmKey).toBe('<hidden>')
  expect((await client.settings({})).swarmKey).toBe('<hidden>')
  expect((await client.nodeInfo({})).privateSwarm).toMatch(/^[0-9a-f]{8}$/)
  // Sending the settings back as shown keeps the key; a malformed key is refused and the old one stays.
  expect((await client.updateSettings({ ...shown, mdns: true })).settings.swarmKey).toBe('<hidden>')
  expect((await client.nodeInfo({})).privateSwarm).not.toBeNull()
  await expect(client.updateSettings({ swarmKey: 'nonsense' })).rejects.toThrow(/swarm key: the first line/)
  expect((await client.nodeInfo({})).privateSwarm).not.toBeNull()
  expect((await client.updateSettings({ swarmKey: null })).settings.swarmKey).toBeNull()
  expect((await client.nodeInfo({})).privateSwarm).toBeNull()
})

test('swarm profiles: saved, switchable, each with its own identity and data', async () => {
  const client = createHttpClient({ baseUrl: host.apiServer!.url })
  const homeId = await client.ownId({})
  expect(await client.profiles({})).toMatchObject({
    active: 'default',
    profiles: [{ name: 'default', dataDir: dir }]
  })
  await client.putRecord({ topic: 'where', key: 'k', value: new TextEncoder().encode('home') })

  // A second swarm: its own namespace and key, saved as "field" while still on the default data directory...
  await client.updateSettings({ namespace: 'field-ns' })
  await client.saveProfile({ name: 'field' })
  // ...then the default profile is back to its own settings (kept in sync by updates).
  await client.updateSettings({ namespace: DEFAULT_SETTINGS.namespace })
  expect((await client.profiles({})).profiles.map((p) => p.name)).toEqual(['default', 'field'])

  const switched = await client.switchProfile({ name: 'field' })
  expect(switched.active).toBe('field')
  expect(switched.profiles.find((p) => p.name === 'field')!.dataDir).toBe(`${dir}/profiles/field`)
  expect((await client.nodeInfo({})).namespace).toBe('field-ns')
  const fieldId = await client.ownId({})
  expect(fieldId).not.toBe(homeId) // its own identity, in its own data directory
  expect(await client.records({})).toEqual([]) // and its own records

  await client.switchProfile({ name: 'default' })
  expect(await client.ownId({})).toBe(homeId)
  expect((await client.records({})).map((r) => r.keyDisplay)).toEqual(['k'])
  await expect(client.deleteProfile({ name: 'default' })).rejects.toThrow(
    /switch to another profile|cannot be deleted/
  )
  await expect(client.saveProfile({ name: '../escape' })).rejects.toThrow(/profile name/)
  await expect(client.switchProfile({ name: 'nope' })).rejects.toThrow(/no swarm profile/)
  expect((await client.deleteProfile({ name: 'field' })).profiles.map((p) => p.name)).toEqual(['default'])
})

test('the settings a host starts with win over what its active profile held (serve flags, the settings file)', async () => {
  await host.stop()
  host = new PeerHost({
    dataDir: dir,
    passphrase: PASSPHRASE,
    settings: { ...settings, namespace: 'flags-ns' },
    peer: { quic: false }
  })
  await host.start()
  const client = createHttpClient({ baseUrl: host.apiServer!.url })
  expect((await client.nodeInfo({})).namespace).toBe('flags-ns')
  expect((await client.profiles({})).profiles).toEqual([
    expect.objectContaining({ name: 'default', namespace: 'flags-ns' })
  ])
})
